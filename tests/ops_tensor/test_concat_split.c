/* Concat and Split against naive references over ranks 1..4 (and 6), every
 * axis (also negative), several dtypes, every way of giving split sizes. */
#include "tensor_util.h"

/* Naive concat: output element at idx comes from the input whose range on axis holds idx[axis]. */
static void ref_concat(void* const* xs, const em_shape* shapes, int32_t axis,
                       const em_shape* out, void* y, size_t es) {
    int64_t idx[EMBER_MAX_RANK];
    for (size_t f = 0; f < em_shape_count(out); f++) {
        tu_unravel(f, out, idx);
        int64_t pos = idx[axis];
        uint32_t i = 0;
        while (pos >= shapes[i].dims[axis]) pos -= shapes[i++].dims[axis];
        idx[axis] = pos;
        memcpy((char*)y + f * es, (const char*)xs[i] + tu_ravel(idx, &shapes[i]) * es, es);
    }
}

static void concat_case(em_shape base, int64_t axis, uint32_t k, const int64_t* sizes,
                        ember_dtype dt) {
    size_t es = ember_dtype_size(dt);
    int32_t ax = (int32_t)(axis < 0 ? axis + base.rank : axis);
    em_shape shapes[8], out = base;
    void* xs[8];
    out.dims[ax] = 0;
    oh_node node;
    oh_begin(&node, "Concat", 1);
    oh_int(&node, "axis", axis);
    for (uint32_t i = 0; i < k; i++) {
        shapes[i] = base;
        shapes[i].dims[ax] = sizes[i];
        out.dims[ax] += sizes[i];
        xs[i] = tu_make(dt, em_shape_count(&shapes[i]), i + 1);
        if (i % 2)
            oh_constant(&node, dt, shapes[i], xs[i]);
        else
            oh_input(&node, dt, shapes[i], xs[i]);
    }
    size_t n = em_shape_count(&out);
    void* want = malloc(n * es + 1);
    ref_concat(xs, shapes, ax, &out, want, es);
    tu_run_ok(&node);
    tu_assert_shape(&node.out[0].shape, out);
    tu_assert_same(node.out[0].data, want, n, es, "Concat");
    oh_free(&node);
    for (uint32_t i = 0; i < k; i++) free(xs[i]);
    free(want);
}

static void test_concat(void** state) {
    (void)state;
    const em_shape bases[] = {OH_SHAPE(3), OH_SHAPE(3, 4), OH_SHAPE(2, 3, 4), OH_SHAPE(2, 3, 2, 3),
                              OH_SHAPE(2, 1, 2, 3, 1, 2)};
    const int64_t sizes[] = {2, 1, 3, 0};
    for (size_t b = 0; b < sizeof bases / sizeof bases[0]; b++)
        for (int64_t axis = -bases[b].rank; axis < bases[b].rank; axis++)
            for (uint32_t k = 1; k <= 4; k += 1)
                concat_case(bases[b], axis, k, sizes,
                            tu_dtypes[(b * 3 + (size_t)(axis + 8) + k) % TU_DTYPES_N]);

    const float a[4] = {1, 2, 3, 4}, c[2] = {5, 6}, want[6] = {1, 2, 5, 3, 4, 6};
    oh_node node;
    oh_begin(&node, "Concat", 1);
    oh_int(&node, "axis", 1);
    oh_input(&node, EMBER_DTYPE_F32, OH_SHAPE(2, 2), a);
    oh_input(&node, EMBER_DTYPE_F32, OH_SHAPE(2, 1), c);
    tu_run_ok(&node);
    tu_assert_shape(&node.out[0].shape, OH_SHAPE(2, 3));
    oh_assert_close(node.out[0].data, want, 6, 0, 0);
    oh_free(&node);
}

static void test_concat_errors(void** state) {
    (void)state;
    float x[24] = {0};
    int64_t xi[24] = {0};
    oh_node node;
    oh_begin(&node, "Concat", 1);
    oh_int(&node, "axis", 1);
    oh_input(&node, EMBER_DTYPE_F32, OH_SHAPE(2, 3), x);
    oh_input(&node, EMBER_DTYPE_F32, OH_SHAPE(3, 3), x);
    tu_assert_fails(&node, EMBER_ERROR_SHAPE_MISMATCH, "[3,3]");
    oh_begin(&node, "Concat", 1);
    oh_int(&node, "axis", 0);
    oh_input(&node, EMBER_DTYPE_F32, OH_SHAPE(2, 3), x);
    oh_input(&node, EMBER_DTYPE_F32, OH_SHAPE(2, 3, 1), x);
    tu_assert_fails(&node, EMBER_ERROR_SHAPE_MISMATCH, "except on axis");
    oh_begin(&node, "Concat", 1);
    oh_int(&node, "axis", 0);
    oh_input(&node, EMBER_DTYPE_F32, OH_SHAPE(2, 3), x);
    oh_input(&node, EMBER_DTYPE_I64, OH_SHAPE(2, 3), xi);
    tu_assert_fails(&node, EMBER_ERROR_DTYPE_MISMATCH, "i64");
    oh_begin(&node, "Concat", 1);
    oh_int(&node, "axis", -3);
    oh_input(&node, EMBER_DTYPE_F32, OH_SHAPE(2, 3), x);
    tu_assert_fails(&node, EMBER_ERROR_INVALID_MODEL, "axis -3");
}

