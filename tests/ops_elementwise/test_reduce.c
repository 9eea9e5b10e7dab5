/* ReduceSum, ReduceMean, ReduceMax over every combination of axes (attribute
 * and input forms), keepdims, empty axes, integer dtypes, empty dims; ArgMax. */
#include <math.h>
#include <stdlib.h>

#include "ew_test_util.h"

static const char* const kinds[3] = {"ReduceSum", "ReduceMean", "ReduceMax"};

/* Naive reduction in double over the axes in mask: y has x's shape with the
 * reduced dims set to 1 (row-major). */
static void naive_reduce(int kind, const em_shape* s, const float* x, unsigned mask, float* y) {
    em_shape o = *s;
    for (int32_t d = 0; d < s->rank; d++)
        if (mask & (1u << d)) o.dims[d] = 1;
    const size_t no = em_shape_count(&o);
    double acc[256];
    size_t cnt[256] = {0};
    for (size_t i = 0; i < no; i++) acc[i] = kind == 2 ? -INFINITY : 0.0;
    int64_t idx[EMBER_MAX_RANK] = {0};
    const size_t nx = em_shape_count(s);
    for (size_t i = 0; i < nx; i++, ewt_next(s, idx)) {
        size_t off = ewt_offset(&o, s, idx);
        if (kind == 2)
            acc[off] = fmax(acc[off], x[i]);
        else
            acc[off] += x[i];
        cnt[off]++;
    }
    for (size_t i = 0; i < no; i++)
        y[i] = (float)(kind == 1 ? (cnt[i] ? acc[i] / (double)cnt[i] : NAN) : acc[i]);
}

static em_shape out_shape(const em_shape* s, unsigned mask, bool keep) {
    em_shape o = {.rank = 0};
    for (int32_t d = 0; d < s->rank; d++) {
        if (!(mask & (1u << d)))
            o.dims[o.rank++] = s->dims[d];
        else if (keep)
            o.dims[o.rank++] = 1;
    }
    return o;
}

static void check_all_subsets(const em_shape* s) {
    float x[256], want[256];
    const size_t nx = em_shape_count(s);
    oh_fill_random(x, nx, 7, -10.0f, 10.0f);
    for (unsigned mask = 1; mask < (1u << s->rank); mask++) {
        int64_t axes[EMBER_MAX_RANK];
        uint32_t na = 0;
        for (int32_t d = 0; d < s->rank; d++)
            if (mask & (1u << d)) axes[na++] = (d & 1) ? d - s->rank : d; /* some negative */
        for (int kind = 0; kind < 3; kind++) {
            naive_reduce(kind, s, x, mask, want);
            for (int form = 0; form < 4; form++) {
                const bool keep = form & 1, as_input = form & 2;
                oh_node n;
                oh_begin(&n, kinds[kind], 1);
                if (!keep) oh_int(&n, "keepdims", 0);
                oh_input(&n, EMBER_DTYPE_F32, *s, x);
                if (as_input)
                    oh_constant(&n, EMBER_DTYPE_I64, OH_SHAPE(na), axes);
                else
                    oh_ints(&n, "axes", na, axes);
                ember_status st = oh_run(&n);
                if (st != EMBER_OK) fail_msg("%s mask %u: %s", kinds[kind], mask, n.msg);
                em_shape o = out_shape(s, mask, keep);
                ewt_assert_shape(&n.out[0].shape, &o);
                oh_assert_close(n.out[0].data, want, em_shape_count(&o), 1e-5f, 1e-5f);
                oh_free(&n);
            }
        }
    }
}

static void test_every_axis_combination(void** state) {
    (void)state;
    em_shape s = OH_SHAPE(2, 3, 4);
    check_all_subsets(&s);
    s = OH_SHAPE(3, 1, 4, 5);
    check_all_subsets(&s);
    s = OH_SHAPE(2, 3, 2, 2, 3);
    check_all_subsets(&s);
    s = OH_SHAPE(7);
    check_all_subsets(&s);
}

