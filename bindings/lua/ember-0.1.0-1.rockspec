-- LuaRocks spec for the Lua binding of ember. It builds bindings/lua/ember_lua.c
-- against an installed libember (ember.h and libember.so, e.g. from
-- `meson install`, found through EMBER_INCDIR / EMBER_LIBDIR):
--
--   luarocks make bindings/lua/ember-0.1.0-1.rockspec              # from a source checkout
--   luarocks make bindings/lua/ember-0.1.0-1.rockspec EMBER_DIR=/opt/ember
--
-- The meson build (-Dlua=enabled) builds the same module with the library linked in.
rockspec_format = "3.0"
package = "ember"
version = "0.1.0-1"
source = {
   url = "git+https://github.com/ember-inference/ember.git",
   tag = "v0.1.0",
}
description = {
   summary = "Lua binding of ember, an embeddable CPU inference library",
   detailed = [[
      Loads .ember models (converted from ONNX) and runs them on the CPU:
      local m = require("ember").load("model.ember"); local out = m:run{x = {{...}}}.
      Tensors as userdata or nested tables, sessions, profiles, metadata and labels.
   ]],
   homepage = "https://github.com/ember-inference/ember",
   license = "Apache-2.0",
}
dependencies = {
   "lua >= 5.4, < 5.5",
}
external_dependencies = {
   EMBER = {
      header = "ember.h",
      library = "ember",
   },
}
build = {
   type = "builtin",
   modules = {
      ember = {
         sources = { "bindings/lua/ember_lua.c" },
         libraries = { "ember" },
         incdirs = { "$(EMBER_INCDIR)" },
         libdirs = { "$(EMBER_LIBDIR)" },
      },
      ember_ffi = "bindings/lua/ember_ffi.lua",
   },
}
