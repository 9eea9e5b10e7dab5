/*
 * ember_lua.c - Lua 5.4 binding of ember (require "ember").
 *
 *   local ember = require "ember"
 *   local m = ember.load("model.ember")        -- or ember.load_buffer(bytes)
 *   local out = m:run{ x = {{1, 2, 3, ...}} }  -- nested tables or ember tensors
 *   print(out.probs:get(1), out.probs.shape[2])
 *
 * Userdata types:
 *   ember.model    a loaded model; caches one session for m:run, sized from the
 *                  batch of the inputs given.
 *   ember.session  a session made by m:session{...}; holds a reference to its
 *                  model (uservalue 1), so the model stays alive while it lives.
 *   ember.tensor   dtype, shape and a copy of the data (inline in the userdata).
 *
 * Errors are raised as Lua errors "ember: <status name>: <message>" where the
 * message is ember_last_error(); argument mistakes are caught here before any C
 * call, with messages naming the input, the expected and the given value.
 */
#include <lauxlib.h>
#include <lua.h>

#include <limits.h>
#include <stdarg.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ember.h"

#define MODEL_MT "ember.model"
#define SESSION_MT "ember.session"
#define TENSOR_MT "ember.tensor"

#if defined(__GNUC__)
#define EMBER_LUA_EXPORT __attribute__((visibility("default")))
#else
#define EMBER_LUA_EXPORT
#endif

/* ------------------------------------------------------------- helpers */

/* luaL_error with C printf formats (lua_pushfstring knows no %lld or %zu). */
#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static int fail(lua_State* L, const char* fmt, ...) {
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    luaL_where(L, 1);
    lua_pushstring(L, buf);
    lua_concat(L, 2);
    return lua_error(L);
}

static int raise_status(lua_State* L, const char* what, ember_status st) {
    const char* msg = ember_last_error();
    if (what)
        return fail(L, "ember: %s: %s: %s", what, ember_status_string(st), msg);
    return fail(L, "ember: %s: %s", ember_status_string(st), msg);
}

static const char* const dtype_names[] = {"f32", "f16", "i8", "u8", "i32", "i64", "bool", NULL};
static const ember_dtype dtype_values[] = {EMBER_DTYPE_F32, EMBER_DTYPE_F16, EMBER_DTYPE_I8, EMBER_DTYPE_U8,
                                           EMBER_DTYPE_I32, EMBER_DTYPE_I64, EMBER_DTYPE_BOOL};

static ember_dtype check_dtype(lua_State* L, int arg) {
    return dtype_values[luaL_checkoption(L, arg, NULL, dtype_names)];
}

/* IEEE half <-> float, round to nearest even. */
static float half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1f, man = h & 0x3ffu, bits;
    if (exp == 0) {
        if (man == 0) {
            bits = sign;
        } else { /* subnormal */
            float f = ldexpf((float)man, -24);
            return sign ? -f : f;
        }
    } else if (exp == 31) {
        bits = sign | 0x7f800000u | (man << 13);
    } else {
        bits = sign | ((exp + 112) << 23) | (man << 13);
    }
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

static uint16_t float_to_half(float f) {
    uint32_t x;
    memcpy(&x, &f, sizeof x);
    uint16_t sign = (uint16_t)((x >> 16) & 0x8000u);
    uint32_t exp = (x >> 23) & 0xffu, man = x & 0x7fffffu;
    if (exp == 0xff) return (uint16_t)(sign | 0x7c00u | (man ? 0x200u : 0));
    int32_t e = (int32_t)exp - 127 + 15;
    if (e >= 31) return (uint16_t)(sign | 0x7c00u);
    if (e <= 0) {
        if (e < -10) return sign;
        man |= 0x800000u;
        uint32_t shift = (uint32_t)(14 - e);
        uint32_t h = man >> shift, rem = man & ((1u << shift) - 1), half = 1u << (shift - 1);
        if (rem > half || (rem == half && (h & 1u))) h++;
        return (uint16_t)(sign | h);
    }
    uint32_t h = ((uint32_t)e << 10) | (man >> 13), rem = man & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (h & 1u))) h++; /* may carry into the exponent: correct */
    return (uint16_t)(sign | h);
}

/* -------------------------------------------------------------- tensors */

typedef struct ltensor {
    ember_dtype dtype;
    int rank;
    int64_t dims[EMBER_MAX_RANK];
    size_t numel;
    size_t bytes;
    unsigned char* data; /* points just after the struct, inside the userdata */
} ltensor;

static ltensor* check_tensor(lua_State* L, int arg) { return luaL_checkudata(L, arg, TENSOR_MT); }

static ltensor* to_tensor(lua_State* L, int idx) { return luaL_testudata(L, idx, TENSOR_MT); }

static void format_shape(char* buf, size_t size, int rank, const int64_t* dims) {
    size_t n = 0;
    n += (size_t)snprintf(buf + n, size - n, "[");
    for (int d = 0; d < rank && n < size; d++)
        n += (size_t)snprintf(buf + n, size - n, d ? ",%lld" : "%lld", (long long)dims[d]);
    if (n < size) snprintf(buf + n, size - n, "]");
}

/* Pushes a new zeroed tensor. Dims must be validated by the caller (>= 0). */
static ltensor* push_tensor(lua_State* L, ember_dtype dtype, int rank, const int64_t* dims) {
    size_t numel = 1, esize = ember_dtype_size(dtype);
    for (int d = 0; d < rank; d++) {
        if (dims[d] < 0) fail(L, "ember: negative dimension %lld", (long long)dims[d]);
        if (dims[d] && numel > (SIZE_MAX / 2) / esize / (size_t)dims[d])
            fail(L, "ember: tensor shape is too large");
        numel *= (size_t)dims[d];
    }
    size_t bytes = numel * esize;
    ltensor* t = lua_newuserdatauv(L, sizeof(ltensor) + bytes, 0);
    t->dtype = dtype;
    t->rank = rank;
    memset(t->dims, 0, sizeof t->dims);
    for (int d = 0; d < rank; d++) t->dims[d] = dims[d];
    t->numel = numel;
    t->bytes = bytes;
    t->data = (unsigned char*)(t + 1);
    memset(t->data, 0, bytes);
    luaL_setmetatable(L, TENSOR_MT);
    return t;
}

