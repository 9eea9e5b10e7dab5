/* f16 conversion (exhaustive), Cast between every pair of dtypes and its edge
 * cases, Where with three-way broadcasting. */
#include <float.h>
#include <math.h>
#include <stdlib.h>

#include "ew_test_util.h"
#include "generic/elementwise_ref.h"

static uint32_t bits_of(float x) {
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

static float float_of(uint32_t u) {
    float x;
    memcpy(&x, &u, sizeof x);
    return x;
}

/* ------------------------------------------------------------------- f16 */

static void test_f16_round_trip_all(void** state) {
    (void)state;
    for (uint32_t h = 0; h < 65536; h++) {
        const float f = ember_f16_to_f32((uint16_t)h);
        const uint16_t back = ember_f32_to_f16(f);
        const bool nan = (h & 0x7C00) == 0x7C00 && (h & 0x3FF);
        if (nan) {
            assert_true(isnan(f));
            assert_int_equal((bits_of(f) >> 31), h >> 15); /* sign kept */
            /* quiet NaNs come back exactly; signaling ones come back quiet */
            assert_int_equal(back, h | 0x200);
            continue;
        }
        if (back != h) fail_msg("f16 0x%04x -> %.9g -> 0x%04x", h, f, back);
        /* the value: (-1)^s * 2^(e-15) * (1 + m/1024), or subnormal m * 2^-24 */
        const int e = (h >> 10) & 31, m = h & 0x3FF;
        double v = e == 0 ? ldexp(m, -24) : e == 31 ? INFINITY : ldexp(1024 + m, e - 25);
        if (h & 0x8000) v = -v;
        if ((double)f != v) fail_msg("f16 0x%04x -> %.9g, want %.9g", h, f, v);
    }
}

/* Checks that r is the binary16 nearest to x, ties to even mantissa. */
static void check_nearest(float x, uint16_t r) {
    const uint32_t ux = bits_of(x);
    if (isnan(x)) {
        assert_true((r & 0x7C00) == 0x7C00 && (r & 0x3FF));
        return;
    }
    if ((r >> 15) != (ux >> 31)) fail_msg("%.9g -> 0x%04x: wrong sign", x, r);
    const double ax = fabs((double)x);
    const uint16_t m = r & 0x7FFF;
    if (ax >= 65520.0) {
        if (m != 0x7C00) fail_msg("%.9g -> 0x%04x, want infinity", x, r);
        return;
    }
    if (m >= 0x7C00) fail_msg("%.9g -> 0x%04x: overflow", x, r);
    const double v = ember_f16_to_f32(m);
    const double up = m == 0x7BFF ? 65536.0 : ember_f16_to_f32(m + 1);
    const double down = m == 0 ? -(double)ember_f16_to_f32(1) : ember_f16_to_f32(m - 1);
    const double d = fabs(ax - v), du = fabs(ax - up), dd = fabs(ax - down);
    if (d > du || d > dd) fail_msg("%.9g -> 0x%04x (%.9g) is not the nearest", x, r, v);
    if ((d == du || d == dd) && (m & 1)) fail_msg("%.9g -> 0x%04x: tie not to even", x, r);
}

static void test_f32_to_f16_rounding(void** state) {
    (void)state;
    /* every binary16 value, the midpoints around it and their float neighbours */
    for (uint32_t h = 0; h < 0x7C00; h++) {
        const float f = ember_f16_to_f32((uint16_t)h);
        const float next = h == 0x7BFF ? 65536.0f : ember_f16_to_f32((uint16_t)(h + 1));
        const float mid = (float)(((double)f + (double)next) / 2); /* exact in f32 */
        const float probes[] = {f, mid, nextafterf(mid, 0.0f), nextafterf(mid, INFINITY),
                                nextafterf(f, INFINITY), nextafterf(f, 0.0f)};
        for (size_t k = 0; k < sizeof probes / sizeof probes[0]; k++) {
            check_nearest(probes[k], ember_f32_to_f16(probes[k]));
            check_nearest(-probes[k], ember_f32_to_f16(-probes[k]));
        }
    }
    /* a sweep through all binary32 patterns */
    for (uint64_t u = 0; u < (1ull << 32); u += 4093) {
        const float x = float_of((uint32_t)u);
        check_nearest(x, ember_f32_to_f16(x));
    }
    const float special[] = {INFINITY, -INFINITY, NAN, -NAN, FLT_MAX, FLT_MIN, 1e-45f, 65519.996f,
                             65520.0f, 65504.0f};
    for (size_t k = 0; k < sizeof special / sizeof special[0]; k++)
        check_nearest(special[k], ember_f32_to_f16(special[k]));
    assert_int_equal(ember_f32_to_f16(INFINITY), 0x7C00);
    assert_int_equal(ember_f32_to_f16(-INFINITY), 0xFC00);
    assert_int_equal(ember_f32_to_f16(-0.0f), 0x8000);

#if defined(__FLT16_MAX__)
    /* and against the compiler's own conversion where it has one */
    for (uint64_t u = 0; u < (1ull << 32); u += 65521) {
        const float x = float_of((uint32_t)u);
        if (isnan(x)) continue;
        _Float16 h = (_Float16)x;
        uint16_t hb;
        memcpy(&hb, &h, sizeof hb);
        if (hb != ember_f32_to_f16(x))
            fail_msg("%.9g: 0x%04x, compiler says 0x%04x", x, ember_f32_to_f16(x), hb);
    }
#endif
}

/* ------------------------------------------------------------------- Cast */

static ember_status run_cast(oh_node* n, ember_dtype from, int64_t to, em_shape s, const void* x) {
    oh_begin(n, "Cast", 1);
    oh_int(n, "to", to);
    oh_input(n, from, s, x);
    return oh_run(n);
}

#define ONNX_FLOAT 1
#define ONNX_UINT8 2
#define ONNX_INT8 3
#define ONNX_INT32 6
#define ONNX_INT64 7
#define ONNX_BOOL 9
#define ONNX_FLOAT16 10

static void test_cast_matrix(void** state) {
    (void)state;
    static const struct { ember_dtype dt; int64_t onnx; } types[] = {
        {EMBER_DTYPE_F32, ONNX_FLOAT}, {EMBER_DTYPE_F16, ONNX_FLOAT16}, {EMBER_DTYPE_I8, ONNX_INT8},
        {EMBER_DTYPE_U8, ONNX_UINT8},  {EMBER_DTYPE_I32, ONNX_INT32},   {EMBER_DTYPE_I64, ONNX_INT64},
        {EMBER_DTYPE_BOOL, ONNX_BOOL},
    };
    /* values every dtype holds exactly; bool holds their truth */
    const double vals[5] = {0, 1, 2, 100, 5};
    for (size_t a = 0; a < 7; a++)
        for (size_t b = 0; b < 7; b++) {
            unsigned char src[5 * 8];
            const ember_dtype from = types[a].dt, to = types[b].dt;
            for (int i = 0; i < 5; i++) {
                double v = from == EMBER_DTYPE_BOOL ? (vals[i] != 0) : vals[i];
                switch (from) {
                case EMBER_DTYPE_F32: ((float*)src)[i] = (float)v; break;
                case EMBER_DTYPE_F16: ((uint16_t*)src)[i] = ember_f32_to_f16((float)v); break;
                case EMBER_DTYPE_I8: ((int8_t*)src)[i] = (int8_t)v; break;
                case EMBER_DTYPE_U8: ((uint8_t*)src)[i] = (uint8_t)v; break;
                case EMBER_DTYPE_I32: ((int32_t*)src)[i] = (int32_t)v; break;
                case EMBER_DTYPE_I64: ((int64_t*)src)[i] = (int64_t)v; break;
                default: ((uint8_t*)src)[i] = (uint8_t)v; break;
                }
            }
            oh_node n;
            ember_status st = run_cast(&n, from, types[b].onnx, OH_SHAPE(5), src);
            if (st != EMBER_OK) fail_msg("%s -> %s: %s", ember_dtype_name(from), ember_dtype_name(to), n.msg);
            assert_int_equal(n.out[0].dtype, to);
            for (int i = 0; i < 5; i++) {
                double want = from == EMBER_DTYPE_BOOL || to == EMBER_DTYPE_BOOL ? (vals[i] != 0) : vals[i];
                double got;
                const void* y = n.out[0].data;
                switch (to) {
                case EMBER_DTYPE_F32: got = ((const float*)y)[i]; break;
                case EMBER_DTYPE_F16: got = ember_f16_to_f32(((const uint16_t*)y)[i]); break;
                case EMBER_DTYPE_I8: got = ((const int8_t*)y)[i]; break;
                case EMBER_DTYPE_U8: got = ((const uint8_t*)y)[i]; break;
                case EMBER_DTYPE_I32: got = ((const int32_t*)y)[i]; break;
                case EMBER_DTYPE_I64: got = (double)((const int64_t*)y)[i]; break;
                default: got = ((const uint8_t*)y)[i]; break;
                }
                if (got != want)
                    fail_msg("%s -> %s, element %d: got %g, want %g", ember_dtype_name(from),
                             ember_dtype_name(to), i, got, want);
            }
            oh_free(&n);
        }
}

static void test_cast_edges(void** state) {
    (void)state;
    oh_node n;
    const float f[9] = {2.7f, -2.7f, NAN, 1e10f, -1e10f, INFINITY, -INFINITY, 2147483520.0f,
                        -2147483648.0f};
    const int32_t fi32[9] = {2, -2, 0, INT32_MAX, INT32_MIN, INT32_MAX, INT32_MIN, 2147483520,
                             INT32_MIN};
    assert_int_equal(run_cast(&n, EMBER_DTYPE_F32, ONNX_INT32, OH_SHAPE(9), f), EMBER_OK);
    assert_memory_equal(n.out[0].data, fi32, sizeof fi32);
    oh_free(&n);

    const float g[6] = {300.0f, -5.0f, 255.9f, 0.9f, -0.9f, NAN};
    const uint8_t gu8[6] = {255, 0, 255, 0, 0, 0};
    assert_int_equal(run_cast(&n, EMBER_DTYPE_F32, ONNX_UINT8, OH_SHAPE(6), g), EMBER_OK);
    assert_memory_equal(n.out[0].data, gu8, sizeof gu8);
    oh_free(&n);

    const float h[5] = {127.9f, 128.0f, -128.9f, -129.0f, -1e30f};
    const int8_t hi8[5] = {127, 127, -128, -128, -128};
    assert_int_equal(run_cast(&n, EMBER_DTYPE_F32, ONNX_INT8, OH_SHAPE(5), h), EMBER_OK);
    assert_memory_equal(n.out[0].data, hi8, sizeof hi8);
    oh_free(&n);

    const float k[5] = {1e19f, -1e19f, NAN, 123.9f, -9.2233720368547758e18f};
    const int64_t ki64[5] = {INT64_MAX, INT64_MIN, 0, 123, INT64_MIN};
    assert_int_equal(run_cast(&n, EMBER_DTYPE_F32, ONNX_INT64, OH_SHAPE(5), k), EMBER_OK);
    assert_memory_equal(n.out[0].data, ki64, sizeof ki64);
    oh_free(&n);

    const float b[5] = {0.0f, -0.0f, NAN, 0.1f, -INFINITY};
    const uint8_t bb[5] = {0, 0, 1, 1, 1};
    assert_int_equal(run_cast(&n, EMBER_DTYPE_F32, ONNX_BOOL, OH_SHAPE(5), b), EMBER_OK);
    assert_memory_equal(n.out[0].data, bb, sizeof bb);
    oh_free(&n);

    /* integer narrowing wraps */
    const int64_t w[3] = {(1ll << 32) + 5, -1, 1ll << 31};
    const int32_t w32[3] = {5, -1, INT32_MIN};
    assert_int_equal(run_cast(&n, EMBER_DTYPE_I64, ONNX_INT32, OH_SHAPE(3), w), EMBER_OK);
    assert_memory_equal(n.out[0].data, w32, sizeof w32);
    oh_free(&n);
    const int32_t v[2] = {263, -1};
    const uint8_t vu8[2] = {7, 255};
    assert_int_equal(run_cast(&n, EMBER_DTYPE_I32, ONNX_UINT8, OH_SHAPE(2), v), EMBER_OK);
    assert_memory_equal(n.out[0].data, vu8, sizeof vu8);
    oh_free(&n);

    /* bool: any nonzero byte is true */
    const uint8_t bs[3] = {0, 1, 2};
    const float bf[3] = {0, 1, 1};
    assert_int_equal(run_cast(&n, EMBER_DTYPE_BOOL, ONNX_FLOAT, OH_SHAPE(3), bs), EMBER_OK);
    oh_assert_close(n.out[0].data, bf, 3, 0, 0);
    oh_free(&n);

    /* integer to float rounds to nearest even */
    const int32_t big[2] = {16777217, 16777219};
    const float bigf[2] = {16777216.0f, 16777220.0f};
    assert_int_equal(run_cast(&n, EMBER_DTYPE_I32, ONNX_FLOAT, OH_SHAPE(2), big), EMBER_OK);
    oh_assert_close(n.out[0].data, bigf, 2, 0, 0);
    oh_free(&n);

    /* to and from f16 */
    const float hf[6] = {1.0f, 65504.0f, 65520.0f, 1e-8f, 5.9604645e-8f, -2.0f};
    const uint16_t hh[6] = {0x3C00, 0x7BFF, 0x7C00, 0x0000, 0x0001, 0xC000};
    assert_int_equal(run_cast(&n, EMBER_DTYPE_F32, ONNX_FLOAT16, OH_SHAPE(2, 3), hf), EMBER_OK);
    assert_int_equal(n.out[0].dtype, EMBER_DTYPE_F16);
    assert_memory_equal(n.out[0].data, hh, sizeof hh);
    oh_free(&n);
    const int64_t hi[3] = {70000, 2049, -5};
    const uint16_t hih[3] = {0x7C00, 0x6800, 0xC500};
    assert_int_equal(run_cast(&n, EMBER_DTYPE_I64, ONNX_FLOAT16, OH_SHAPE(3), hi), EMBER_OK);
    assert_memory_equal(n.out[0].data, hih, sizeof hih);
    oh_free(&n);
    const uint16_t hx[4] = {0xC500, 0x7C00, 0x7E00, 0x3E00}; /* -5, inf, NaN, 1.5 */
    const int32_t hxi[4] = {-5, INT32_MAX, 0, 1};
    assert_int_equal(run_cast(&n, EMBER_DTYPE_F16, ONNX_INT32, OH_SHAPE(4), hx), EMBER_OK);
    assert_memory_equal(n.out[0].data, hxi, sizeof hxi);
    oh_free(&n);

    /* scalar and empty */
    const float one = 1.5f;
    assert_int_equal(run_cast(&n, EMBER_DTYPE_F32, ONNX_INT64, OH_SCALAR, &one), EMBER_OK);
    assert_int_equal(n.out[0].shape.rank, 0);
    assert_int_equal(*(int64_t*)n.out[0].data, 1);
    oh_free(&n);
    assert_int_equal(run_cast(&n, EMBER_DTYPE_F32, ONNX_INT64, OH_SHAPE(0, 4), &one), EMBER_OK);
    oh_free(&n);
}

static void test_cast_errors(void** state) {
    (void)state;
    const float x[2] = {0};
    oh_node n;
    EWT_EXPECT_FAIL(run_cast(&n, EMBER_DTYPE_F32, 11, OH_SHAPE(2), x), EMBER_ERROR_UNSUPPORTED, &n,
                    "DOUBLE", "11");
    oh_free(&n);
    EWT_EXPECT_FAIL(run_cast(&n, EMBER_DTYPE_F32, 8, OH_SHAPE(2), x), EMBER_ERROR_UNSUPPORTED, &n,
                    "STRING");
    oh_free(&n);
    EWT_EXPECT_FAIL(run_cast(&n, EMBER_DTYPE_F32, 1000, OH_SHAPE(2), x), EMBER_ERROR_UNSUPPORTED,
                    &n, "1000");
    oh_free(&n);
    oh_begin(&n, "Cast", 1);
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(2), x);
    EWT_EXPECT_FAIL(oh_run(&n), EMBER_ERROR_INVALID_MODEL, &n, "'to'");
    oh_free(&n);
    oh_begin(&n, "Cast", 1);
    oh_string(&n, "to", "float");
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(2), x);
    EWT_EXPECT_FAIL(oh_run(&n), EMBER_ERROR_INVALID_MODEL, &n, "'to'");
    oh_free(&n);
}

