-- Tests of the LuaJIT FFI binding (bindings/lua/ember_ffi.lua).
--   EMBER_LIB=build/libember.so LUA_PATH="bindings/lua/?.lua;;" luajit tests/lua/test_ember_ffi.lua SRCROOT
local root = arg[1] or "."
local ffi = require "ffi"
local ember = require "ember_ffi"

local passed, failed = 0, 0
local function test(name, fn)
    local ok, err = xpcall(fn, debug.traceback)
    if ok then
        passed = passed + 1
        print("ok     " .. name)
    else
        failed = failed + 1
        print("FAILED " .. name .. "\n" .. tostring(err))
    end
end
local function check(cond, msg) if not cond then error(msg or "check failed", 2) end end
local function eq(a, b, what)
    if a ~= b then error(string.format("%s: expected %s, got %s", what or "value", tostring(b), tostring(a)), 2) end
end
local function raises(needles, fn, ...)
    local ok, err = pcall(fn, ...)
    if ok then error("expected an error containing '" .. table.concat(needles, "', '") .. "'", 2) end
    for _, s in ipairs(needles) do
        if not tostring(err):find(s, 1, true) then
            error(string.format("error message '%s' does not contain '%s'", tostring(err), s), 2)
        end
    end
end

local function readfile(path)
    local f = assert(io.open(path, "rb"))
    local s = f:read("*a")
    f:close()
    return s
end