static void test_hand(void** state) {
    (void)state;
    const float x[6] = {1, 2, 3, 4, 5, 6};
    const int64_t ax1 = 1;
    oh_node n;
    oh_begin(&n, "ReduceMean", 1);
    oh_ints(&n, "axes", 1, &ax1);
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(2, 3), x);
    assert_int_equal(oh_run(&n), EMBER_OK);
    em_shape s = OH_SHAPE(2, 1);
    ewt_assert_shape(&n.out[0].shape, &s);
    const float m[2] = {2, 5};
    oh_assert_close(n.out[0].data, m, 2, 0, 0);
    oh_free(&n);

    /* no axes: all, keepdims=0 gives a scalar */
    oh_begin(&n, "ReduceSum", 1);
    oh_int(&n, "keepdims", 0);
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(2, 3), x);
    assert_int_equal(oh_run(&n), EMBER_OK);
    assert_int_equal(n.out[0].shape.rank, 0);
    assert_true(*(float*)n.out[0].data == 21.0f);
    oh_free(&n);

    /* empty axes input, noop_with_empty_axes: identity */
    oh_begin(&n, "ReduceMax", 1);
    oh_int(&n, "noop_with_empty_axes", 1);
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(2, 3), x);
    oh_constant(&n, EMBER_DTYPE_I64, OH_SHAPE(0), x); /* no elements, but constant */
    assert_int_equal(oh_run(&n), EMBER_OK);
    s = OH_SHAPE(2, 3);
    ewt_assert_shape(&n.out[0].shape, &s);
    oh_assert_close(n.out[0].data, x, 6, 0, 0);
    oh_free(&n);

    /* an empty axes input, even one given as computed, is no axes */
    oh_begin(&n, "ReduceSum", 1);
    oh_int(&n, "noop_with_empty_axes", 1);
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(2, 3), x);
    oh_input(&n, EMBER_DTYPE_I64, OH_SHAPE(0), NULL);
    assert_int_equal(oh_run(&n), EMBER_OK);
    oh_assert_close(n.out[0].data, x, 6, 0, 0);
    oh_free(&n);

    /* empty axes input without noop: all axes, keepdims */
    oh_begin(&n, "ReduceMax", 1);
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(2, 3), x);
    oh_constant(&n, EMBER_DTYPE_I64, OH_SHAPE(0), x); /* no elements, but constant */
    assert_int_equal(oh_run(&n), EMBER_OK);
    s = OH_SHAPE(1, 1);
    ewt_assert_shape(&n.out[0].shape, &s);
    assert_true(*(float*)n.out[0].data == 6.0f);
    oh_free(&n);

    /* Max propagates NaN; i32 axes input */
    const float xn[4] = {1, NAN, 3, 2};
    const int32_t ax0 = 0;
    oh_begin(&n, "ReduceMax", 1);
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(4), xn);
    oh_constant(&n, EMBER_DTYPE_I32, OH_SHAPE(1), &ax0);
    assert_int_equal(oh_run(&n), EMBER_OK);
    assert_true(isnan(*(float*)n.out[0].data));
    oh_free(&n);

    /* a long row (exercises the 8-way partial sums) */
    float big[1003], want = 0.0f;
    double acc = 0;
    oh_fill_random(big, 1003, 9, -1.0f, 1.0f);
    for (int i = 0; i < 1003; i++) acc += big[i];
    want = (float)acc;
    oh_begin(&n, "ReduceSum", 1);
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(1003), big);
    assert_int_equal(oh_run(&n), EMBER_OK);
    oh_assert_close(n.out[0].data, &want, 1, 1e-4f, 1e-5f);
    oh_free(&n);
}

static void test_empty_dims(void** state) {
    (void)state;
    const int64_t ax1 = 1, ax0 = 0;
    float dummy[1] = {0};
    /* reducing a zero-sized axis: sum 0, mean NaN, max -inf */
    const float want_sum[3] = {0, 0, 0};
    for (int kind = 0; kind < 3; kind++) {
        oh_node n;
        oh_begin(&n, kinds[kind], 1);
        oh_ints(&n, "axes", 1, &ax1);
        oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(3, 0), dummy);
        assert_int_equal(oh_run(&n), EMBER_OK);
        em_shape s = OH_SHAPE(3, 1);
        ewt_assert_shape(&n.out[0].shape, &s);
        const float* y = n.out[0].data;
        for (int i = 0; i < 3; i++) {
            if (kind == 0) assert_true(y[i] == want_sum[i]);
            if (kind == 1) assert_true(isnan(y[i]));
            if (kind == 2) assert_true(isinf(y[i]) && y[i] < 0);
        }
        oh_free(&n);
        /* keeping a zero-sized axis: empty output */
        oh_begin(&n, kinds[kind], 1);
        oh_ints(&n, "axes", 1, &ax0);
        oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(3, 0), dummy);
        assert_int_equal(oh_run(&n), EMBER_OK);
        s = OH_SHAPE(1, 0);
        ewt_assert_shape(&n.out[0].shape, &s);
        oh_free(&n);
    }
}