static void push_element(lua_State* L, const ltensor* t, size_t i) {
    const unsigned char* p = t->data + i * ember_dtype_size(t->dtype);
    switch (t->dtype) {
    case EMBER_DTYPE_F32: { float v; memcpy(&v, p, 4); lua_pushnumber(L, (lua_Number)v); break; }
    case EMBER_DTYPE_F16: { uint16_t v; memcpy(&v, p, 2); lua_pushnumber(L, (lua_Number)half_to_float(v)); break; }
    case EMBER_DTYPE_I8: lua_pushinteger(L, (int8_t)*p); break;
    case EMBER_DTYPE_U8: lua_pushinteger(L, *p); break;
    case EMBER_DTYPE_I32: { int32_t v; memcpy(&v, p, 4); lua_pushinteger(L, v); break; }
    case EMBER_DTYPE_I64: { int64_t v; memcpy(&v, p, 8); lua_pushinteger(L, (lua_Integer)v); break; }
    case EMBER_DTYPE_BOOL: lua_pushboolean(L, *p != 0); break;
    default: lua_pushnil(L); break;
    }
}

/* Stores the Lua value at idx into element i; raises on a value the dtype cannot hold.
 * where describes the element for messages (e.g. "element 3"). */
static void store_element(lua_State* L, ltensor* t, size_t i, int idx, const char* where) {
    unsigned char* p = t->data + i * ember_dtype_size(t->dtype);
    int type = lua_type(L, idx);
    if (t->dtype == EMBER_DTYPE_BOOL) {
        if (type == LUA_TBOOLEAN) *p = (unsigned char)lua_toboolean(L, idx);
        else if (type == LUA_TNUMBER) *p = lua_tonumber(L, idx) != 0;
        else fail(L, "ember: %s: expected a boolean or number for a bool tensor, got %s", where,
                        luaL_typename(L, idx));
        return;
    }
    if (type != LUA_TNUMBER)
        fail(L, "ember: %s: expected a number for a %s tensor, got %s", where, ember_dtype_name(t->dtype),
                   luaL_typename(L, idx));
    if (t->dtype == EMBER_DTYPE_F32) {
        float v = (float)lua_tonumber(L, idx);
        memcpy(p, &v, 4);
        return;
    }
    if (t->dtype == EMBER_DTYPE_F16) {
        uint16_t v = float_to_half((float)lua_tonumber(L, idx));
        memcpy(p, &v, 2);
        return;
    }
    int isint = 0;
    lua_Integer v = lua_tointegerx(L, idx, &isint);
    if (!isint)
        fail(L, "ember: %s: %s has no integer representation for a %s tensor", where, lua_tostring(L, idx),
                   ember_dtype_name(t->dtype));
    lua_Integer lo = 0, hi = 0;
    switch (t->dtype) {
    case EMBER_DTYPE_I8: lo = INT8_MIN; hi = INT8_MAX; break;
    case EMBER_DTYPE_U8: lo = 0; hi = UINT8_MAX; break;
    case EMBER_DTYPE_I32: lo = INT32_MIN; hi = INT32_MAX; break;
    default: lo = LUA_MININTEGER; hi = LUA_MAXINTEGER; break;
    }
    if (v < lo || v > hi)
        fail(L, "ember: %s: value %lld is out of range for %s", where, (long long)v, ember_dtype_name(t->dtype));
    switch (t->dtype) {
    case EMBER_DTYPE_I8: { int8_t x = (int8_t)v; memcpy(p, &x, 1); break; }
    case EMBER_DTYPE_U8: *p = (unsigned char)v; break;
    case EMBER_DTYPE_I32: { int32_t x = (int32_t)v; memcpy(p, &x, 4); break; }
    default: { int64_t x = (int64_t)v; memcpy(p, &x, 8); break; }
    }
}

/* Reads a shape table at arg into dims; returns the rank. */
static int check_shape(lua_State* L, int arg, int64_t* dims) {
    luaL_checktype(L, arg, LUA_TTABLE);
    lua_Integer rank = (lua_Integer)lua_rawlen(L, arg);
    if (rank > EMBER_MAX_RANK)
        fail(L, "ember: shape has %lld dimensions; at most %d are supported", (long long)rank, EMBER_MAX_RANK);
    for (int d = 0; d < rank; d++) {
        lua_geti(L, arg, d + 1);
        int isint = 0;
        lua_Integer v = lua_tointegerx(L, -1, &isint);
        if (!isint || v < 0)
            fail(L, "ember: shape[%d] must be a non-negative integer, got %s", d + 1,
                       lua_isnumber(L, -1) ? lua_tostring(L, -1) : luaL_typename(L, -1));
        dims[d] = (int64_t)v;
        lua_pop(L, 1);
    }
    return (int)rank;
}

/* Infers the shape of a rectangular nested table at idx (absolute). */
static int infer_shape(lua_State* L, int idx, int64_t* dims) {
    int rank = 0;
    lua_pushvalue(L, idx);
    while (lua_type(L, -1) == LUA_TTABLE) {
        if (rank == EMBER_MAX_RANK)
            fail(L, "ember: nested table is deeper than %d levels", EMBER_MAX_RANK);
        size_t n = lua_rawlen(L, -1);
        dims[rank++] = (int64_t)n;
        if (n == 0) break;
        lua_geti(L, -1, 1);
        lua_remove(L, -2);
    }
    lua_pop(L, 1);
    return rank;
}

static const char* path_str(char* buf, size_t size, const int64_t* path, int depth) {
    size_t n = (size_t)snprintf(buf, size, "table");
    for (int d = 0; d < depth && n < size; d++) n += (size_t)snprintf(buf + n, size - n, "[%lld]", (long long)path[d]);
    return buf;
}

/* Fills t from the nested table at idx (absolute) at depth (0-based), checking
 * that it is rectangular. path holds 1-based indices of the enclosing tables. */
static void fill_nested(lua_State* L, int idx, ltensor* t, int depth, size_t* pos, int64_t* path) {
    char where[160];
    if (depth == t->rank) {
        path_str(where, sizeof where, path, depth);
        if (lua_type(L, idx) == LUA_TTABLE)
            fail(L, "ember: ragged table: at depth %d, %s is a table where a value was expected", depth + 1,
                       where);
        store_element(L, t, (*pos)++, idx, where);
        return;
    }
    if (lua_type(L, idx) != LUA_TTABLE)
        fail(L, "ember: ragged table: at depth %d, %s is a %s where a table of %lld elements was expected",
                   depth + 1, path_str(where, sizeof where, path, depth), luaL_typename(L, idx),
                   (long long)t->dims[depth]);
    size_t n = lua_rawlen(L, idx);
    if ((int64_t)n != t->dims[depth])
        fail(L, "ember: ragged table: at depth %d, %s has %lld elements, expected %lld", depth + 1,
                   path_str(where, sizeof where, path, depth), (long long)n, (long long)t->dims[depth]);
    luaL_checkstack(L, 4, "nested table");
    for (size_t i = 1; i <= n; i++) {
        path[depth] = (int64_t)i;
        lua_geti(L, idx, (lua_Integer)i);
        fill_nested(L, lua_gettop(L), t, depth + 1, pos, path);
        lua_pop(L, 1);
    }
}

