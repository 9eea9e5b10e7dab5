/* Slice against a naive reference that follows Python's slice.indices()
 * (CPython's PySlice_AdjustIndices, with the ONNX clamping of starts), over ranks 1..4 and 6, random starts,
 * ends, axes and steps including negative steps, out-of-range values and
 * INT64_MAX/INT64_MIN, in every input form (opset 10+ inputs i64 or i32,
 * opset 1 attributes). */
#include "tensor_util.h"

static uint32_t rng = 12345;
static uint32_t next(void) {
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

/* The indices Python's range(*slice(start, stop, step).indices(len)) yields,
 * except in one corner where the ONNX specification (and ONNX Runtime) differ
 * from Python and numpy: a start still negative after adding len is clamped to
 * 0 for negative steps too (x[-100::-1] is [x[0]], not empty). */
static int64_t py_indices(int64_t start, int64_t stop, int64_t step, int64_t len, int64_t* out) {
    if (len == 0) return 0;
    if (start < 0) {
        start += len;
        if (start < 0) start = 0; /* Python: step < 0 ? -1 : 0 */
    } else if (start >= len) {
        start = step < 0 ? len - 1 : len;
    }
    if (stop < 0) {
        stop += len;
        if (stop < 0) stop = step < 0 ? -1 : 0;
    } else if (stop >= len) {
        stop = step < 0 ? len - 1 : len;
    }
    int64_t n = 0;
    for (int64_t i = start; step > 0 ? i < stop : i > stop;) {
        out[n++] = i;
        if (__builtin_add_overflow(i, step, &i)) break;
    }
    return n;
}

static const int64_t picks[] = {INT64_MIN, -100, -7, -4, -3, -2, -1, 0, 1, 2, 3, 5, 6, 9, 100,
                                INT64_MAX};
static const int64_t step_picks[] = {1, 1, 2, 3, -1, -1, -2, -3, 7, INT64_MAX, INT64_MIN, -INT64_MAX};
#define NPICK(a) (sizeof a / sizeof a[0])

/* form 0: i64 inputs with axes and steps, 1: i64 inputs without axes/steps where
 * possible, 2: i32 inputs, 3: opset-1 attributes (steps 1). */
static void slice_case(em_shape in, int form, ember_dtype dt) {
    int64_t starts[8], ends[8], axes[8], steps[8];
    int32_t starts32[8], ends32[8], axes32[8], steps32[8];
    int32_t perm[8];
    uint32_t k = 1 + next() % (uint32_t)in.rank;
    for (int32_t d = 0; d < in.rank; d++) perm[d] = d;
    for (int32_t d = in.rank - 1; d > 0; d--) { /* shuffle: which axes, in what order */
        int32_t j = (int32_t)(next() % (uint32_t)(d + 1)), t = perm[d];
        perm[d] = perm[j];
        perm[j] = t;
    }
    bool default_axes = form == 1 || (form == 3 && next() % 2);
    if (default_axes) k = (uint32_t)in.rank;
    for (uint32_t i = 0; i < k; i++) {
        int64_t ax = default_axes ? (int64_t)i : perm[i];
        if (!default_axes && next() % 2) ax -= in.rank;
        axes[i] = ax;
        starts[i] = picks[next() % NPICK(picks)];
        ends[i] = picks[next() % NPICK(picks)];
        steps[i] = form >= 3 || (form == 1 && i % 2) ? 1 : step_picks[next() % NPICK(step_picks)];
        if (form == 2) {
            starts[i] = starts[i] > INT32_MAX ? INT32_MAX : (starts[i] < INT32_MIN ? INT32_MIN : starts[i]);
            ends[i] = ends[i] > INT32_MAX ? INT32_MAX : (ends[i] < INT32_MIN ? INT32_MIN : ends[i]);
            steps[i] = steps[i] > INT32_MAX ? INT32_MAX : (steps[i] < INT32_MIN ? INT32_MIN : steps[i]);
            starts32[i] = (int32_t)starts[i];
            ends32[i] = (int32_t)ends[i];
            axes32[i] = (int32_t)axes[i];
            steps32[i] = (int32_t)steps[i];
        }
    }
    /* reference: index lists per dim */
    static int64_t lists[8][256];
    em_shape out = in;
    for (int32_t d = 0; d < in.rank; d++) {
        out.dims[d] = in.dims[d];
        for (int64_t j = 0; j < in.dims[d]; j++) lists[d][j] = j;
    }
    for (uint32_t i = 0; i < k; i++) {
        int32_t ax = (int32_t)(axes[i] < 0 ? axes[i] + in.rank : axes[i]);
        out.dims[ax] = py_indices(starts[i], ends[i], steps[i], in.dims[ax], lists[ax]);
    }
    size_t es = ember_dtype_size(dt), n_in = em_shape_count(&in), n = em_shape_count(&out);
    char* x = tu_make(dt, n_in, (uint32_t)form);
    char* want = malloc(n * es + 1);
    int64_t oi[8], ii[8];
    for (size_t f = 0; f < n; f++) {
        tu_unravel(f, &out, oi);
        for (int32_t d = 0; d < in.rank; d++) ii[d] = lists[d][oi[d]];
        memcpy(want + f * es, x + tu_ravel(ii, &in) * es, es);
    }
    oh_node node;
    oh_begin(&node, "Slice", 1);
    if (form == 3) {
        oh_ints(&node, "starts", k, starts);
        oh_ints(&node, "ends", k, ends);
        if (!default_axes) oh_ints(&node, "axes", k, axes);
    }
    oh_input(&node, dt, in, x);
    if (form == 2) {
        oh_constant(&node, EMBER_DTYPE_I32, OH_SHAPE(k), starts32);
        oh_constant(&node, EMBER_DTYPE_I32, OH_SHAPE(k), ends32);
        oh_constant(&node, EMBER_DTYPE_I32, OH_SHAPE(k), axes32);
        oh_constant(&node, EMBER_DTYPE_I32, OH_SHAPE(k), steps32);
    } else if (form == 0) {
        oh_constant(&node, EMBER_DTYPE_I64, OH_SHAPE(k), starts);
        oh_constant(&node, EMBER_DTYPE_I64, OH_SHAPE(k), ends);
        oh_constant(&node, EMBER_DTYPE_I64, OH_SHAPE(k), axes);
        oh_constant(&node, EMBER_DTYPE_I64, OH_SHAPE(k), steps);
    } else if (form == 1) {
        oh_constant(&node, EMBER_DTYPE_I64, OH_SHAPE(k), starts);
        oh_constant(&node, EMBER_DTYPE_I64, OH_SHAPE(k), ends);
        oh_absent(&node);
        oh_constant(&node, EMBER_DTYPE_I64, OH_SHAPE(k), steps);
    }
    tu_run_ok(&node);
    if (!em_shape_equal(&node.out[0].shape, &out)) {
        char a[160];
        print_message("Slice of %s, form %d:\n", em_shape_str(&in, a, sizeof a), form);
        for (uint32_t i = 0; i < k; i++)
            print_message("  axis %lld: start %lld end %lld step %lld\n", (long long)axes[i],
                          (long long)starts[i], (long long)ends[i], (long long)steps[i]);
    }
    tu_assert_shape(&node.out[0].shape, out);
    tu_assert_same(node.out[0].data, want, n, es, "Slice");
    oh_free(&node);
    free(x);
    free(want);
}

static void test_random(void** state) {
    (void)state;
    const em_shape shapes[] = {OH_SHAPE(9),       OH_SHAPE(1),       OH_SHAPE(0),
                               OH_SHAPE(4, 6),    OH_SHAPE(3, 4, 5), OH_SHAPE(2, 3, 4, 5),
                               OH_SHAPE(3, 1, 4, 2), OH_SHAPE(2, 3, 1, 2, 3, 2)};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        for (int form = 0; form < 4; form++)
            for (int rep = 0; rep < 60; rep++)
                slice_case(shapes[s], form, tu_dtypes[(size_t)rep % TU_DTYPES_N]);
}

static void test_hand_computed(void** state) {
    (void)state;
    const float x[10] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
    const int64_t st[1] = {-2}, en[1] = {INT64_MIN}, sp[1] = {-3};
    const float want[3] = {8, 5, 2};
    oh_node node;
    oh_begin(&node, "Slice", 1);
    oh_input(&node, EMBER_DTYPE_F32, OH_SHAPE(10), x);
    oh_constant(&node, EMBER_DTYPE_I64, OH_SHAPE(1), st);
    oh_constant(&node, EMBER_DTYPE_I64, OH_SHAPE(1), en);
    oh_absent(&node);
    oh_constant(&node, EMBER_DTYPE_I64, OH_SHAPE(1), sp);
    tu_run_ok(&node);
    tu_assert_shape(&node.out[0].shape, OH_SHAPE(3));
    oh_assert_close(node.out[0].data, want, 3, 0, 0);
    oh_free(&node);
    /* rows 1.. of a [3,4], columns 1..INT64_MAX step 2 */
    const int64_t x2[12] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
    const int64_t st2[2] = {1, 1}, en2[2] = {1000, INT64_MAX}, ax2[2] = {0, -1}, sp2[2] = {1, 2};
    const int64_t want2[4] = {5, 7, 9, 11};
    oh_begin(&node, "Slice", 1);
    oh_input(&node, EMBER_DTYPE_I64, OH_SHAPE(3, 4), x2);
    oh_constant(&node, EMBER_DTYPE_I64, OH_SHAPE(2), st2);
    oh_constant(&node, EMBER_DTYPE_I64, OH_SHAPE(2), en2);
    oh_constant(&node, EMBER_DTYPE_I64, OH_SHAPE(2), ax2);
    oh_constant(&node, EMBER_DTYPE_I64, OH_SHAPE(2), sp2);
    tu_run_ok(&node);
    tu_assert_shape(&node.out[0].shape, OH_SHAPE(2, 2));
    tu_assert_same(node.out[0].data, want2, 4, 8, "Slice");
    oh_free(&node);
}

static void test_errors(void** state) {
    (void)state;
    float x[12] = {0};
    const int64_t z[1] = {0}, one[1] = {1}, two[2] = {0, 0}, dup[2] = {0, -2}, big[1] = {2};
    oh_node node;
    oh_begin(&node, "Slice", 1);
    oh_input(&node, EMBER_DTYPE_F32, OH_SHAPE(3, 4), x);
    oh_constant(&node, EMBER_DTYPE_I64, OH_SHAPE(1), z);
    oh_constant(&node, EMBER_DTYPE_I64, OH_SHAPE(1), one);
    oh_constant(&node, EMBER_DTYPE_I64, OH_SHAPE(1), z);
    oh_constant(&node, EMBER_DTYPE_I64, OH_SHAPE(1), z);
    tu_assert_fails(&node, EMBER_ERROR_INVALID_MODEL, "is 0");
    oh_begin(&node, "Slice", 1);
    oh_input(&node, EMBER_DTYPE_F32, OH_SHAPE(3, 4), x);
    oh_input(&node, EMBER_DTYPE_I64, OH_SHAPE(1), z);
    oh_constant(&node, EMBER_DTYPE_I64, OH_SHAPE(1), one);
    tu_assert_fails(&node, EMBER_ERROR_UNSUPPORTED, "constant");
    oh_begin(&node, "Slice", 1);
    oh_input(&node, EMBER_DTYPE_F32, OH_SHAPE(3, 4), x);
    oh_constant(&node, EMBER_DTYPE_I64, OH_SHAPE(2), two);
    oh_constant(&node, EMBER_DTYPE_I64, OH_SHAPE(2), two);
    oh_constant(&node, EMBER_DTYPE_I64, OH_SHAPE(2), dup);
    tu_assert_fails(&node, EMBER_ERROR_INVALID_MODEL, "repeats");
    oh_begin(&node, "Slice", 1);
    oh_input(&node, EMBER_DTYPE_F32, OH_SHAPE(3, 4), x);
    oh_constant(&node, EMBER_DTYPE_I64, OH_SHAPE(1), z);
    oh_constant(&node, EMBER_DTYPE_I64, OH_SHAPE(2), two);
    tu_assert_fails(&node, EMBER_ERROR_INVALID_MODEL, "same length");
    oh_begin(&node, "Slice", 1);
    oh_input(&node, EMBER_DTYPE_F32, OH_SHAPE(3, 4), x);
    oh_constant(&node, EMBER_DTYPE_I64, OH_SHAPE(1), z);
    oh_constant(&node, EMBER_DTYPE_I64, OH_SHAPE(1), one);
    oh_constant(&node, EMBER_DTYPE_I64, OH_SHAPE(1), big);
    tu_assert_fails(&node, EMBER_ERROR_INVALID_MODEL, "out of range");
    oh_begin(&node, "Slice", 1);
    oh_input(&node, EMBER_DTYPE_F32, OH_SHAPE(3, 4), x);
    tu_assert_fails(&node, EMBER_ERROR_INVALID_MODEL, "starts");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hand_computed),
        cmocka_unit_test(test_random),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