static void test_integers(void** state) {
    (void)state;
    const int64_t x[6] = {1, -2, 3, INT64_MAX, 5, -6};
    const int64_t ax0 = 0;
    const int64_t sum[3] = {INT64_MIN, 3, -3}; /* 1 + INT64_MAX wraps */
    const int64_t max[3] = {INT64_MAX, 5, 3};
    oh_node n;
    oh_begin(&n, "ReduceSum", 1);
    oh_input(&n, EMBER_DTYPE_I64, OH_SHAPE(2, 3), x);
    oh_constant(&n, EMBER_DTYPE_I64, OH_SHAPE(1), &ax0);
    assert_int_equal(oh_run(&n), EMBER_OK);
    assert_int_equal(n.out[0].dtype, EMBER_DTYPE_I64);
    assert_memory_equal(n.out[0].data, sum, sizeof sum);
    oh_free(&n);
    oh_begin(&n, "ReduceMax", 1);
    oh_int(&n, "keepdims", 0);
    oh_ints(&n, "axes", 1, &ax0);
    oh_input(&n, EMBER_DTYPE_I64, OH_SHAPE(2, 3), x);
    assert_int_equal(oh_run(&n), EMBER_OK);
    assert_memory_equal(n.out[0].data, max, sizeof max);
    oh_free(&n);
    const int32_t y[6] = {1, 2, 3, 4, 5, 6}, ysum[2] = {6, 15};
    const int64_t ax1 = -1;
    oh_begin(&n, "ReduceSum", 1);
    oh_ints(&n, "axes", 1, &ax1);
    oh_input(&n, EMBER_DTYPE_I32, OH_SHAPE(2, 3), y);
    assert_int_equal(oh_run(&n), EMBER_OK);
    assert_memory_equal(n.out[0].data, ysum, sizeof ysum);
    oh_free(&n);
    oh_begin(&n, "ReduceMean", 1);
    oh_input(&n, EMBER_DTYPE_I32, OH_SHAPE(2, 3), y);
    EWT_EXPECT_FAIL(oh_run(&n), EMBER_ERROR_DTYPE_MISMATCH, &n, "f32", "i32");
    oh_free(&n);
}

static void test_errors(void** state) {
    (void)state;
    float x[6] = {0};
    const int64_t bad[1] = {3}, dup[2] = {1, -1}, neg_bad[1] = {-4};
    oh_node n;
    oh_begin(&n, "ReduceSum", 1);
    oh_ints(&n, "axes", 1, bad);
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(1, 2, 3), x);
    EWT_EXPECT_FAIL(oh_run(&n), EMBER_ERROR_INVALID_MODEL, &n, "axis 3", "rank 3");
    oh_free(&n);
    oh_begin(&n, "ReduceMean", 1);
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(1, 2, 3), x);
    oh_constant(&n, EMBER_DTYPE_I64, OH_SHAPE(1), neg_bad);
    EWT_EXPECT_FAIL(oh_run(&n), EMBER_ERROR_INVALID_MODEL, &n, "axis -4");
    oh_free(&n);
    oh_begin(&n, "ReduceMax", 1);
    oh_ints(&n, "axes", 2, dup);
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(2, 3), x);
    EWT_EXPECT_FAIL(oh_run(&n), EMBER_ERROR_INVALID_MODEL, &n, "twice");
    oh_free(&n);
    oh_begin(&n, "ReduceSum", 1);
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(2, 3), x);
    oh_input(&n, EMBER_DTYPE_I64, OH_SHAPE(1), bad); /* computed axes */
    EWT_EXPECT_FAIL(oh_run(&n), EMBER_ERROR_UNSUPPORTED, &n, "constant");
    oh_free(&n);
    oh_begin(&n, "ReduceSum", 1);
    oh_ints(&n, "axes", 1, bad);
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(2, 3), x);
    oh_constant(&n, EMBER_DTYPE_I64, OH_SHAPE(1), bad);
    EWT_EXPECT_FAIL(oh_run(&n), EMBER_ERROR_INVALID_MODEL, &n, "both");
    oh_free(&n);
    oh_begin(&n, "ReduceSum", 1);
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(2, 3), x);
    oh_constant(&n, EMBER_DTYPE_F32, OH_SHAPE(1), x);
    EWT_EXPECT_FAIL(oh_run(&n), EMBER_ERROR_DTYPE_MISMATCH, &n, "i64");
    oh_free(&n);
}

/* ----------------------------------------------------------------- ArgMax */