/* ------------------------------------------------------------------ Where */

static void test_where_broadcast(void** state) {
    (void)state;
    const em_shape triples[][3] = {
        {OH_SHAPE(2, 3, 4), OH_SHAPE(2, 3, 4), OH_SHAPE(2, 3, 4)},
        {OH_SHAPE(3, 1), OH_SHAPE(1, 4), OH_SCALAR},
        {OH_SHAPE(4), OH_SHAPE(2, 3, 1), OH_SHAPE(3, 4)},
        {OH_SCALAR, OH_SHAPE(2, 2), OH_SHAPE(2)},
        {OH_SHAPE(1, 1), OH_SHAPE(5), OH_SHAPE(5, 1)},
        {OH_SHAPE(2, 1, 3), OH_SHAPE(1, 4, 1), OH_SHAPE(2, 4, 3)},
        {OH_SHAPE(2, 0, 3), OH_SHAPE(3), OH_SCALAR},
    };
    const ember_dtype dts[4] = {EMBER_DTYPE_F32, EMBER_DTYPE_I64, EMBER_DTYPE_U8, EMBER_DTYPE_F16};
    uint8_t cond[64];
    uint8_t x[64 * 8], z[64 * 8], want[64 * 8];
    for (int i = 0; i < 64 * 8; i++) {
        x[i] = (uint8_t)(i * 37 + 1);
        z[i] = (uint8_t)(i * 11 + 200);
    }
    for (size_t t = 0; t < sizeof triples / sizeof triples[0]; t++) {
        const em_shape *sc = &triples[t][0], *sx = &triples[t][1], *sz = &triples[t][2];
        em_shape o = ewt_broadcast2(sc, sx);
        o = ewt_broadcast2(&o, sz);
        for (size_t i = 0; i < em_shape_count(sc); i++) cond[i] = (uint8_t)((i * 5 + t) % 3 == 0);
        for (int d = 0; d < 4; d++) {
            const size_t es = ember_dtype_size(dts[d]);
            int64_t idx[EMBER_MAX_RANK] = {0};
            const size_t no = em_shape_count(&o);
            for (size_t i = 0; i < no; i++, ewt_next(&o, idx)) {
                const bool c = cond[ewt_offset(sc, &o, idx)];
                const uint8_t* src = c ? x + ewt_offset(sx, &o, idx) * es
                                       : z + ewt_offset(sz, &o, idx) * es;
                memcpy(want + i * es, src, es);
            }
            oh_node n;
            oh_begin(&n, "Where", 1);
            oh_input(&n, EMBER_DTYPE_BOOL, *sc, cond);
            oh_input(&n, dts[d], *sx, x);
            oh_input(&n, dts[d], *sz, z);
            ember_status st = oh_run(&n);
            if (st != EMBER_OK) fail_msg("triple %zu: %s", t, n.msg);
            ewt_assert_shape(&n.out[0].shape, &o);
            assert_int_equal(n.out[0].dtype, dts[d]);
            if (no) assert_memory_equal(n.out[0].data, want, no * es);
            oh_free(&n);
        }
    }
}

