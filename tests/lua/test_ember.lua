-- Tests of the Lua binding (bindings/lua).
--   LUA_CPATH="build/bindings/lua/?.so;;" lua5.4 tests/lua/test_ember.lua SRCROOT
-- Exits non-zero if any test fails.

local root = arg[1] or "."
local ember = require "ember"

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

local function check(cond, msg, level)
    if not cond then error(msg or "check failed", (level or 1) + 1) end
end

local function eq(a, b, what)
    if a ~= b then
        error(string.format("%s: expected %s, got %s", what or "value", tostring(b), tostring(a)), 2)
    end
end

-- Calls fn(...) expecting an error whose message contains every plain string in needles.
local function raises(needles, fn, ...)
    local ok, err = pcall(fn, ...)
    if ok then error("expected an error containing '" .. table.concat(needles, "', '") .. "'", 2) end
    err = tostring(err)
    for _, s in ipairs(needles) do
        if not err:find(s, 1, true) then
            error(string.format("error message '%s' does not contain '%s'", err, s), 2)
        end
    end
    return err
end

local function readfile(path)
    local f = assert(io.open(path, "rb"))
    local s = f:read("a")
    f:close()
    return s
end

-- Records of tests/models/README.md: {name=, dtype=, dims={...}, data=bytes}, in file order.
local dtype_by_code = { "f32", "f16", "i8", "u8", "i32", "i64", "bool" }
local function read_records(path)
    local s, pos, out = readfile(path), 1, {}
    while pos <= #s do
        local name, dtype, rank
        name, pos = string.unpack("<s4", s, pos)
        dtype, rank, pos = string.unpack("<I4I4", s, pos)
        local dims, n = {}, 1
        for d = 1, rank do
            dims[d], pos = string.unpack("<i8", s, pos)
            n = n * dims[d]
        end
        local dt = dtype_by_code[dtype]
        local bytes = n * ember.dtype_size(dt)
        local rec = { name = name, dtype = dt, dims = dims, data = s:sub(pos, pos + bytes - 1) }
        rec.tensor = ember.tensor(dt, dims, rec.data)
        pos = pos + bytes
        out[#out + 1] = rec
        out[name] = rec
    end
    return out
end

-- Decodes f32 values straight from the bytes (independent of the binding's tensors).
local function f32_values(bytes)
    local out = {}
    for i = 1, #bytes // 4 do out[i] = string.unpack("<f", bytes, (i - 1) * 4 + 1) end
    return out
end

local function assert_close(t, rec, tol, what)
    eq(t.dtype, rec.dtype, what .. " dtype")
    eq(table.concat(t.shape, ","), table.concat(rec.dims, ","), what .. " shape")
    local want = f32_values(rec.data)
    eq(#t, #want, what .. " numel")
    local worst = 0
    for i = 1, #want do
        local d = math.abs(t[i] - want[i])
        if d > worst then worst = d end
        check(d <= tol * (1 + math.abs(want[i])),
            string.format("%s[%d]: got %.9g, expected %.9g", what, i, t[i], want[i]), 2)
    end
    return worst
end

local models = root .. "/tests/models/"

-- ------------------------------------------------------------------ module

test("version", function()
    eq(ember.version(), "0.1.0", "version")
    eq(ember.VERSION, ember.version(), "VERSION")
    check(type(ember.FORMAT_VERSION) == "number")
end)

-- ----------------------------------------------------------------- tensors

test("tensor construction and fields", function()
    local t = ember.tensor("f32", { 2, 3 })
    eq(t.dtype, "f32")
    eq(#t.shape, 2)
    eq(t.shape[1], 2)
    eq(t.shape[2], 3)
    eq(t.rank, 2)
    eq(#t, 6)
    eq(t:numel(), 6)
    for i = 1, 6 do eq(t[i], 0.0) end
    eq(t[0], nil, "t[0]")
    eq(t[7], nil, "t[7]")
    t[2] = 1.5
    t:set(2, 3, -4)
    eq(t:get(2), 1.5)
    eq(t:get(2, 3), -4.0)
    eq(t[6], -4.0)
    eq(t:get(1, 2), 1.5)
    check(tostring(t):find("ember.tensor(f32, [2,3])", 1, true))
    check(ember.is_tensor(t) and not ember.is_tensor({}))
    local n = 0
    for _ in ipairs(t) do n = n + 1 end
    eq(n, 6, "ipairs count")
end)

test("tensor from flat, nested and byte data", function()
    local a = ember.tensor("i32", { 2, 2 }, { 1, 2, 3, 4 })
    local b = ember.tensor("i32", { 2, 2 }, { { 1, 2 }, { 3, 4 } })
    local c = ember.tensor("i32", { 2, 2 }, string.pack("<i4i4i4i4", 1, 2, 3, 4))
    for i = 1, 4 do
        eq(a[i], i)
        eq(b[i], i)
        eq(c[i], i)
    end
    eq(a:bytes(), c:bytes(), "bytes")
    eq(math.type(a[1]), "integer")
end)

test("nested table round trips for every dtype", function()
    local cases = {
        f32 = { { 1.5, -2.25, 0 }, { 1e-3, 3.0, -7.75 } },
        f16 = { { 1.5, -2.25, 0 }, { 65504, 0.5, -7.75 } },
        i8 = { { -128, 0, 127 }, { 1, -1, 5 } },
        u8 = { { 0, 255, 7 }, { 1, 2, 3 } },
        i32 = { { -2147483648, 2147483647, 0 }, { 4, 5, 6 } },
        i64 = { { math.mininteger, math.maxinteger, 0 }, { -9, 10, 11 } },
        bool = { { true, false, true }, { false, false, true } },
    }
    for dtype, data in pairs(cases) do
        local t = ember.tensor_from(data, dtype)
        eq(t.dtype, dtype)
        eq(table.concat(t.shape, ","), "2,3", dtype .. " shape")
        local back = t:totable()
        for i = 1, 2 do
            for j = 1, 3 do
                local want = data[i][j]
                if dtype == "f32" then want = string.unpack("<f", string.pack("<f", want)) end
                eq(back[i][j], want, string.format("%s [%d][%d]", dtype, i, j))
            end
        end
    end
    -- f16 rounds to nearest even; 1/3 has no exact f16
    local h = ember.tensor_from({ 1 / 3, 1e-8, 70000 }, "f16")
    check(math.abs(h[1] - 1 / 3) < 1e-3 and h[1] ~= 1 / 3, "f16 rounding")
    eq(h[2], 0.0, "f16 underflow")
    eq(h[3], math.huge, "f16 overflow")
    -- rank 3 and rank 1, default dtype f32
    local t3 = ember.tensor_from({ { { 1, 2 }, { 3, 4 } }, { { 5, 6 }, { 7, 8 } } })
    eq(t3.dtype, "f32")
    eq(table.concat(t3.shape, ","), "2,2,2")
    eq(t3:get(2, 1, 2), 6.0)
    eq(t3:totable()[2][2][1], 7.0)
    eq(#ember.tensor_from({ 1, 2, 3 }), 3)
    -- reshape and astype
    local r = t3:reshape({ 4, 2 })
    eq(r:get(4, 2), 8.0)
    local i = ember.tensor_from({ 1.9, -1.9, 3 }):astype("i32")
    eq(i[1], 1)
    eq(i[2], -1)
    eq(ember.tensor_from({ 1, 5, 2 }):argmax(), 2)
end)

test("tensor errors", function()
    raises({ "ragged table", "depth 2", "table[2]", "has 1 elements, expected 2" },
        ember.tensor_from, { { 1, 2 }, { 3 } })
    raises({ "ragged table", "depth 2", "table[2]", "number" }, ember.tensor_from, { { 1, 2 }, 3 })
    raises({ "ragged table", "depth 3", "table[1][2]" }, ember.tensor_from, { { 1, { 2 } }, { 3, 4 } })
    raises({ "expected a number", "string" }, ember.tensor_from, { 1, "x" })
    raises({ "out of range for u8" }, ember.tensor_from, { 256 }, "u8")
    raises({ "out of range for i8" }, ember.tensor, "i8", { 1 }, { -129 })
    raises({ "no integer representation" }, ember.tensor_from, { 1.5 }, "i32")
    raises({ "invalid option 'f64'" }, ember.tensor, "f64", { 1 })
    raises({ "shape[2] must be a non-negative integer" }, ember.tensor, "f32", { 1, -1 })
    raises({ "data table has 3 elements; the shape needs 4" }, ember.tensor, "f32", { 2, 2 }, { 1, 2, 3 })
    raises({ "data string has 3 bytes" }, ember.tensor, "f32", { 1 }, "abc")
    raises({ "table expected" }, ember.tensor_from, 42)
    raises({ "nil, table or string" }, ember.tensor, "f32", { 1 }, 42)
    local t = ember.tensor("f32", { 2, 2 })
    raises({ "index 5 is out of range 1..4" }, t.get, t, 5)
    raises({ "index 3 of dimension 2 is out of range 1..2" }, t.get, t, 1, 3)
    raises({ "3 indices given for a tensor of rank 2" }, t.get, t, 1, 1, 1)
    raises({ "read-only" }, function() t.dtype = "i8" end)
    raises({ "cannot reshape 4 elements to [3]" }, t.reshape, t, { 3 })
    -- methods on the wrong userdata type never crash
    local m = ember.load(models .. "mlp.ember")
    raises({ "ember.tensor expected" }, t.get, m, 1)
    raises({ "ember.model expected" }, m.run, t, {})
end)

-- ------------------------------------------------------------------ models

test("mlp: description", function()
    local m = ember.load(models .. "mlp.ember")
    local ins, outs = m:inputs(), m:outputs()
    eq(#ins, 1)
    eq(ins[1].name, "x")
    eq(ins[1].dtype, "f32")
    eq(ins[1].shape[1], "batch", "symbolic dim")
    eq(ins[1].shape[2], 16)
    eq(#outs, 1)
    eq(outs[1].name, "probs")
    eq(m:metadata().name, "mlp")
    eq(m:metadata("name"), "mlp")
    eq(m:metadata("no such key"), nil)
    local labels = m:labels()
    eq(#labels, 10)
    for i = 1, 10 do eq(labels[i], "c" .. (i - 1)) end
    eq(m:node_count(), 3)
    eq(m:parameter_count(), 16 * 32 + 32 + 32 * 10 + 10)
    local nodes = m:nodes()
    eq(#nodes, 3)
    eq(nodes[1].op_type, "Gemm")
    check(tostring(m):find("mlp", 1, true))
    m:close()
end)

test("mlp: outputs match expected (tensor input, nested-table input)", function()
    local m = ember.load(models .. "mlp.ember")
    local inp = read_records(models .. "mlp.input.bin")
    local exp = read_records(models .. "mlp.expected.bin")
    local out = m:run { x = inp.x.tensor }
    assert_close(out.probs, exp.probs, 1e-5, "probs")
    -- the same input as nested Lua numbers, converted with the input's dtype
    local out2 = m:run { x = inp.x.tensor:totable() }
    assert_close(out2.probs, exp.probs, 1e-5, "probs (table input)")
    -- the output round-trips through tables
    local tt = out.probs:totable()
    eq(#tt, 1)
    eq(#tt[1], 10)
    eq(tt[1][3], out.probs:get(1, 3))
end)

test("mlp: batch 3, and switching batch sizes on one model", function()
    local m = ember.load(models .. "mlp.ember")
    local inp = read_records(models .. "mlp.batch3.input.bin")
    local exp = read_records(models .. "mlp.batch3.expected.bin")
    eq(inp.x.dims[1], 3)
    local out = m:run { x = inp.x.tensor }
    eq(out.probs.shape[1], 3)
    assert_close(out.probs, exp.probs, 1e-5, "batch3 probs")
    -- batch 1 with row 2 of the batch, then batch 3 again
    local rows = inp.x.tensor:totable()
    local one = m:run { x = { rows[2] } }
    for j = 1, 10 do check(math.abs(one.probs:get(1, j) - out.probs:get(2, j)) < 1e-6, "row 2") end
    assert_close(m:run { x = rows }.probs, exp.probs, 1e-5, "batch3 again")
    -- explicit session of batch 3
    local s = m:session { batch = 3, threads = 2 }
    eq(s:inputs()[1].shape[1], 3)
    assert_close(s:run { x = inp.x.tensor }.probs, exp.probs, 1e-5, "session probs")
    raises({ "shape mismatch", "input 'x' must have shape [3,16], got [1,16]" }, s.run, s, { x = { rows[1] } })
    s:close()
end)

test("cnn: outputs match expected", function()
    local m = ember.load(models .. "cnn.ember")
    local inp = read_records(models .. "cnn.input.bin")
    local exp = read_records(models .. "cnn.expected.bin")
    assert_close(m:run { x = inp.x.tensor }.logits, exp.logits, 1e-4, "logits")
    assert_close(m:run { x = inp.x.tensor:totable() }.logits, exp.logits, 1e-4, "logits (table)")
    local s = m:session()
    assert_close(s:run { x = inp.x.tensor }.logits, exp.logits, 1e-4, "logits (session)")
end)

test("other test models through records", function()
    for _, name in ipairs { "ops", "gather", "deep" } do
        local m = ember.load(models .. name .. ".ember")
        local inp = read_records(models .. name .. ".input.bin")
        local exp = read_records(models .. name .. ".expected.bin")
        local args = {}
        for _, r in ipairs(inp) do args[r.name] = r.tensor end
        local out = m:run(args)
        for _, r in ipairs(exp) do
            if r.dtype == "f32" then assert_close(out[r.name], r, 1e-3, name .. "." .. r.name) end
        end
    end
end)

test("load_buffer", function()
    local bytes = readfile(models .. "mlp.ember")
    local m = ember.load_buffer(bytes)
    bytes = nil
    collectgarbage()
    local inp = read_records(models .. "mlp.input.bin")
    local exp = read_records(models .. "mlp.expected.bin")
    assert_close(m:run { x = inp.x.tensor }.probs, exp.probs, 1e-5, "probs from buffer")
    eq(m:labels()[1], "c0")
end)

test("profile", function()
    local m = ember.load(models .. "mlp.ember")
    local s = m:session { profile = true }
    s:run { x = ember.tensor("f32", { 1, 16 }) }
    local p = s:profile()
    eq(#p, 3)
    eq(p[1].op_type, "Gemm")
    check(type(p[1].time_ns) == "number" and p[1].kernel ~= nil)
    local s2 = m:session()
    raises({ "profiling is off" }, s2.profile, s2)
end)

test("forced kernel path", function()
    local m = ember.load(models .. "mlp.ember")
    local s = m:session { profile = true, isa = "generic" }
    s:run { x = ember.tensor("f32", { 1, 16 }) }
    check(s:profile()[1].kernel:sub(1, 8) == "generic ", "profile names the forced path")
    raises({ "isa must be one of" }, m.session, m, { isa = "sse9" })
end)

test("pre-packed file", function()
    local dst = os.tmpname()
    ember.pack(models .. "cnn.ember", dst)
    local x = read_records(models .. "cnn.input.bin").x.tensor
    local want = ember.load(models .. "cnn.ember"):run { x = x }
    local got = ember.load(dst):run { x = x }
    eq(got.logits:bytes(), want.logits:bytes(), "packed outputs")
    raises({ "isa must be one of" }, ember.pack, models .. "cnn.ember", dst, "sse9")
    raises({ "cannot pack", "missing.ember" }, ember.pack, models .. "missing.ember", dst)
    os.remove(dst)
end)

-- ------------------------------------------------------------------ errors

test("run errors are caught before C with clear messages", function()
    local m = ember.load(models .. "mlp.ember")
    raises({ "missing input", "'x'" }, m.run, m, {})
    raises({ "not found", "no input named 'y'", "inputs: x" }, m.run, m, { x = ember.tensor("f32", { 1, 16 }), y = 1 })
    raises({ "input names must be strings" }, m.run, m, { ember.tensor("f32", { 1, 16 }) })
    raises({ "shape mismatch", "input 'x' must have shape [batch,16], got [1,15]" },
        m.run, m, { x = ember.tensor("f32", { 1, 15 }) })
    raises({ "shape mismatch", "got [16]" }, m.run, m, { x = ember.tensor("f32", { 16 }) })
    raises({ "must be >= 1" }, m.run, m, { x = ember.tensor("f32", { 0, 16 }) })
    raises({ "dtype mismatch", "input 'x' must have dtype f32, got a i32 tensor" },
        m.run, m, { x = ember.tensor("i32", { 1, 16 }) })
    raises({ "ragged table" }, m.run, m, { x = { { 1, 2 }, { 3 } } })
    raises({ "must be an ember.tensor or a nested table, got number" }, m.run, m, { x = 3 })
    raises({ "table expected" }, m.run, m, "x")
    raises({ "table expected" }, m.run, m)
    raises({ "unknown option 'batchsize'" }, m.session, m, { batchsize = 2 })
    raises({ "batch must be an integer >= 1" }, m.session, m, { batch = 0 })
    raises({ "table expected" }, m.session, m, 5)
    -- an error from C carries its status and message
    raises({ "creating a session", "not found", "no input has a symbolic dimension named 'nope'" },
        m.session, m, { dims = { nope = 2 } })
    -- the model still works after all that
    eq(#m:run { x = ember.tensor("f32", { 2, 16 }) }.probs, 20)
end)

test("load errors carry the C message", function()
    local missing = root .. "/tests/models/no-such-file.ember"
    raises({ "cannot load", "I/O error", "no-such-file.ember" }, ember.load, missing)
    -- a damaged file: the C verifier's message comes through
    local bytes = readfile(models .. "mlp.ember")
    local bad = bytes:sub(1, 100)
    local err = raises({ "cannot load buffer", "invalid model" }, ember.load_buffer, bad)
    check(#err > 40, "message too short: " .. err)
    local path = os.tmpname()
    local f = assert(io.open(path, "wb"))
    -- header kept, one byte in the middle flipped: the checksum or the verifier refuses it
    local mid = #bytes // 2
    f:write(bytes:sub(1, mid - 1) .. string.char((bytes:byte(mid) + 1) % 256) .. bytes:sub(mid + 1))
    f:close()
    raises({ "cannot load", "invalid model" }, ember.load, path)
    os.remove(path)
    raises({ "cannot load buffer", "invalid model" }, ember.load_buffer, "")
    raises({ "string expected" }, ember.load, nil)
    raises({ "string expected" }, ember.load_buffer, {})
end)

test("closed models and sessions", function()
    local m = ember.load(models .. "mlp.ember")
    local s = m:session()
    m:close()
    m:close() -- twice is safe
    raises({ "the model is closed" }, m.run, m, { x = ember.tensor("f32", { 1, 16 }) })
    raises({ "the model is closed" }, m.inputs, m)
    raises({ "the model is closed" }, m.session, m)
    check(tostring(m):find("closed", 1, true))
    -- a live session keeps the closed model usable until it is closed itself
    eq(#s:run { x = ember.tensor("f32", { 1, 16 }) }.probs, 10)
    s:close()
    s:close()
    raises({ "the session is closed" }, s.run, s, { x = ember.tensor("f32", { 1, 16 }) })
    raises({ "the session is closed" }, s.profile, s)
    check(tostring(s):find("closed", 1, true))
    -- to-be-closed variables
    do
        local m2 <close> = ember.load(models .. "mlp.ember")
        local s2 <close> = m2:session()
        s2:run { x = ember.tensor("f32", { 1, 16 }) }
    end
end)

test("garbage collection of many models, sessions and tensors", function()
    local bytes = readfile(models .. "mlp.ember")
    local x = ember.tensor("f32", { 2, 16 })
    local before = collectgarbage("count")
    for i = 1, 300 do
        local m = (i % 2 == 0) and ember.load(models .. "mlp.ember") or ember.load_buffer(bytes)
        local s = m:session { batch = 2 }
        s:run { x = x }
        m:run { x = x }
        -- a session left alone with its model unreachable
        m:session()
        if i % 3 == 0 then m:close() end -- closed model, open session: freed by the session's __gc
        if i % 5 == 0 then s:close() end
        if i % 50 == 0 then collectgarbage() end
    end
    collectgarbage()
    collectgarbage()
    local after = collectgarbage("count")
    check(after < before + 1024, string.format("Lua heap grew from %.0f to %.0f KiB", before, after))
end)

-- ------------------------------------------------------------------ digits

test("digits: accuracy >= 0.95 on the held-out set", function()
    local m = ember.load(root .. "/models/digits.ember")
    local recs = read_records(root .. "/models/digits_test.bin")
    local images, labels = recs.images, recs.labels
    local n = images.dims[1]
    check(n > 100, "too few images")
    eq(m:inputs()[1].name, "image")
    -- all at once, as one batch
    local probs = m:run { image = images.tensor }.probs
    eq(probs.shape[1], n)
    local k = probs.shape[2]
    local names = m:labels()
    local correct = 0
    for i = 1, n do
        local best = 1
        for j = 2, k do
            if probs:get(i, j) > probs:get(i, best) then best = j end
        end
        if tonumber(names[best]) == labels.tensor[i] then correct = correct + 1 end
    end
    local acc = correct / n
    print(string.format("       digits accuracy %.4f on %d images", acc, n))
    check(acc >= 0.95, "accuracy " .. acc)
    -- one image at a time through a session, as nested tables, agrees with the batch
    local s = m:session()
    local flat = images.tensor
    for i = 1, 10 do
        local img = ember.tensor("f32", { 1, 1, 8, 8 }, flat:bytes():sub((i - 1) * 256 + 1, i * 256))
        local p = s:run { image = img:totable() }.probs
        eq(p:argmax(), (function()
            local best = 1
            for j = 2, k do if probs:get(i, j) > probs:get(i, best) then best = j end end
            return best
        end)(), "image " .. i)
    end
end)

print(string.format("%d passed, %d failed", passed, failed))
os.exit(failed == 0 and 0 or 1, true) -- close the state: every __gc runs