/* Runs a Split node whose outputs must be the slices of x along axis of the given sizes. */
static void split_check(oh_node* node, const void* x, em_shape in, int32_t axis, uint32_t k,
                        const int64_t* sizes, size_t es) {
    tu_run_ok(node);
    int64_t start = 0, idx[EMBER_MAX_RANK];
    for (uint32_t i = 0; i < k; i++) {
        em_shape s = in;
        s.dims[axis] = sizes[i];
        tu_assert_shape(&node->out[i].shape, s);
        size_t n = em_shape_count(&s);
        char* want = malloc(n * es + 1);
        for (size_t f = 0; f < n; f++) {
            tu_unravel(f, &s, idx);
            idx[axis] += start;
            memcpy(want + f * es, (const char*)x + tu_ravel(idx, &in) * es, es);
        }
        tu_assert_same(node->out[i].data, want, n, es, "Split");
        free(want);
        start += sizes[i];
    }
    oh_free(node);
}

static void test_split(void** state) {
    (void)state;
    const em_shape shapes[] = {OH_SHAPE(6), OH_SHAPE(4, 6), OH_SHAPE(2, 6, 3), OH_SHAPE(6, 2, 3, 6),
                               OH_SHAPE(2, 1, 6, 1, 2, 6)};
    const int64_t sizes[] = {1, 3, 0, 2};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        const em_shape in = shapes[s];
        for (int64_t axis = -in.rank; axis < in.rank; axis++) {
            int32_t ax = (int32_t)(axis < 0 ? axis + in.rank : axis);
            int64_t dim = in.dims[ax];
            if (dim != 6) continue;
            ember_dtype dt = tu_dtypes[(s + (size_t)(axis + 8)) % TU_DTYPES_N];
            size_t es = ember_dtype_size(dt);
            void* x = tu_make(dt, em_shape_count(&in), 4);
            /* sizes as input (opset 13), as attribute (opset 2-11) */
            for (int form = 0; form < 2; form++) {
                oh_node node;
                oh_begin(&node, "Split", 4);
                oh_int(&node, "axis", axis);
                if (form) oh_ints(&node, "split", 4, sizes);
                oh_input(&node, dt, in, x);
                if (!form) oh_constant(&node, EMBER_DTYPE_I64, OH_SHAPE(4), sizes);
                split_check(&node, x, in, ax, 4, sizes, es);
            }
            /* equal split by the number of outputs */
            const int64_t eq[3] = {2, 2, 2};
            oh_node node;
            oh_begin(&node, "Split", 3);
            oh_int(&node, "axis", axis);
            oh_input(&node, dt, in, x);
            split_check(&node, x, in, ax, 3, eq, es);
            /* opset 18 num_outputs with an uneven last chunk: 6 = 2 + 2 + 2 (4 -> 2,2,2,0) */
            const int64_t uneven[4] = {2, 2, 2, 0};
            oh_begin(&node, "Split", 4);
            oh_int(&node, "axis", axis);
            oh_int(&node, "num_outputs", 4);
            oh_input(&node, dt, in, x);
            split_check(&node, x, in, ax, 4, uneven, es);
            free(x);
        }
    }
    /* num_outputs 4 over 7: 2, 2, 2, 1 */
    const int32_t x[7] = {0, 1, 2, 3, 4, 5, 6};
    const int64_t s7[4] = {2, 2, 2, 1};
    oh_node node;
    oh_begin(&node, "Split", 4);
    oh_int(&node, "num_outputs", 4);
    oh_input(&node, EMBER_DTYPE_I32, OH_SHAPE(7), x);
    split_check(&node, x, OH_SHAPE(7), 0, 4, s7, 4);
}

static void test_split_errors(void** state) {
    (void)state;
    float x[24] = {0};
    const int64_t bad_sum[2] = {2, 3}, neg[2] = {7, -1};
    oh_node node;
    oh_begin(&node, "Split", 2);
    oh_input(&node, EMBER_DTYPE_F32, OH_SHAPE(6, 4), x);
    oh_constant(&node, EMBER_DTYPE_I64, OH_SHAPE(2), bad_sum);
    tu_assert_fails(&node, EMBER_ERROR_SHAPE_MISMATCH, "add up to 5");
    oh_begin(&node, "Split", 2);
    oh_ints(&node, "split", 2, neg);
    oh_input(&node, EMBER_DTYPE_F32, OH_SHAPE(6, 4), x);
    tu_assert_fails(&node, EMBER_ERROR_INVALID_MODEL, "-1");
    oh_begin(&node, "Split", 3);
    oh_ints(&node, "split", 2, bad_sum);
    oh_input(&node, EMBER_DTYPE_F32, OH_SHAPE(6, 4), x);
    tu_assert_fails(&node, EMBER_ERROR_INVALID_MODEL, "3 outputs");
    oh_begin(&node, "Split", 4);
    oh_int(&node, "axis", 1);
    oh_input(&node, EMBER_DTYPE_F32, OH_SHAPE(4, 6), x);
    tu_assert_fails(&node, EMBER_ERROR_SHAPE_MISMATCH, "equal");
    oh_begin(&node, "Split", 4);
    oh_int(&node, "num_outputs", 4);
    oh_input(&node, EMBER_DTYPE_F32, OH_SHAPE(5), x);
    tu_assert_fails(&node, EMBER_ERROR_SHAPE_MISMATCH, "chunks");
    oh_begin(&node, "Split", 2);
    oh_int(&node, "num_outputs", 3);
    oh_input(&node, EMBER_DTYPE_F32, OH_SHAPE(6), x);
    tu_assert_fails(&node, EMBER_ERROR_INVALID_MODEL, "num_outputs");
    oh_begin(&node, "Split", 2);
    oh_input(&node, EMBER_DTYPE_F32, OH_SHAPE(6, 4), x);
    oh_input(&node, EMBER_DTYPE_I64, OH_SHAPE(2), bad_sum);
    tu_assert_fails(&node, EMBER_ERROR_UNSUPPORTED, "constant");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_concat), cmocka_unit_test(test_concat_errors),
        cmocka_unit_test(test_split),  cmocka_unit_test(test_split_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