static void test_where_errors(void** state) {
    (void)state;
    const uint8_t c[4] = {1, 0, 1, 0};
    const float x[4] = {0};
    const int32_t y[4] = {0};
    oh_node n;
    oh_begin(&n, "Where", 1);
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(4), x);
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(4), x);
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(4), x);
    EWT_EXPECT_FAIL(oh_run(&n), EMBER_ERROR_DTYPE_MISMATCH, &n, "bool", "f32");
    oh_free(&n);
    oh_begin(&n, "Where", 1);
    oh_input(&n, EMBER_DTYPE_BOOL, OH_SHAPE(4), c);
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(4), x);
    oh_input(&n, EMBER_DTYPE_I32, OH_SHAPE(4), y);
    EWT_EXPECT_FAIL(oh_run(&n), EMBER_ERROR_DTYPE_MISMATCH, &n, "f32", "i32");
    oh_free(&n);
    oh_begin(&n, "Where", 1);
    oh_input(&n, EMBER_DTYPE_BOOL, OH_SHAPE(4), c);
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(2, 1), x);
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(3), x);
    EWT_EXPECT_FAIL(oh_run(&n), EMBER_ERROR_SHAPE_MISMATCH, &n, "broadcast");
    oh_free(&n);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_f16_round_trip_all),
        cmocka_unit_test(test_f32_to_f16_rounding),
        cmocka_unit_test(test_cast_matrix),
        cmocka_unit_test(test_cast_edges),
        cmocka_unit_test(test_cast_errors),
        cmocka_unit_test(test_where_broadcast),
        cmocka_unit_test(test_where_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