/* Converts the nested table at idx into a new tensor of dtype (pushed). */
static ltensor* tensor_from_table(lua_State* L, int idx, ember_dtype dtype) {
    idx = lua_absindex(L, idx);
    int64_t dims[EMBER_MAX_RANK];
    int rank = infer_shape(L, idx, dims);
    ltensor* t = push_tensor(L, dtype, rank, dims);
    int64_t path[EMBER_MAX_RANK];
    size_t pos = 0;
    fill_nested(L, idx, t, 0, &pos, path);
    return t;
}

/* ember.tensor(dtype, shape [, data]) where data is nil, a flat table of numel
 * values, a nested table of that shape, or a string of raw little-endian bytes. */
static int l_tensor(lua_State* L) {
    ember_dtype dtype = check_dtype(L, 1);
    int64_t dims[EMBER_MAX_RANK];
    int rank = check_shape(L, 2, dims);
    int type = lua_type(L, 3);
    if (type != LUA_TNONE && type != LUA_TNIL && type != LUA_TTABLE && type != LUA_TSTRING)
        return luaL_typeerror(L, 3, "nil, table or string");
    ltensor* t = push_tensor(L, dtype, rank, dims);
    if (type == LUA_TSTRING) {
        size_t len;
        const char* s = lua_tolstring(L, 3, &len);
        if (len != t->bytes)
            return fail(L, "ember: data string has %zu bytes; a %s tensor of this shape needs %zu", len,
                              ember_dtype_name(dtype), t->bytes);
        memcpy(t->data, s, len);
    } else if (type == LUA_TTABLE) {
        size_t n = lua_rawlen(L, 3);
        lua_geti(L, 3, 1);
        int nested = lua_type(L, -1) == LUA_TTABLE;
        lua_pop(L, 1);
        if (!nested || rank <= 1) {
            if (n != t->numel)
                return fail(L, "ember: data table has %zu elements; the shape needs %zu", n, t->numel);
            char where[48];
            for (size_t i = 0; i < n; i++) {
                lua_geti(L, 3, (lua_Integer)i + 1);
                snprintf(where, sizeof where, "data[%zu]", i + 1);
                store_element(L, t, i, lua_gettop(L), where);
                lua_pop(L, 1);
            }
        } else {
            int64_t path[EMBER_MAX_RANK];
            size_t pos = 0;
            fill_nested(L, 3, t, 0, &pos, path);
        }
    }
    return 1;
}

/* ember.tensor_from(nested_table [, dtype = "f32"]) */
static int l_tensor_from(lua_State* L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    ember_dtype dtype = lua_isnoneornil(L, 2) ? EMBER_DTYPE_F32 : check_dtype(L, 2);
    tensor_from_table(L, 1, dtype);
    return 1;
}

/* Flat 0-based index from the arguments from..to (1-based flat index, or one per dimension). */
static size_t tensor_index(lua_State* L, const ltensor* t, int from, int to) {
    int n = to - from + 1;
    if (n == 1) {
        lua_Integer i = luaL_checkinteger(L, from);
        if (i < 1 || (lua_Unsigned)i > t->numel)
            fail(L, "ember: index %lld is out of range 1..%zu", (long long)i, t->numel);
        return (size_t)(i - 1);
    }
    if (n != t->rank)
        fail(L, "ember: %d indices given for a tensor of rank %d (give one flat index or one per dimension)",
                   n, t->rank);
    size_t flat = 0;
    for (int d = 0; d < n; d++) {
        lua_Integer i = luaL_checkinteger(L, from + d);
        if (i < 1 || i > t->dims[d])
            fail(L, "ember: index %lld of dimension %d is out of range 1..%lld", (long long)i, d + 1,
                       (long long)t->dims[d]);
        flat = flat * (size_t)t->dims[d] + (size_t)(i - 1);
    }
    return flat;
}

static int t_get(lua_State* L) {
    ltensor* t = check_tensor(L, 1);
    size_t i = tensor_index(L, t, 2, lua_gettop(L));
    push_element(L, t, i);
    return 1;
}

static int t_set(lua_State* L) {
    ltensor* t = check_tensor(L, 1);
    int top = lua_gettop(L);
    if (top < 3) return fail(L, "ember: tensor:set(index..., value) needs an index and a value");
    size_t i = tensor_index(L, t, 2, top - 1);
    char where[48];
    snprintf(where, sizeof where, "element %zu", i + 1);
    store_element(L, t, i, top, where);
    return 0;
}

static int t_numel(lua_State* L) {
    lua_pushinteger(L, (lua_Integer)check_tensor(L, 1)->numel);
    return 1;
}

static void push_shape(lua_State* L, int rank, const int64_t* dims) {
    lua_createtable(L, rank, 0);
    for (int d = 0; d < rank; d++) {
        lua_pushinteger(L, (lua_Integer)dims[d]);
        lua_rawseti(L, -2, d + 1);
    }
}

