-- ember_ffi.lua - LuaJIT FFI binding of ember over the same C ABI as the C module.
--
--   local ember = require "ember_ffi"       -- finds libember.so (or $EMBER_LIB)
--   local m = ember.load("model.ember")     -- or ember.load_buffer(bytes)
--   local out = m:run{ x = {{1, 2, 3, ...}} }
--   print(out.probs[1], out.probs.shape[2], #out.probs)
--
-- The API follows the C module (require "ember") for nested-table inputs:
-- ember.version(), ember.load(path), ember.load_buffer(string), m:inputs(),
-- m:outputs(), m:metadata([key]), m:labels(), m:node_count(), m:parameter_count(),
-- m:run{...}, m:session{threads=, batch=, profile=}, s:run{...}, s:profile(),
-- m:close(), s:close(). Inputs are nested Lua tables converted to the input's
-- dtype (f32, i8, u8, i32, i64, bool; f16 inputs are not supported here).
-- Outputs are plain Lua tables holding the elements in flat row-major order
-- (t[i], #t) with fields dtype and shape and methods get(i...), numel(),
-- totable(), argmax().
local ffi = require "ffi"
local bit = require "bit"

ffi.cdef [[
typedef int ember_status;
typedef int ember_dtype;
typedef struct ember_model ember_model;
typedef struct ember_session ember_session;

typedef struct ember_load_options {
    size_t struct_size;
    uint64_t max_arena_bytes;
    uint64_t max_tensor_elements;
    uint32_t max_nodes;
    uint32_t flags;
} ember_load_options;

typedef struct ember_io_info {
    size_t struct_size;
    const char* name;
    ember_dtype dtype;
    int32_t rank;
    int64_t dims[8];
    const char* dim_names[8];
} ember_io_info;

typedef struct ember_session_options {
    size_t struct_size;
    int32_t threads;
    uint32_t flags;
    int64_t batch_size;
    const char* const* dim_names;
    const int64_t* dim_values;
    size_t dim_count;
    void* arena;
    size_t arena_size;
} ember_session_options;

typedef struct ember_tensor {
    size_t struct_size;
    ember_dtype dtype;
    int32_t rank;
    int64_t dims[8];
    void* data;
    size_t bytes;
} ember_tensor;

typedef struct ember_node_profile {
    size_t struct_size;
    const char* name;
    const char* op_type;
    const char* kernel;
    uint64_t time_ns;
} ember_node_profile;

const char* ember_version_string(void);
const char* ember_status_string(ember_status status);
const char* ember_last_error(void);
size_t ember_dtype_size(ember_dtype dtype);
const char* ember_dtype_name(ember_dtype dtype);
ember_status ember_model_load_file(const char* path, const ember_load_options* options, ember_model** out_model);
ember_status ember_model_load_memory(const void* data, size_t size, const ember_load_options* options,
                                     ember_model** out_model);
void ember_model_free(ember_model* model);
size_t ember_model_input_count(const ember_model* model);
size_t ember_model_output_count(const ember_model* model);
ember_status ember_model_input_info(const ember_model* model, size_t index, ember_io_info* info);
ember_status ember_model_output_info(const ember_model* model, size_t index, ember_io_info* info);
ember_status ember_model_input_index(const ember_model* model, const char* name, size_t* out_index);
size_t ember_model_node_count(const ember_model* model);
uint64_t ember_model_parameter_count(const ember_model* model);
const char* ember_model_metadata(const ember_model* model, const char* key);
size_t ember_model_metadata_count(const ember_model* model);
ember_status ember_model_metadata_entry(const ember_model* model, size_t index, const char** out_key,
                                        const char** out_value);
size_t ember_model_label_count(const ember_model* model);
const char* ember_model_label(const ember_model* model, size_t index);
void ember_session_options_init(ember_session_options* options);
ember_status ember_session_create(const ember_model* model, const ember_session_options* options,
                                  ember_session** out_session);
void ember_session_free(ember_session* session);
ember_status ember_model_pack_file(const char* src_path, const char* dst_path,
                                   const ember_session_options* options);
ember_status ember_session_set_input(ember_session* session, size_t index, ember_dtype dtype,
                                     const int64_t* dims, size_t rank, const void* data, size_t bytes);
ember_status ember_session_input(ember_session* session, size_t index, ember_tensor* out);
ember_status ember_session_run(ember_session* session);
ember_status ember_session_output(ember_session* session, size_t index, ember_tensor* out);
ember_status ember_session_node_profile(const ember_session* session, size_t index, ember_node_profile* out);
]]

local C = ffi.load(os.getenv("EMBER_LIB") or "ember")

local M = {}

local SESSION_PROFILE = 1
local dtype_names = { [1] = "f32", [2] = "f16", [3] = "i8", [4] = "u8", [5] = "i32", [6] = "i64", [7] = "bool" }
local ctypes = { f32 = "float", i8 = "int8_t", u8 = "uint8_t", i32 = "int32_t", i64 = "int64_t", bool = "uint8_t" }
local ranges = { i8 = { -128, 127 }, u8 = { 0, 255 }, i32 = { -2147483648, 2147483647 } }

local function raise(what, st)
    error(string.format("ember: %s: %s: %s", what, ffi.string(C.ember_status_string(st)),
        ffi.string(C.ember_last_error())), 3)
end

local function fail(fmt, ...)
    error("ember: " .. string.format(fmt, ...), 3)
end

function M.version() return ffi.string(C.ember_version_string()) end
M.VERSION = M.version()

-- ---------------------------------------------------------------- tensors

local Tensor = {}
Tensor.__index = Tensor

function Tensor:numel() return self.n end

function Tensor:get(...)
    local nargs = select("#", ...)
    local idx = 0
    if nargs == 1 then
        idx = ...
    else
        if nargs ~= #self.shape then fail("%d indices given for a tensor of rank %d", nargs, #self.shape) end
        for d = 1, nargs do
            local i = select(d, ...)
            if i < 1 or i > self.shape[d] then
                fail("index %d of dimension %d is out of range 1..%d", i, d, self.shape[d])
            end
            idx = idx * self.shape[d] + (i - 1)
        end
        idx = idx + 1
    end
    if idx < 1 or idx > self.n then fail("index %d is out of range 1..%d", idx, self.n) end
    return self[idx]
end

function Tensor:totable()
    local pos = 0
    local function build(d)
        if d > #self.shape then
            pos = pos + 1
            return self[pos]
        end
        local t = {}
        for i = 1, self.shape[d] do t[i] = build(d + 1) end
        return t
    end
    return build(1)
end

function Tensor:argmax()
    local best = 1
    for i = 2, self.n do if self[i] > self[best] then best = i end end
    return best
end

function Tensor:__tostring()
    return string.format("ember_ffi.tensor(%s, [%s])", self.dtype, table.concat(self.shape, ","))
end

local function tensor_from_c(out)
    local dtype = dtype_names[out.dtype] or "undefined"
    local shape, n = {}, 1
    for d = 0, out.rank - 1 do
        shape[d + 1] = tonumber(out.dims[d])
        n = n * shape[d + 1]
    end
    local t = setmetatable({ dtype = dtype, shape = shape, n = n }, Tensor)
    local ct = ctypes[dtype]
    if not ct then fail("outputs of dtype %s are not supported by ember_ffi", dtype) end
    local p = ffi.cast(ct .. "*", out.data)
    for i = 0, n - 1 do
        local v = p[i]
        if dtype == "bool" then v = v ~= 0 else v = tonumber(v) end
        t[i + 1] = v
    end
    return t
end

-- Flattens a rectangular nested table into a C array of dtype; returns array, dims, rank, bytes.
local function flatten(name, value, dtype)
    local ct = ctypes[dtype]
    if not ct then fail("input '%s' has dtype %s, which ember_ffi cannot fill", name, dtype) end
    if type(value) ~= "table" then fail("input '%s' must be a nested table, got %s", name, type(value)) end
    local shape, v = {}, value
    while type(v) == "table" do
        shape[#shape + 1] = #v
        if #v == 0 then break end
        v = v[1]
    end
    local n = 1
    for d = 1, #shape do n = n * shape[d] end
    local arr = ffi.new(ct .. "[?]", math.max(n, 1))
    local pos, path = 0, {}
    local range = ranges[dtype]
    local function fill(t, d)
        if d > #shape then
            if type(t) == "table" then
                fail("ragged table: at depth %d, table[%s] is a table where a value was expected", d,
                    table.concat(path, "]["))
            end
            if dtype == "bool" then
                t = (t == true or (type(t) == "number" and t ~= 0)) and 1 or 0
            elseif type(t) ~= "number" then
                fail("input '%s': expected a number at table[%s], got %s", name, table.concat(path, "]["), type(t))
            elseif dtype ~= "f32" then
                if t ~= math.floor(t) then fail("input '%s': %s has no integer representation", name, t) end
                if range and (t < range[1] or t > range[2]) then
                    fail("input '%s': value %d is out of range for %s", name, t, dtype)
                end
            end
            arr[pos] = t
            pos = pos + 1
            return
        end
        if type(t) ~= "table" then
            fail("ragged table: at depth %d, table[%s] is a %s where a table of %d elements was expected", d,
                table.concat(path, "]["), type(t), shape[d])
        end
        if #t ~= shape[d] then
            fail("ragged table: at depth %d, table[%s] has %d elements, expected %d", d, table.concat(path, "]["),
                #t, shape[d])
        end
        for i = 1, #t do
            path[d] = i
            fill(t[i], d + 1)
        end
        path[d] = nil
    end
    fill(value, 1)
    local dims = ffi.new("int64_t[8]")
    for d = 1, #shape do dims[d - 1] = shape[d] end
    return arr, dims, #shape, n * ffi.sizeof(ct), shape
end

-- ----------------------------------------------------------------- models

local Model = {}
Model.__index = Model
local Session = {}
Session.__index = Session

-- m.st holds the session cached by m:run; the model's finalizer frees it before the
-- model (a finalizer must not reference m itself, or m would never be collected).
local function new_model(ptr)
    local st = {}
    local function finalize(p)
        if st.cache then C.ember_session_free(st.cache) end
        st.cache = nil
        C.ember_model_free(p)
    end
    return setmetatable({ ptr = ffi.gc(ptr, finalize), st = st, sessions = 0 }, Model)
end

function M.load(path)
    if type(path) ~= "string" then fail("load: path must be a string, got %s", type(path)) end
    local out = ffi.new("ember_model*[1]")
    local st = C.ember_model_load_file(path, nil, out)
    if st ~= 0 then raise("cannot load '" .. path .. "'", st) end
    return new_model(out[0])
end

-- EMBER_SESSION_ISA_* by name: a session's or a packing's kernel path
local ISA_FLAGS = { generic = 0x100, avx2 = 0x200, avx512 = 0x300, neon = 0x400 }

-- ember.pack(src, dst [, isa]): dst = src with its weights pre-packed for this
-- machine's kernel path, or for isa
function M.pack(src, dst, isa)
    if type(src) ~= "string" or type(dst) ~= "string" then
        fail("pack: src and dst must be strings, got %s and %s", type(src), type(dst))
    end
    local opt = ffi.new("ember_session_options")
    C.ember_session_options_init(opt)
    if isa ~= nil then
        local flag = ISA_FLAGS[isa]
        if not flag then fail("pack: isa must be one of generic, avx2, avx512, neon") end
        opt.flags = flag
    end
    local st = C.ember_model_pack_file(src, dst, opt)
    if st ~= 0 then raise("cannot pack '" .. src .. "' into '" .. dst .. "'", st) end
end

function M.load_buffer(bytes)
    if type(bytes) ~= "string" then fail("load_buffer: expected a string, got %s", type(bytes)) end
    local out = ffi.new("ember_model*[1]")
    local st = C.ember_model_load_memory(bytes, #bytes, nil, out)
    if st ~= 0 then raise("cannot load buffer", st) end
    return new_model(out[0])
end

local function check_model(m)
    if getmetatable(m) ~= Model then fail("expected an ember_ffi model") end
    if m.closed then fail("the model is closed") end
    return m.ptr
end

local function io_info(ptr, output, i)
    local info = ffi.new("ember_io_info")
    info.struct_size = ffi.sizeof("ember_io_info")
    local st = output and C.ember_model_output_info(ptr, i, info) or C.ember_model_input_info(ptr, i, info)
    if st ~= 0 then raise("io info", st) end
    local shape = {}
    for d = 0, info.rank - 1 do
        if info.dims[d] < 0 then
            shape[d + 1] = info.dim_names[d] ~= nil and ffi.string(info.dim_names[d]) or "?"
        else
            shape[d + 1] = tonumber(info.dims[d])
        end
    end
    return { name = ffi.string(info.name), dtype = dtype_names[info.dtype] or "undefined", shape = shape }
end

local function io_list(ptr, output)
    local n = tonumber(output and C.ember_model_output_count(ptr) or C.ember_model_input_count(ptr))
    local out = {}
    for i = 0, n - 1 do out[i + 1] = io_info(ptr, output, i) end
    return out
end

function Model:inputs() return io_list(check_model(self), false) end
function Model:outputs() return io_list(check_model(self), true) end
function Model:node_count() return tonumber(C.ember_model_node_count(check_model(self))) end
function Model:parameter_count() return tonumber(C.ember_model_parameter_count(check_model(self))) end

function Model:metadata(key)
    local ptr = check_model(self)
    if key ~= nil then
        local v = C.ember_model_metadata(ptr, key)
        return v ~= nil and ffi.string(v) or nil
    end
    local out, k, v = {}, ffi.new("const char*[1]"), ffi.new("const char*[1]")
    for i = 0, tonumber(C.ember_model_metadata_count(ptr)) - 1 do
        local st = C.ember_model_metadata_entry(ptr, i, k, v)
        if st ~= 0 then raise("metadata", st) end
        out[ffi.string(k[0])] = ffi.string(v[0])
    end
    return out
end

function Model:labels()
    local ptr = check_model(self)
    local out = {}
    for i = 0, tonumber(C.ember_model_label_count(ptr)) - 1 do
        local s = C.ember_model_label(ptr, i)
        out[i + 1] = s ~= nil and ffi.string(s) or ""
    end
    return out
end

local function release(m)
    if m.st.cache then
        C.ember_session_free(m.st.cache)
        m.st.cache, m.st.key = nil, nil
    end
    if m.sessions == 0 and m.ptr then
        C.ember_model_free(ffi.gc(m.ptr, nil))
        m.ptr = nil
    end
end

function Model:close()
    if getmetatable(self) ~= Model then fail("expected an ember_ffi model") end
    self.closed = true
    release(self)
end

-- Converts every input of the run table; returns a list of {arr, dims, rank, bytes, dtype, shape}.
local function gather_inputs(ptr, args)
    if type(args) ~= "table" then fail("run: expected a table of inputs, got %s", type(args)) end
    local infos = io_list(ptr, false)
    local known = {}
    for _, info in ipairs(infos) do known[info.name] = true end
    for k in pairs(args) do
        if type(k) ~= "string" then fail("run: input names must be strings, got a %s key", type(k)) end
        if not known[k] then fail("run: not found: the model has no input named '%s'", k) end
    end
    local list = {}
    for i, info in ipairs(infos) do
        local v = args[info.name]
        if v == nil then fail("run: missing input: no value given for input '%s'", info.name) end
        local arr, dims, rank, bytes, shape = flatten(info.name, v, info.dtype)
        local function mismatch()
            fail("run: shape mismatch: input '%s' must have shape [%s], got [%s]", info.name,
                table.concat(info.shape, ","), table.concat(shape, ","))
        end
        if rank ~= #info.shape then mismatch() end
        for d = 1, rank do
            if type(info.shape[d]) == "number" and info.shape[d] ~= shape[d] then mismatch() end
        end
        list[i] = { arr = arr, dims = dims, rank = rank, bytes = bytes, info = info, shape = shape }
    end
    return list
end

local function run_session(sptr, mptr, list)
    for i, t in ipairs(list) do
        local dt = 0
        for code, name in pairs(dtype_names) do if name == t.info.dtype then dt = code end end
        local st = C.ember_session_set_input(sptr, i - 1, dt, t.dims, t.rank, t.arr, t.bytes)
        if st ~= 0 then raise("run", st) end
    end
    local st = C.ember_session_run(sptr)
    if st ~= 0 then raise("run", st) end
    local out = {}
    local tensor = ffi.new("ember_tensor")
    for i = 0, tonumber(C.ember_model_output_count(mptr)) - 1 do
        local info = io_info(mptr, true, i)
        ffi.fill(tensor, ffi.sizeof(tensor))
        tensor.struct_size = ffi.sizeof(tensor)
        st = C.ember_session_output(sptr, i, tensor)
        if st ~= 0 then raise("run", st) end
        out[info.name] = tensor_from_c(tensor)
    end
    return out
end

function Model:run(args)
    local ptr = check_model(self)
    local list = gather_inputs(ptr, args)
    -- symbolic dimensions from the shapes given
    local batch, names, values, key = 0, {}, {}, {}
    local seen = {}
    for _, t in ipairs(list) do
        for d, s in ipairs(t.info.shape) do
            if type(s) == "string" then
                if t.shape[d] < 1 then fail("run: input '%s' dimension %d ('%s') must be >= 1", t.info.name, d, s) end
                if d == 1 and batch == 0 then batch = t.shape[1] end
                if seen[s] and seen[s] ~= t.shape[d] then
                    fail("run: dimension '%s' is %d in input '%s' but %d in an earlier input", s, t.shape[d],
                        t.info.name, seen[s])
                elseif not seen[s] and s ~= "?" then
                    seen[s] = t.shape[d]
                    names[#names + 1] = s
                    values[#values + 1] = t.shape[d]
                end
            end
        end
    end
    key[1] = tostring(batch)
    for i = 1, #names do key[#key + 1] = names[i] .. "=" .. values[i] end
    key = table.concat(key, ";")
    local state = self.st
    if not state.cache or state.key ~= key then
        if state.cache then C.ember_session_free(state.cache) end
        state.cache, state.key = nil, nil
        local opt = ffi.new("ember_session_options")
        C.ember_session_options_init(opt)
        opt.batch_size = batch
        local cnames = ffi.new("const char*[?]", #names + 1)
        local cvalues = ffi.new("int64_t[?]", #names + 1)
        for i = 1, #names do
            cnames[i - 1] = names[i] -- the strings stay referenced by names until the call returns
            cvalues[i - 1] = values[i]
        end
        opt.dim_names, opt.dim_values, opt.dim_count = cnames, cvalues, #names
        local out = ffi.new("ember_session*[1]")
        local st = C.ember_session_create(ptr, opt, out)
        if st ~= 0 then raise("creating a session", st) end
        state.cache, state.key = out[0], key
    end
    return run_session(state.cache, ptr, list)
end

function Model:session(opts)
    local ptr = check_model(self)
    local opt = ffi.new("ember_session_options")
    C.ember_session_options_init(opt)
    local profile = false
    if opts ~= nil then
        if type(opts) ~= "table" then fail("session: expected a table of options, got %s", type(opts)) end
        for k in pairs(opts) do
            if k ~= "threads" and k ~= "batch" and k ~= "profile" and k ~= "isa" then
                fail("session: unknown option '%s' (options: threads, batch, profile, isa)", tostring(k))
            end
        end
        if opts.threads ~= nil then opt.threads = opts.threads end
        if opts.batch ~= nil then
            if type(opts.batch) ~= "number" or opts.batch < 1 then fail("session: batch must be an integer >= 1") end
            opt.batch_size = opts.batch
        end
        if opts.profile then
            profile = true
            opt.flags = SESSION_PROFILE
        end
        if opts.isa ~= nil then
            -- EMBER_SESSION_ISA_*: the session's forced kernel path
            local isa = ISA_FLAGS[opts.isa]
            if not isa then fail("session: isa must be one of generic, avx2, avx512, neon") end
            opt.flags = bit.bor(opt.flags, isa)
        end
    end
    local out = ffi.new("ember_session*[1]")
    local st = C.ember_session_create(ptr, opt, out)
    if st ~= 0 then raise("creating a session", st) end
    self.sessions = self.sessions + 1
    -- the session's finalizer releases it and then the model if it was closed meanwhile
    local model = self
    local s = setmetatable({ model = model, profile_on = profile }, Session)
    s.ptr = ffi.gc(out[0], function(p)
        C.ember_session_free(p)
        model.sessions = model.sessions - 1
        if model.closed then release(model) end
    end)
    return s
end

local function check_session(s)
    if getmetatable(s) ~= Session then fail("expected an ember_ffi session") end
    if not s.ptr then fail("the session is closed") end
    return s.ptr
end

function Session:close()
    if getmetatable(self) ~= Session then fail("expected an ember_ffi session") end
    if self.ptr then
        C.ember_session_free(ffi.gc(self.ptr, nil))
        self.ptr = nil
        local m = self.model
        m.sessions = m.sessions - 1
        if m.closed then release(m) end
    end
end

function Session:run(args)
    local sptr = check_session(self)
    local mptr = self.model.ptr
    local list = gather_inputs(mptr, args)
    local want = ffi.new("ember_tensor")
    for i, t in ipairs(list) do
        want.struct_size = ffi.sizeof(want)
        local st = C.ember_session_input(sptr, i - 1, want)
        if st ~= 0 then raise("run", st) end
        local expected = {}
        for d = 0, want.rank - 1 do expected[d + 1] = tonumber(want.dims[d]) end
        if table.concat(expected, ",") ~= table.concat(t.shape, ",") then
            fail("run: shape mismatch: input '%s' must have shape [%s], got [%s]", t.info.name,
                table.concat(expected, ","), table.concat(t.shape, ","))
        end
    end
    return run_session(sptr, mptr, list)
end

function Session:profile()
    local sptr = check_session(self)
    if not self.profile_on then fail("profiling is off: create the session with m:session{profile = true}") end
    local out, p = {}, ffi.new("ember_node_profile")
    for i = 0, tonumber(C.ember_model_node_count(self.model.ptr)) - 1 do
        p.struct_size = ffi.sizeof(p)
        local st = C.ember_session_node_profile(sptr, i, p)
        if st ~= 0 then raise("profile", st) end
        out[i + 1] = {
            name = p.name ~= nil and ffi.string(p.name) or "",
            op_type = p.op_type ~= nil and ffi.string(p.op_type) or "",
            kernel = p.kernel ~= nil and ffi.string(p.kernel) or "",
            time_ns = tonumber(p.time_ns),
        }
    end
    return out
end

return M