static void naive_argmax(const em_shape* s, const float* x, int axis, bool last, int64_t* y) {
    size_t outer = 1, inner = 1, n = (size_t)s->dims[axis];
    for (int d = 0; d < axis; d++) outer *= (size_t)s->dims[d];
    for (int d = axis + 1; d < s->rank; d++) inner *= (size_t)s->dims[d];
    for (size_t o = 0; o < outer; o++)
        for (size_t i = 0; i < inner; i++) {
            size_t best = 0;
            for (size_t k = 1; k < n; k++) {
                float v = x[(o * n + k) * inner + i], b = x[(o * n + best) * inner + i];
                if (v > b || (last && v == b)) best = k;
            }
            y[o * inner + i] = (int64_t)best;
        }
}

static void test_argmax(void** state) {
    (void)state;
    const em_shape s = OH_SHAPE(3, 4, 5);
    float x[60];
    int64_t want[60];
    /* few distinct values: many ties */
    for (int i = 0; i < 60; i++) x[i] = (float)((i * 7) % 5);
    for (int axis = -3; axis < 3; axis++)
        for (int keep = 0; keep < 2; keep++)
            for (int last = 0; last < 2; last++) {
                const int a = axis < 0 ? axis + 3 : axis;
                naive_argmax(&s, x, a, last, want);
                oh_node n;
                oh_begin(&n, "ArgMax", 1);
                oh_int(&n, "axis", axis);
                oh_int(&n, "keepdims", keep);
                if (last) oh_int(&n, "select_last_index", 1);
                oh_input(&n, EMBER_DTYPE_F32, s, x);
                assert_int_equal(oh_run(&n), EMBER_OK);
                assert_int_equal(n.out[0].dtype, EMBER_DTYPE_I64);
                em_shape o = out_shape(&s, 1u << a, keep);
                ewt_assert_shape(&n.out[0].shape, &o);
                assert_memory_equal(n.out[0].data, want, em_shape_count(&o) * sizeof(int64_t));
                oh_free(&n);
            }

    /* NaN is the largest; integers */
    const float xn[5] = {1, NAN, 7, NAN, 2};
    int64_t y;
    oh_node n;
    oh_begin(&n, "ArgMax", 1);
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(5), xn);
    assert_int_equal(oh_run(&n), EMBER_OK);
    memcpy(&y, n.out[0].data, sizeof y);
    assert_int_equal(y, 1);
    oh_free(&n);
    oh_begin(&n, "ArgMax", 1);
    oh_int(&n, "select_last_index", 1);
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(5), xn);
    assert_int_equal(oh_run(&n), EMBER_OK);
    memcpy(&y, n.out[0].data, sizeof y);
    assert_int_equal(y, 3);
    oh_free(&n);
    const int32_t xi[6] = {3, 9, 9, -1, -5, -1};
    const int64_t wi[2] = {1, 0};
    oh_begin(&n, "ArgMax", 1);
    oh_int(&n, "axis", 1);
    oh_int(&n, "keepdims", 0);
    oh_input(&n, EMBER_DTYPE_I32, OH_SHAPE(2, 3), xi);
    assert_int_equal(oh_run(&n), EMBER_OK);
    assert_memory_equal(n.out[0].data, wi, sizeof wi);
    oh_free(&n);

    /* errors */
    oh_begin(&n, "ArgMax", 1);
    oh_int(&n, "axis", 2);
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(2, 3), x);
    EWT_EXPECT_FAIL(oh_run(&n), EMBER_ERROR_INVALID_MODEL, &n, "axis 2");
    oh_free(&n);
    oh_begin(&n, "ArgMax", 1);
    oh_input(&n, EMBER_DTYPE_F32, OH_SCALAR, x);
    EWT_EXPECT_FAIL(oh_run(&n), EMBER_ERROR_SHAPE_MISMATCH, &n, "scalar");
    oh_free(&n);
    oh_begin(&n, "ArgMax", 1);
    oh_int(&n, "axis", 1);
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(2, 0), x);
    EWT_EXPECT_FAIL(oh_run(&n), EMBER_ERROR_SHAPE_MISMATCH, &n, "size 0");
    oh_free(&n);
    oh_begin(&n, "ArgMax", 1);
    oh_input(&n, EMBER_DTYPE_U8, OH_SHAPE(2), x);
    EWT_EXPECT_FAIL(oh_run(&n), EMBER_ERROR_DTYPE_MISMATCH, &n, "u8");
    oh_free(&n);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_axis_combination),
        cmocka_unit_test(test_hand),
        cmocka_unit_test(test_empty_dims),
        cmocka_unit_test(test_integers),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_argmax),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