static void push_nested(lua_State* L, const ltensor* t, int depth, size_t* pos) {
    if (depth == t->rank) {
        push_element(L, t, (*pos)++);
        return;
    }
    luaL_checkstack(L, 4, "tensor:totable");
    lua_createtable(L, (int)t->dims[depth], 0);
    for (int64_t i = 0; i < t->dims[depth]; i++) {
        push_nested(L, t, depth + 1, pos);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
}

/* t:totable() -> nested tables following the shape (a plain value for rank 0). */
static int t_totable(lua_State* L) {
    ltensor* t = check_tensor(L, 1);
    size_t pos = 0;
    push_nested(L, t, 0, &pos);
    return 1;
}

/* t:flat() -> flat array of every element. */
static int t_flat(lua_State* L) {
    ltensor* t = check_tensor(L, 1);
    if (t->numel > INT_MAX) return fail(L, "ember: tensor too large for a table");
    lua_createtable(L, (int)t->numel, 0);
    for (size_t i = 0; i < t->numel; i++) {
        push_element(L, t, i);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return 1;
}

/* t:bytes() -> raw little-endian data as a string. */
static int t_bytes(lua_State* L) {
    ltensor* t = check_tensor(L, 1);
    lua_pushlstring(L, (const char*)t->data, t->bytes);
    return 1;
}

/* t:argmax() -> 1-based flat index of the largest element (first on ties). */
static int t_argmax(lua_State* L) {
    ltensor* t = check_tensor(L, 1);
    if (t->numel == 0) return fail(L, "ember: argmax of an empty tensor");
    size_t best = 0;
    lua_Number bv = 0;
    for (size_t i = 0; i < t->numel; i++) {
        push_element(L, t, i);
        lua_Number v = lua_type(L, -1) == LUA_TBOOLEAN ? (lua_Number)lua_toboolean(L, -1) : lua_tonumber(L, -1);
        lua_pop(L, 1);
        if (i == 0 || v > bv) {
            bv = v;
            best = i;
        }
    }
    lua_pushinteger(L, (lua_Integer)best + 1);
    return 1;
}

/* t:reshape(shape) -> new tensor with the same data and dtype. */
static int t_reshape(lua_State* L) {
    ltensor* t = check_tensor(L, 1);
    int64_t dims[EMBER_MAX_RANK];
    int rank = check_shape(L, 2, dims);
    size_t n = 1;
    for (int d = 0; d < rank; d++) n *= (size_t)dims[d];
    if (n != t->numel) {
        char b[160];
        format_shape(b, sizeof b, rank, dims);
        return fail(L, "ember: cannot reshape %zu elements to %s", t->numel, b);
    }
    ltensor* r = push_tensor(L, t->dtype, rank, dims);
    memcpy(r->data, t->data, t->bytes);
    return 1;
}

/* t:astype(dtype) -> converted copy. */
static int t_astype(lua_State* L) {
    ltensor* t = check_tensor(L, 1);
    ember_dtype dtype = check_dtype(L, 2);
    ltensor* r = push_tensor(L, dtype, t->rank, t->dims);
    int ri = lua_gettop(L);
    char where[48];
    for (size_t i = 0; i < t->numel; i++) {
        push_element(L, t, i);
        if (lua_type(L, -1) == LUA_TBOOLEAN && dtype != EMBER_DTYPE_BOOL) {
            int b = lua_toboolean(L, -1);
            lua_pop(L, 1);
            lua_pushinteger(L, b);
        }
        if (lua_type(L, -1) == LUA_TNUMBER && dtype != EMBER_DTYPE_F32 && dtype != EMBER_DTYPE_F16 &&
            dtype != EMBER_DTYPE_BOOL && !lua_isinteger(L, -1)) {
            lua_Number v = lua_tonumber(L, -1);
            lua_pop(L, 1);
            lua_pushnumber(L, v < 0 ? ceil(v) : floor(v)); /* truncate like a C cast */
        }
        snprintf(where, sizeof where, "element %zu", i + 1);
        store_element(L, r, i, lua_gettop(L), where);
        lua_pop(L, 1);
    }
    lua_settop(L, ri);
    return 1;
}

static int t_len(lua_State* L) { return t_numel(L); }

static int t_tostring(lua_State* L) {
    ltensor* t = check_tensor(L, 1);
    char b[200];
    format_shape(b, sizeof b, t->rank, t->dims);
    lua_pushfstring(L, "ember.tensor(%s, %s)", ember_dtype_name(t->dtype), b);
    return 1;
}

/* t[i] (flat, 1-based; nil out of range so that ipairs works), t.dtype, t.shape, t.rank, methods. */
static int t_index(lua_State* L) {
    ltensor* t = check_tensor(L, 1);
    if (lua_type(L, 2) == LUA_TNUMBER) {
        int isint = 0;
        lua_Integer i = lua_tointegerx(L, 2, &isint);
        if (isint && i >= 1 && (lua_Unsigned)i <= t->numel) push_element(L, t, (size_t)(i - 1));
        else lua_pushnil(L);
        return 1;
    }
    const char* key = lua_tostring(L, 2);
    if (key && lua_type(L, 2) == LUA_TSTRING) {
        if (strcmp(key, "dtype") == 0) {
            lua_pushstring(L, ember_dtype_name(t->dtype));
            return 1;
        }
        if (strcmp(key, "shape") == 0) {
            push_shape(L, t->rank, t->dims);
            return 1;
        }
        if (strcmp(key, "rank") == 0) {
            lua_pushinteger(L, t->rank);
            return 1;
        }
    }
    /* methods live in the upvalue table */
    lua_pushvalue(L, 2);
    lua_rawget(L, lua_upvalueindex(1));
    return 1;
}

static int t_newindex(lua_State* L) {
    ltensor* t = check_tensor(L, 1);
    if (lua_type(L, 2) != LUA_TNUMBER)
        return fail(L, "ember: tensor fields are read-only; assign elements with t[i] = v or t:set()");
    size_t i = tensor_index(L, t, 2, 2);
    char where[48];
    snprintf(where, sizeof where, "element %zu", i + 1);
    store_element(L, t, i, 3, where);
    return 0;
}

/* --------------------------------------------------------------- models */

typedef struct lmodel {
    ember_model* model;
    ember_session* cache; /* session of m:run */
    char* cache_key;      /* the dims it was made for */
    int closed;           /* closed by the user or collected */
    int sessions;         /* live ember.session objects; the model is freed when 0 and closed */
} lmodel;

typedef struct lsession {
    ember_session* session;
    lmodel* owner; /* kept alive by uservalue 1 */
    int profile;
} lsession;

static void model_release(lmodel* m) {
    ember_session_free(m->cache);
    m->cache = NULL;
    free(m->cache_key);
    m->cache_key = NULL;
    if (m->sessions == 0 && m->model) {
        ember_model_free(m->model);
        m->model = NULL;
    }
}

static lmodel* check_model(lua_State* L, int arg) {
    lmodel* m = luaL_checkudata(L, arg, MODEL_MT);
    if (m->closed || !m->model) fail(L, "ember: the model is closed");
    return m;
}

static lsession* check_session(lua_State* L, int arg) {
    lsession* s = luaL_checkudata(L, arg, SESSION_MT);
    if (!s->session) fail(L, "ember: the session is closed");
    return s;
}

static lmodel* push_model(lua_State* L) {
    lmodel* m = lua_newuserdatauv(L, sizeof *m, 0);
    memset(m, 0, sizeof *m);
    luaL_setmetatable(L, MODEL_MT);
    return m;
}

static int l_load(lua_State* L) {
    const char* path = luaL_checkstring(L, 1);
    lmodel* m = push_model(L);
    ember_status st = ember_model_load_file(path, NULL, &m->model);
    if (st != EMBER_OK) return fail(L, "ember: cannot load '%s': %s: %s", path, ember_status_string(st),
                                          ember_last_error());
    return 1;
}

/* The EMBER_SESSION_ISA_* flag named by the string at idx ("generic", "avx2",
 * "avx512", "neon"); raises an error naming `what` for anything else. */
static uint32_t check_isa(lua_State* L, int idx, const char* what) {
    static const char* const isas[] = {"generic", "avx2", "avx512", "neon"};
    static const uint32_t flags[] = {EMBER_SESSION_ISA_GENERIC, EMBER_SESSION_ISA_AVX2,
                                     EMBER_SESSION_ISA_AVX512, EMBER_SESSION_ISA_NEON};
    const char* v = lua_type(L, idx) == LUA_TSTRING ? lua_tostring(L, idx) : "";
    for (size_t i = 0; i < 4; i++)
        if (strcmp(v, isas[i]) == 0) return flags[i];
    fail(L, "ember: %s: isa must be one of generic, avx2, avx512, neon", what);
    return 0;
}

/* ember.pack(src, dst [, isa]): dst = src with its weights pre-packed for this
 * machine's kernel path, or for isa ("generic", "avx2", "avx512", "neon"). */
static int l_pack(lua_State* L) {
    const char* src = luaL_checkstring(L, 1);
    const char* dst = luaL_checkstring(L, 2);
    ember_session_options opt;
    ember_session_options_init(&opt);
    if (!lua_isnoneornil(L, 3)) opt.flags |= check_isa(L, 3, "pack");
    ember_status st = ember_model_pack_file(src, dst, &opt);
    if (st != EMBER_OK)
        return fail(L, "ember: cannot pack '%s' into '%s': %s: %s", src, dst, ember_status_string(st),
                    ember_last_error());
    return 0;
}

static int l_load_buffer(lua_State* L) {
    size_t len;
    const char* data = luaL_checklstring(L, 1, &len);
    lmodel* m = push_model(L);
    ember_status st = ember_model_load_memory(data, len, NULL, &m->model);
    if (st != EMBER_OK) return raise_status(L, "cannot load buffer", st);
    return 1;
}

static int m_close(lua_State* L) {
    lmodel* m = luaL_checkudata(L, 1, MODEL_MT);
    m->closed = 1;
    model_release(m);
    return 0;
}

static int m_tostring(lua_State* L) {
    lmodel* m = luaL_checkudata(L, 1, MODEL_MT);
    if (m->closed || !m->model) {
        lua_pushstring(L, "ember.model (closed)");
    } else {
        const char* name = ember_model_metadata(m->model, "name");
        lua_pushfstring(L, "ember.model '%s' (%d nodes)", name ? name : "?", (int)ember_model_node_count(m->model));
    }
    return 1;
}

static void push_io_info(lua_State* L, const ember_io_info* info) {
    lua_createtable(L, 0, 3);
    lua_pushstring(L, info->name);
    lua_setfield(L, -2, "name");
    lua_pushstring(L, ember_dtype_name(info->dtype));
    lua_setfield(L, -2, "dtype");
    lua_createtable(L, info->rank, 0);
    for (int d = 0; d < info->rank; d++) {
        if (info->dims[d] < 0) lua_pushstring(L, info->dim_names[d] ? info->dim_names[d] : "?");
        else lua_pushinteger(L, (lua_Integer)info->dims[d]);
        lua_rawseti(L, -2, d + 1);
    }
    lua_setfield(L, -2, "shape");
}

static void get_info(lua_State* L, const ember_model* model, int output, size_t i, ember_io_info* info) {
    memset(info, 0, sizeof *info);
    info->struct_size = sizeof *info;
    ember_status st = output ? ember_model_output_info(model, i, info) : ember_model_input_info(model, i, info);
    if (st != EMBER_OK) raise_status(L, output ? "output info" : "input info", st);
}

static int push_io_list(lua_State* L, const ember_model* model, int output) {
    size_t n = output ? ember_model_output_count(model) : ember_model_input_count(model);
    lua_createtable(L, (int)n, 0);
    for (size_t i = 0; i < n; i++) {
        ember_io_info info;
        get_info(L, model, output, i, &info);
        push_io_info(L, &info);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return 1;
}

static int m_inputs(lua_State* L) { return push_io_list(L, check_model(L, 1)->model, 0); }
static int m_outputs(lua_State* L) { return push_io_list(L, check_model(L, 1)->model, 1); }

static int m_metadata(lua_State* L) {
    lmodel* m = check_model(L, 1);
    size_t n = ember_model_metadata_count(m->model);
    if (!lua_isnoneornil(L, 2)) { /* m:metadata(key) -> value or nil */
        const char* v = ember_model_metadata(m->model, luaL_checkstring(L, 2));
        if (v) lua_pushstring(L, v);
        else lua_pushnil(L);
        return 1;
    }
    lua_createtable(L, 0, (int)n);
    for (size_t i = 0; i < n; i++) {
        const char *k = NULL, *v = NULL;
        ember_status st = ember_model_metadata_entry(m->model, i, &k, &v);
        if (st != EMBER_OK) return raise_status(L, "metadata", st);
        lua_pushstring(L, v);
        lua_setfield(L, -2, k);
    }
    return 1;
}

static int m_labels(lua_State* L) {
    lmodel* m = check_model(L, 1);
    size_t n = ember_model_label_count(m->model);
    lua_createtable(L, (int)n, 0);
    for (size_t i = 0; i < n; i++) {
        const char* s = ember_model_label(m->model, i);
        lua_pushstring(L, s ? s : "");
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return 1;
}

static int m_node_count(lua_State* L) {
    lua_pushinteger(L, (lua_Integer)ember_model_node_count(check_model(L, 1)->model));
    return 1;
}

static int m_parameter_count(lua_State* L) {
    lua_pushinteger(L, (lua_Integer)ember_model_parameter_count(check_model(L, 1)->model));
    return 1;
}

static int m_nodes(lua_State* L) {
    lmodel* m = check_model(L, 1);
    size_t n = ember_model_node_count(m->model);
    lua_createtable(L, (int)n, 0);
    for (size_t i = 0; i < n; i++) {
        ember_node_info info;
        memset(&info, 0, sizeof info);
        info.struct_size = sizeof info;
        ember_status st = ember_model_node_info(m->model, i, &info);
        if (st != EMBER_OK) return raise_status(L, "node info", st);
        lua_createtable(L, 0, 4);
        lua_pushstring(L, info.name);
        lua_setfield(L, -2, "name");
        lua_pushstring(L, info.op_type);
        lua_setfield(L, -2, "op_type");
        lua_pushinteger(L, info.input_count);
        lua_setfield(L, -2, "input_count");
        lua_pushinteger(L, info.output_count);
        lua_setfield(L, -2, "output_count");
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return 1;
}

/* ---------------------------------------------------------- running */

/* Checks that every key of the table at arg names an input of the model. */
static void check_input_names(lua_State* L, int arg, const ember_model* model) {
    lua_pushnil(L);
    while (lua_next(L, arg)) {
        lua_pop(L, 1);
        if (lua_type(L, -1) != LUA_TSTRING)
            fail(L, "ember: run: input names must be strings, got a %s key", luaL_typename(L, -1));
        size_t idx;
        const char* name = lua_tostring(L, -1);
        if (ember_model_input_index(model, name, &idx) != EMBER_OK) {
            luaL_Buffer b;
            luaL_buffinit(L, &b);
            size_t n = ember_model_input_count(model);
            for (size_t i = 0; i < n; i++) {
                ember_io_info info;
                get_info(L, model, 0, i, &info);
                if (i) luaL_addstring(&b, ", ");
                luaL_addstring(&b, info.name);
            }
            luaL_pushresult(&b);
            fail(L, "ember: run: %s: the model has no input named '%s' (inputs: %s)", ember_status_string(EMBER_ERROR_NOT_FOUND), name, lua_tostring(L, -1));
        }
    }
}

/* Converts the run argument value of input info (at stack index idx) into a tensor
 * of the input's dtype, leaving it on the stack. */
static ltensor* input_tensor(lua_State* L, int idx, const ember_io_info* info) {
    ltensor* t = to_tensor(L, idx);
    if (t) {
        if (t->dtype != info->dtype)
            fail(L, "ember: run: %s: input '%s' must have dtype %s, got a %s tensor (convert with t:astype('%s'))",
                       ember_status_string(EMBER_ERROR_DTYPE_MISMATCH), info->name, ember_dtype_name(info->dtype), ember_dtype_name(t->dtype),
                       ember_dtype_name(info->dtype));
        lua_pushvalue(L, idx);
        return t;
    }
    if (lua_type(L, idx) == LUA_TNIL) fail(L, "ember: run: %s: no value given for input '%s'", ember_status_string(EMBER_ERROR_MISSING_INPUT), info->name);
    if (lua_type(L, idx) != LUA_TTABLE)
        fail(L, "ember: run: input '%s' must be an ember.tensor or a nested table, got %s", info->name,
                   luaL_typename(L, idx));
    return tensor_from_table(L, idx, info->dtype);
}

static void shape_error(lua_State* L, const char* name, const char* expected, const ltensor* t) {
    char got[160];
    format_shape(got, sizeof got, t->rank, t->dims);
    fail(L, "ember: run: %s: input '%s' must have shape %s, got %s", ember_status_string(EMBER_ERROR_SHAPE_MISMATCH), name, expected, got);
}

static void format_info_shape(char* buf, size_t size, const ember_io_info* info) {
    size_t n = 0;
    n += (size_t)snprintf(buf + n, size - n, "[");
    for (int d = 0; d < info->rank && n < size; d++) {
        if (info->dims[d] < 0)
            n += (size_t)snprintf(buf + n, size - n, d ? ",%s" : "%s", info->dim_names[d] ? info->dim_names[d] : "?");
        else
            n += (size_t)snprintf(buf + n, size - n, d ? ",%lld" : "%lld", (long long)info->dims[d]);
    }
    if (n < size) snprintf(buf + n, size - n, "]");
}

/* Sets the tensors (at stack slots base..base+n-1) as the inputs, runs, and
 * pushes a table of outputs. */
static int run_session(lua_State* L, ember_session* s, const ember_model* model, int base, size_t n_in) {
    for (size_t i = 0; i < n_in; i++) {
        ltensor* t = to_tensor(L, base + (int)i);
        ember_status st = ember_session_set_input(s, i, t->dtype, t->dims, (size_t)t->rank, t->data, t->bytes);
        if (st != EMBER_OK) return raise_status(L, "run", st);
    }
    ember_status st = ember_session_run(s);
    if (st != EMBER_OK) return raise_status(L, "run", st);
    size_t n_out = ember_model_output_count(model);
    lua_createtable(L, 0, (int)n_out);
    for (size_t i = 0; i < n_out; i++) {
        ember_io_info info;
        get_info(L, model, 1, i, &info);
        ember_tensor out;
        memset(&out, 0, sizeof out);
        out.struct_size = sizeof out;
        st = ember_session_output(s, i, &out);
        if (st != EMBER_OK) return raise_status(L, "run", st);
        ltensor* t = push_tensor(L, out.dtype, out.rank, out.dims);
        if (t->bytes != out.bytes)
            return fail(L, "ember: run: output '%s' has %zu bytes, expected %zu", info.name, out.bytes,
                              t->bytes);
        memcpy(t->data, out.data, out.bytes);
        lua_setfield(L, -2, info.name);
    }
    return 1;
}

/* m:run{name = tensor_or_table, ...}: makes (or reuses) a session sized from the
 * symbolic dimensions of the inputs given. */
static int m_run(lua_State* L) {
    lmodel* m = check_model(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    check_input_names(L, 2, m->model);
    size_t n_in = ember_model_input_count(m->model);
    luaL_checkstack(L, (int)n_in + 8, "too many inputs");
    int base = lua_gettop(L) + 1;
    /* symbol values found in the inputs */
    const char* sym_names[64];
    int64_t sym_values[64];
    size_t n_sym = 0;
    int64_t batch = 0;
    for (size_t i = 0; i < n_in; i++) {
        ember_io_info info;
        get_info(L, m->model, 0, i, &info);
        lua_getfield(L, 2, info.name);
        ltensor* t = input_tensor(L, lua_gettop(L), &info);
        lua_remove(L, -2);
        char expected[200];
        format_info_shape(expected, sizeof expected, &info);
        if (t->rank != info.rank) shape_error(L, info.name, expected, t);
        for (int d = 0; d < info.rank; d++) {
            if (info.dims[d] >= 0) {
                if (t->dims[d] != info.dims[d]) shape_error(L, info.name, expected, t);
                continue;
            }
            if (t->dims[d] < 1)
                fail(L, "ember: run: input '%s' dimension %d ('%s') is %lld; it must be >= 1", info.name, d + 1,
                           info.dim_names[d] ? info.dim_names[d] : "?", (long long)t->dims[d]);
            if (d == 0 && batch == 0) batch = t->dims[0];
            if (!info.dim_names[d]) continue;
            size_t k = 0;
            while (k < n_sym && strcmp(sym_names[k], info.dim_names[d]) != 0) k++;
            if (k < n_sym) {
                if (sym_values[k] != t->dims[d])
                    fail(L, "ember: run: dimension '%s' is %lld in input '%s' but %lld in an earlier input",
                               sym_names[k], (long long)t->dims[d], info.name, (long long)sym_values[k]);
            } else if (n_sym < 64) {
                sym_names[n_sym] = info.dim_names[d];
                sym_values[n_sym++] = t->dims[d];
            }
        }
    }
    /* the cache key: batch and each symbol value */
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    lua_pushfstring(L, "%I", (lua_Integer)batch);
    luaL_addvalue(&b);
    for (size_t k = 0; k < n_sym; k++) {
        lua_pushfstring(L, ";%s=%I", sym_names[k], (lua_Integer)sym_values[k]);
        luaL_addvalue(&b);
    }
    luaL_pushresult(&b);
    const char* key = lua_tostring(L, -1);
    if (!m->cache || !m->cache_key || strcmp(m->cache_key, key) != 0) {
        ember_session_free(m->cache);
        m->cache = NULL;
        free(m->cache_key);
        m->cache_key = NULL;
        ember_session_options opt;
        ember_session_options_init(&opt);
        opt.batch_size = batch;
        opt.dim_names = sym_names;
        opt.dim_values = sym_values;
        opt.dim_count = n_sym;
        ember_status st = ember_session_create(m->model, &opt, &m->cache);
        if (st != EMBER_OK) return raise_status(L, "creating a session", st);
        size_t key_len = strlen(key) + 1;
        m->cache_key = malloc(key_len);
        if (!m->cache_key) return fail(L, "ember: out of memory");
        memcpy(m->cache_key, key, key_len);
    }
    lua_pop(L, 1);
    return run_session(L, m->cache, m->model, base, n_in);
}

/* m:session{threads=, batch=, profile=, dims={name=value}, isa="generic"|"avx2"|"avx512"|"neon"} */
static int m_session(lua_State* L) {
    lmodel* m = check_model(L, 1);
    ember_session_options opt;
    ember_session_options_init(&opt);
    const char* names[64];
    int64_t values[64];
    size_t n = 0;
    int profile = 0;
    if (!lua_isnoneornil(L, 2)) {
        luaL_checktype(L, 2, LUA_TTABLE);
        lua_pushnil(L);
        while (lua_next(L, 2)) {
            const char* k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
            if (!k || (strcmp(k, "threads") && strcmp(k, "batch") && strcmp(k, "profile") &&
                       strcmp(k, "dims") && strcmp(k, "isa")))
                fail(L, "ember: session: unknown option '%s' (options: threads, batch, profile, dims, isa)",
                           k ? k : luaL_typename(L, -2));
            lua_pop(L, 1);
        }
        lua_getfield(L, 2, "threads");
        if (!lua_isnil(L, -1)) {
            int isint = 0;
            lua_Integer v = lua_tointegerx(L, -1, &isint);
            if (!isint || v < 0 || v > 1024) fail(L, "ember: session: threads must be an integer in 0..1024");
            opt.threads = (int32_t)v;
        }
        lua_getfield(L, 2, "batch");
        if (!lua_isnil(L, -1)) {
            int isint = 0;
            lua_Integer v = lua_tointegerx(L, -1, &isint);
            if (!isint || v < 1) fail(L, "ember: session: batch must be an integer >= 1");
            opt.batch_size = (int64_t)v;
        }
        lua_getfield(L, 2, "profile");
        profile = lua_toboolean(L, -1);
        if (profile) opt.flags |= EMBER_SESSION_PROFILE;
        lua_getfield(L, 2, "isa");
        if (!lua_isnil(L, -1)) opt.flags |= check_isa(L, lua_gettop(L), "session");
        lua_getfield(L, 2, "dims");
        if (!lua_isnil(L, -1)) {
            if (!lua_istable(L, -1)) fail(L, "ember: session: dims must be a table of name = value");
            int di = lua_gettop(L);
            lua_pushnil(L);
            while (lua_next(L, di)) {
                int isint = 0;
                lua_Integer v = lua_tointegerx(L, -1, &isint);
                if (lua_type(L, -2) != LUA_TSTRING || !isint || v < 1)
                    fail(L, "ember: session: dims must map names to integers >= 1");
                if (n == 64) fail(L, "ember: session: too many dims");
                names[n] = lua_tostring(L, -2); /* anchored by the dims table */
                values[n++] = (int64_t)v;
                lua_pop(L, 1);
            }
        }
        opt.dim_names = names;
        opt.dim_values = values;
        opt.dim_count = n;
    }
    lsession* s = lua_newuserdatauv(L, sizeof *s, 1);
    memset(s, 0, sizeof *s);
    luaL_setmetatable(L, SESSION_MT);
    ember_status st = ember_session_create(m->model, &opt, &s->session);
    if (st != EMBER_OK) return raise_status(L, "creating a session", st);
    s->owner = m;
    s->profile = profile;
    m->sessions++;
    lua_pushvalue(L, 1);
    lua_setiuservalue(L, -2, 1);
    return 1;
}

static int s_close(lua_State* L) {
    lsession* s = luaL_checkudata(L, 1, SESSION_MT);
    if (s->session) {
        ember_session_free(s->session);
        s->session = NULL;
        lmodel* m = s->owner;
        s->owner = NULL;
        if (m) {
            m->sessions--;
            if (m->closed) model_release(m);
        }
    }
    return 0;
}

static int s_tostring(lua_State* L) {
    lsession* s = luaL_checkudata(L, 1, SESSION_MT);
    lua_pushstring(L, s->session ? "ember.session" : "ember.session (closed)");
    return 1;
}

/* Resolved input/output descriptions of a session: {name=, dtype=, shape={...}}. */
static int session_io(lua_State* L, int output) {
    lsession* s = check_session(L, 1);
    const ember_model* model = s->owner->model;
    size_t n = output ? ember_model_output_count(model) : ember_model_input_count(model);
    lua_createtable(L, (int)n, 0);
    for (size_t i = 0; i < n; i++) {
        ember_io_info info;
        get_info(L, model, output, i, &info);
        ember_tensor t;
        memset(&t, 0, sizeof t);
        t.struct_size = sizeof t;
        if (!output) {
            ember_status st = ember_session_input(s->session, i, &t);
            if (st != EMBER_OK) return raise_status(L, "session input", st);
            info.rank = t.rank;
            for (int d = 0; d < t.rank; d++) info.dims[d] = t.dims[d];
        }
        push_io_info(L, &info);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return 1;
}

static int s_inputs(lua_State* L) { return session_io(L, 0); }
static int s_outputs(lua_State* L) { return session_io(L, 1); }

/* s:run{name = tensor_or_table, ...}: shapes must equal the session's resolved shapes. */
static int s_run(lua_State* L) {
    lsession* s = check_session(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    const ember_model* model = s->owner->model;
    check_input_names(L, 2, model);
    size_t n_in = ember_model_input_count(model);
    luaL_checkstack(L, (int)n_in + 8, "too many inputs");
    int base = lua_gettop(L) + 1;
    for (size_t i = 0; i < n_in; i++) {
        ember_io_info info;
        get_info(L, model, 0, i, &info);
        ember_tensor want;
        memset(&want, 0, sizeof want);
        want.struct_size = sizeof want;
        ember_status st = ember_session_input(s->session, i, &want);
        if (st != EMBER_OK) return raise_status(L, "run", st);
        lua_getfield(L, 2, info.name);
        ltensor* t = input_tensor(L, lua_gettop(L), &info);
        lua_remove(L, -2);
        int same = t->rank == want.rank;
        for (int d = 0; same && d < want.rank; d++) same = t->dims[d] == want.dims[d];
        if (!same) {
            char expected[160];
            format_shape(expected, sizeof expected, want.rank, want.dims);
            shape_error(L, info.name, expected, t);
        }
    }
    return run_session(L, s->session, model, base, n_in);
}

/* s:profile() -> array of {name=, op_type=, kernel=, time_ns=} for the last run. */
static int s_profile(lua_State* L) {
    lsession* s = check_session(L, 1);
    if (!s->profile) return fail(L, "ember: profiling is off: create the session with m:session{profile = true}");
    size_t n = ember_model_node_count(s->owner->model);
    lua_createtable(L, (int)n, 0);
    for (size_t i = 0; i < n; i++) {
        ember_node_profile p;
        memset(&p, 0, sizeof p);
        p.struct_size = sizeof p;
        ember_status st = ember_session_node_profile(s->session, i, &p);
        if (st != EMBER_OK) return raise_status(L, "profile", st);
        lua_createtable(L, 0, 4);
        lua_pushstring(L, p.name ? p.name : "");
        lua_setfield(L, -2, "name");
        lua_pushstring(L, p.op_type ? p.op_type : "");
        lua_setfield(L, -2, "op_type");
        lua_pushstring(L, p.kernel ? p.kernel : "");
        lua_setfield(L, -2, "kernel");
        lua_pushinteger(L, (lua_Integer)p.time_ns);
        lua_setfield(L, -2, "time_ns");
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return 1;
}

/* -------------------------------------------------------------- module */

static int l_version(lua_State* L) {
    lua_pushstring(L, ember_version_string());
    return 1;
}

static int l_dtype_size(lua_State* L) {
    lua_pushinteger(L, (lua_Integer)ember_dtype_size(check_dtype(L, 1)));
    return 1;
}

static int l_is_tensor(lua_State* L) {
    lua_pushboolean(L, to_tensor(L, 1) != NULL);
    return 1;
}

static const luaL_Reg tensor_methods[] = {
    {"get", t_get},         {"set", t_set},         {"numel", t_numel},   {"totable", t_totable},
    {"flat", t_flat},       {"bytes", t_bytes},     {"argmax", t_argmax}, {"reshape", t_reshape},
    {"astype", t_astype},   {NULL, NULL},
};

static const luaL_Reg model_methods[] = {
    {"inputs", m_inputs},       {"outputs", m_outputs},   {"metadata", m_metadata},
    {"labels", m_labels},       {"node_count", m_node_count}, {"parameter_count", m_parameter_count},
    {"nodes", m_nodes},         {"run", m_run},           {"session", m_session},
    {"close", m_close},         {NULL, NULL},
};

static const luaL_Reg session_methods[] = {
    {"run", s_run},       {"profile", s_profile}, {"inputs", s_inputs},
    {"outputs", s_outputs}, {"close", s_close},   {NULL, NULL},
};

static const luaL_Reg module_functions[] = {
    {"version", l_version},       {"load", l_load},       {"load_buffer", l_load_buffer},
    {"tensor", l_tensor},         {"tensor_from", l_tensor_from}, {"dtype_size", l_dtype_size},
    {"is_tensor", l_is_tensor},   {"pack", l_pack},       {NULL, NULL},
};

static void new_class(lua_State* L, const char* name, const luaL_Reg* methods, lua_CFunction close,
                      lua_CFunction tostring) {
    luaL_newmetatable(L, name);
    lua_newtable(L);
    luaL_setfuncs(L, methods, 0);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, close);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, close);
    lua_setfield(L, -2, "__close");
    lua_pushcfunction(L, tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pushstring(L, name);
    lua_setfield(L, -2, "__name");
    lua_pop(L, 1);
}

EMBER_LUA_EXPORT int luaopen_ember(lua_State* L) {
    luaL_checkversion(L);
    new_class(L, MODEL_MT, model_methods, m_close, m_tostring);
    new_class(L, SESSION_MT, session_methods, s_close, s_tostring);

    luaL_newmetatable(L, TENSOR_MT);
    luaL_newlib(L, tensor_methods);
    lua_pushcclosure(L, t_index, 1);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, t_newindex);
    lua_setfield(L, -2, "__newindex");
    lua_pushcfunction(L, t_len);
    lua_setfield(L, -2, "__len");
    lua_pushcfunction(L, t_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pop(L, 1);

    luaL_newlib(L, module_functions);
    lua_pushstring(L, ember_version_string());
    lua_setfield(L, -2, "VERSION");
    lua_pushinteger(L, ember_format_version());
    lua_setfield(L, -2, "FORMAT_VERSION");
    return 1;
}
