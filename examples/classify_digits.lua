-- Classifies held-out 8x8 handwritten digits with the bundled models/digits.ember
-- from Lua 5.4 with the ember C module (bindings/lua): prints a few predictions
-- beside the true labels, the accuracy over the whole held-out set, and the
-- latency per image.
--
--   LUA_CPATH="build/bindings/lua/?.so;;" lua5.4 examples/classify_digits.lua \
--       [models/digits.ember [models/digits_test.bin]]
local ember = require "ember"

local model_path = arg[1] or "models/digits.ember"
local data_path = arg[2] or "models/digits_test.bin"

-- A file of records [u32 name_len][name][u32 dtype][u32 rank][i64 dims][data],
-- little-endian (tests/models/README.md). Returns {name = {dtype=, dims=, data=}},
-- data being the raw bytes.
local DTYPES = { "f32", "f16", "i8", "u8", "i32", "i64", "bool" }

local function read_records(path)
  local f = assert(io.open(path, "rb"))
  local bytes = f:read("a")
  f:close()
  local recs, pos = {}, 1
  while pos <= #bytes do
    local name, dtype, rank
    name, pos = string.unpack("<s4", bytes, pos)
    dtype, rank, pos = string.unpack("<I4I4", bytes, pos)
    local dims, count = {}, 1
    for d = 1, rank do
      dims[d], pos = string.unpack("<i8", bytes, pos)
      count = count * dims[d]
    end
    local dt = assert(DTYPES[dtype], "unknown dtype " .. dtype)
    local size = count * ember.dtype_size(dt)
    recs[name] = { dtype = dt, dims = dims, data = bytes:sub(pos, pos + size - 1) }
    pos = pos + size
  end
  return recs
end

local recs = read_records(data_path)
local images, labels = assert(recs.images, "no images"), assert(recs.labels, "no labels")
local count = images.dims[1]
local image_bytes = #images.data // count

local t0 = os.clock()
local model = ember.load(model_path)
local session = model:session{ batch = 1 }   -- every buffer allocated here, once
local load_ms = (os.clock() - t0) * 1e3
local meta, names = model:metadata(), model:labels()
print(string.format("ember %s: model '%s', %d nodes, %d parameters, loaded in %.2f ms",
  ember.version(), meta.name or "?", model:node_count(), model:parameter_count(), load_ms))

local input_name = model:inputs()[1].name
local output_name = model:outputs()[1].name
local times, correct = {}, 0
for i = 1, count do
  local s = os.clock()
  local x = ember.tensor("f32", { 1, 1, 8, 8 },
    images.data:sub((i - 1) * image_bytes + 1, i * image_bytes))
  local probs = session:run{ [input_name] = x }[output_name]
  times[i] = os.clock() - s
  local best = probs:argmax()                 -- 1-based: class best - 1
  local truth = string.unpack("<i8", labels.data, (i - 1) * 8 + 1)
  if best - 1 == truth then correct = correct + 1 end
  if i <= 8 then
    print(string.format("  image %2d: predicted %s (p=%.3f), true %d %s", i - 1,
      names[best] or tostring(best - 1), probs[best], truth,
      best - 1 == truth and "" or " <- wrong"))
  end
end
table.sort(times)
print(string.format("accuracy on %d held-out digits: %.2f%%", count, 100.0 * correct / count))
print(string.format("latency per image (make tensor + run + output tensor, CPU time): " ..
  "median %.2f us, p90 %.2f us", times[count // 2 + 1] * 1e6, times[count * 9 // 10 + 1] * 1e6))
session:close()
model:close()