-- Records of tests/models/README.md as {name=, dtype=, dims=, values = flat Lua array}.
local ctype_by_code = { "float", nil, "int8_t", "uint8_t", "int32_t", "int64_t", "uint8_t" }
local size_by_code = { 4, 2, 1, 1, 4, 8, 1 }
local function read_records(path)
    local s = readfile(path)
    local base = ffi.cast("const uint8_t*", s)
    local pos, out = 0, {}
    local function u32() local v = ffi.cast("const uint32_t*", base + pos)[0]; pos = pos + 4; return tonumber(v) end
    while pos < #s do
        local len = u32()
        local name = s:sub(pos + 1, pos + len)
        pos = pos + len
        local code, rank = u32(), u32()
        local dims, n = {}, 1
        for d = 1, rank do
            dims[d] = tonumber(ffi.cast("const int64_t*", base + pos)[0])
            pos = pos + 8
            n = n * dims[d]
        end
        local p = ffi.cast(ctype_by_code[code] .. "*", base + pos)
        local values = {}
        for i = 0, n - 1 do values[i + 1] = tonumber(p[i]) end
        pos = pos + n * size_by_code[code]
        local rec = { name = name, dims = dims, values = values }
        out[#out + 1] = rec
        out[name] = rec
    end
    return out
end

local function nest(values, dims)
    local pos = 0
    local function build(d)
        if d > #dims then
            pos = pos + 1
            return values[pos]
        end
        local t = {}
        for i = 1, dims[d] do t[i] = build(d + 1) end
        return t
    end
    return build(1)
end

local function assert_close(t, rec, tol, what)
    eq(table.concat(t.shape, ","), table.concat(rec.dims, ","), what .. " shape")
    eq(#t, #rec.values, what .. " numel")
    for i = 1, #t do
        check(math.abs(t[i] - rec.values[i]) <= tol * (1 + math.abs(rec.values[i])),
            string.format("%s[%d]: got %.9g, expected %.9g", what, i, t[i], rec.values[i]))
    end
end

local models = root .. "/tests/models/"

test("version and description", function()
    eq(ember.version(), "0.1.0")
    local m = ember.load(models .. "mlp.ember")
    local x = m:inputs()[1]
    eq(x.name, "x")
    eq(x.dtype, "f32")
    eq(x.shape[1], "batch")
    eq(x.shape[2], 16)
    eq(m:outputs()[1].name, "probs")
    eq(m:metadata().name, "mlp")
    eq(m:metadata("name"), "mlp")
    eq(#m:labels(), 10)
    eq(m:labels()[10], "c9")
    eq(m:node_count(), 3)
    eq(m:parameter_count(), 874)
end)

test("mlp batch 1 and batch 3 match expected", function()
    local m = ember.load(models .. "mlp.ember")
    for _, prefix in ipairs { "mlp", "mlp.batch3" } do
        local inp = read_records(models .. prefix .. ".input.bin")
        local exp = read_records(models .. prefix .. ".expected.bin")
        local out = m:run { x = nest(inp.x.values, inp.x.dims) }
        assert_close(out.probs, exp.probs, 1e-5, prefix)
        eq(out.probs:totable()[1][2], out.probs:get(1, 2))
    end
    local s = m:session { batch = 3, profile = true }
    local inp = read_records(models .. "mlp.batch3.input.bin")
    local exp = read_records(models .. "mlp.batch3.expected.bin")
    assert_close(s:run { x = nest(inp.x.values, inp.x.dims) }.probs, exp.probs, 1e-5, "session")
    eq(#s:profile(), 3)
    eq(s:profile()[1].op_type, "Gemm")
    -- a forced kernel path: the same results, and the profile names it
    local g = m:session { batch = 3, profile = true, isa = "generic" }
    assert_close(g:run { x = nest(inp.x.values, inp.x.dims) }.probs, exp.probs, 1e-5, "generic path")
    eq(g:profile()[1].kernel:sub(1, 8), "generic ")
end)

test("cnn matches expected; load_buffer", function()
    local m = ember.load_buffer(readfile(models .. "cnn.ember"))
    local inp = read_records(models .. "cnn.input.bin")
    local exp = read_records(models .. "cnn.expected.bin")
    assert_close(m:run { x = nest(inp.x.values, inp.x.dims) }.logits, exp.logits, 1e-4, "logits")
end)

test("pre-packed file", function()
    local dst = os.tmpname()
    ember.pack(models .. "cnn.ember", dst)
    local inp = read_records(models .. "cnn.input.bin")
    local want = ember.load(models .. "cnn.ember"):run { x = nest(inp.x.values, inp.x.dims) }
    local got = ember.load(dst):run { x = nest(inp.x.values, inp.x.dims) }
    local function same(a, b)
        if type(a) ~= "table" then return a == b end
        if #a ~= #b then return false end
        for i = 1, #a do if not same(a[i], b[i]) then return false end end
        return true
    end
    check(same(got.logits, want.logits), "packed outputs differ")
    raises({ "isa must be one of" }, ember.pack, models .. "cnn.ember", dst, "sse9")
    raises({ "cannot pack", "missing.ember" }, ember.pack, models .. "missing.ember", dst)
    os.remove(dst)
end)

test("errors", function()
    local m = ember.load(models .. "mlp.ember")
    raises({ "missing input", "'x'" }, m.run, m, {})
    raises({ "no input named 'y'" }, m.run, m, { y = {} })
    raises({ "shape mismatch", "[batch,16]", "[1,2]" }, m.run, m, { x = { { 1, 2 } } })
    raises({ "ragged table", "depth 2" }, m.run, m, { x = { { 1, 2 }, { 3 } } })
    raises({ "expected a table of inputs" }, m.run, m, 5)
    raises({ "cannot load", "I/O error", "no-such.ember" }, ember.load, models .. "no-such.ember")
    raises({ "cannot load buffer", "invalid model" }, ember.load_buffer, readfile(models .. "mlp.ember"):sub(1, 100))
    local s = m:session()
    m:close()
    m:close()
    raises({ "the model is closed" }, m.inputs, m)
    local x = {}
    for i = 1, 16 do x[i] = 0 end
    eq(#s:run { x = { x } }.probs, 10)
    s:close()
    s:close()
    raises({ "the session is closed" }, s.run, s, { x = { x } })
end)

test("gc of many models and sessions", function()
    local x = {}
    for i = 1, 16 do x[i] = i / 16 end
    for i = 1, 200 do
        local m = ember.load(models .. "mlp.ember")
        m:run { x = { x } }
        local s = m:session()
        s:run { x = { x } }
        if i % 3 == 0 then m:close() end
        if i % 20 == 0 then collectgarbage() end
    end
    collectgarbage()
    collectgarbage()
end)

test("digits accuracy >= 0.95", function()
    local m = ember.load(root .. "/models/digits.ember")
    local recs = read_records(root .. "/models/digits_test.bin")
    local n = recs.images.dims[1]
    local probs = m:run { image = nest(recs.images.values, recs.images.dims) }.probs
    local correct = 0
    for i = 1, n do
        local best = 1
        for j = 2, 10 do if probs:get(i, j) > probs:get(i, best) then best = j end end
        if best - 1 == recs.labels.values[i] then correct = correct + 1 end
    end
    print(string.format("       digits accuracy %.4f on %d images", correct / n, n))
    check(correct / n >= 0.95)
end)

print(string.format("%d passed, %d failed", passed, failed))
os.exit(failed == 0 and 0 or 1)
