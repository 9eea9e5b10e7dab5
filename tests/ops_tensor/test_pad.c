/* Pad against a naive reference (numpy.pad semantics, reflections computed by
 * bouncing) in every mode, over ranks 1..4 and 6, with negative pads (crops),
 * opset-18 axes, the value as a runtime input or as the opset-2 attribute. */
#include "tensor_util.h"

static uint32_t rng = 777;
static uint32_t next(void) {
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

/* Input index for output index s (already shifted by the begin pad); -1: the value. */
static int64_t ref_map(int64_t s, int64_t n, int mode) {
    if (s >= 0 && s < n) return s;
    switch (mode) {
    case 0: return -1;
    case 1: /* reflect: bounce off both ends without repeating the edge */
        if (n == 1) return 0;
        while (s < 0 || s >= n) s = s < 0 ? -s : 2 * (n - 1) - s;
        return s;
    case 2: return s < 0 ? 0 : n - 1;
    default:
        while (s < 0) s += n;
        while (s >= n) s -= n;
        return s;
    }
}

static const char* mode_names[4] = {"constant", "reflect", "edge", "wrap"};

/* form 0: opset 11 inputs (value runtime input), 1: opset 18 axes input,
 * 2: opset 2 attributes. */
static void pad_case(em_shape in, int mode, int form, ember_dtype dt) {
    int64_t begin[8] = {0}, end[8] = {0}, pads[16], axes[8];
    uint32_t na = (uint32_t)in.rank;
    bool use_axes = form == 1 && in.rank > 1;
    if (use_axes) na = 1 + next() % (uint32_t)(in.rank - 1);
    for (uint32_t i = 0; i < na; i++) {
        int64_t ax = use_axes ? (int64_t)((i * 2 + next() % 2) % (uint32_t)in.rank) : (int64_t)i;
        for (uint32_t j = 0; j < i; j++) /* keep axes distinct */
            if ((axes[j] + in.rank) % in.rank == ax) ax = -1;
        if (ax < 0) {
            na = i;
            break;
        }
        int64_t dim = in.dims[ax], b = (int64_t)(next() % 6) - 2, e = (int64_t)(next() % 6) - 2;
        if (b < -dim) b = -dim;
        if (e < -dim) e = -dim;
        if (dim + b + e < 0) e = -dim - b;
        begin[ax] = b;
        end[ax] = e;
        axes[i] = use_axes && next() % 2 ? ax - in.rank : ax;
    }
    for (uint32_t i = 0; i < na; i++) {
        int64_t ax = (axes[i] + in.rank) % in.rank;
        pads[i] = begin[ax];
        pads[na + i] = end[ax];
    }
    em_shape out = in;
    for (int32_t d = 0; d < in.rank; d++) out.dims[d] = in.dims[d] + begin[d] + end[d];
    float fvalue = 3.0f;
    if (form == 2) dt = EMBER_DTYPE_F32; /* the attribute value is a float */
    size_t es = ember_dtype_size(dt), n = em_shape_count(&out);
    char* x = tu_make(dt, em_shape_count(&in), 2);
    char* value = tu_make(dt, 1, 99);
    if (form == 2) memcpy(value, &fvalue, 4);
    char* want = malloc(n * es + 1);
    int64_t oi[8], ii[8];
    for (size_t f = 0; f < n; f++) {
        tu_unravel(f, &out, oi);
        bool outside = false;
        for (int32_t d = 0; d < in.rank; d++) {
            ii[d] = ref_map(oi[d] - begin[d], in.dims[d], mode);
            outside |= ii[d] < 0;
        }
        memcpy(want + f * es, outside ? value : x + tu_ravel(ii, &in) * es, es);
    }
    oh_node node;
    oh_begin(&node, "Pad", 1);
    if (mode || next() % 2) oh_string(&node, "mode", mode_names[mode]);
    if (form == 2) {
        oh_ints(&node, "pads", 2 * na, pads);
        oh_float(&node, "value", fvalue);
    }
    oh_input(&node, dt, in, x);
    if (form != 2) {
        oh_constant(&node, EMBER_DTYPE_I64, OH_SHAPE(2 * na), pads);
        if (mode == 0)
            oh_input(&node, dt, next() % 2 ? OH_SCALAR : OH_SHAPE(1), value);
        else
            oh_absent(&node);
        if (use_axes) oh_constant(&node, EMBER_DTYPE_I64, OH_SHAPE(na), axes);
    }
    tu_run_ok(&node);
    if (!em_shape_equal(&node.out[0].shape, &out) || memcmp(node.out[0].data, want, n * es)) {
        char a[160];
        print_message("Pad %s of %s (%s), form %d, pads:", mode_names[mode],
                      em_shape_str(&in, a, sizeof a), ember_dtype_name(dt), form);
        for (uint32_t i = 0; i < 2 * na; i++) print_message(" %lld", (long long)pads[i]);
        print_message("\n");
    }
    tu_assert_shape(&node.out[0].shape, out);
    tu_assert_same(node.out[0].data, want, n, es, mode_names[mode]);
    oh_free(&node);
    free(x);
    free(value);
    free(want);
}

static void test_random(void** state) {
    (void)state;
    const em_shape shapes[] = {OH_SHAPE(5),    OH_SHAPE(1),       OH_SHAPE(3, 4),
                               OH_SHAPE(2, 3, 4), OH_SHAPE(2, 1, 3, 4), OH_SHAPE(2, 1, 2, 3, 1, 2)};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        for (int mode = 0; mode < 4; mode++)
            for (int form = 0; form < 3; form++)
                for (int rep = 0; rep < 12; rep++)
                    pad_case(shapes[s], mode, form, tu_dtypes[(size_t)(rep + mode) % TU_DTYPES_N]);
}

static void test_hand_computed(void** state) {
    (void)state;
    const float x[3] = {1, 2, 3};
    const int64_t pads[2] = {2, 3};
    const float want[4][8] = {{0, 0, 1, 2, 3, 0, 0, 0},
                              {3, 2, 1, 2, 3, 2, 1, 2},
                              {1, 1, 1, 2, 3, 3, 3, 3},
                              {2, 3, 1, 2, 3, 1, 2, 3}};
    for (int mode = 0; mode < 4; mode++) {
        oh_node node;
        oh_begin(&node, "Pad", 1);
        oh_string(&node, "mode", mode_names[mode]);
        oh_input(&node, EMBER_DTYPE_F32, OH_SHAPE(3), x);
        oh_constant(&node, EMBER_DTYPE_I64, OH_SHAPE(2), pads);
        tu_run_ok(&node);
        tu_assert_shape(&node.out[0].shape, OH_SHAPE(8));
        oh_assert_close(node.out[0].data, want[mode], 8, 0, 0);
        oh_free(&node);
    }
    /* crop one side and pad the other; [2,3] -> [2,2] then pad rows */
    const int64_t x2[6] = {1, 2, 3, 4, 5, 6}, p2[4] = {1, -1, 0, 0}, v = -7;
    const int64_t want2[6] = {-7, -7, 2, 3, 5, 6};
    oh_node node;
    oh_begin(&node, "Pad", 1);
    oh_input(&node, EMBER_DTYPE_I64, OH_SHAPE(2, 3), x2);
    oh_constant(&node, EMBER_DTYPE_I64, OH_SHAPE(4), p2);
    oh_input(&node, EMBER_DTYPE_I64, OH_SCALAR, &v);
    tu_run_ok(&node);
    tu_assert_shape(&node.out[0].shape, OH_SHAPE(3, 2));
    tu_assert_same(node.out[0].data, want2, 6, 8, "Pad");
    oh_free(&node);
    /* the opset-2 value attribute converted to f16 and u8 */
    const uint16_t h[2] = {0x3C00, 0x4000};
    const int64_t p3[2] = {1, 1};
    oh_begin(&node, "Pad", 1);
    oh_ints(&node, "pads", 2, p3);
    oh_float(&node, "value", 1.5f);
    oh_input(&node, EMBER_DTYPE_F16, OH_SHAPE(2), h);
    tu_run_ok(&node);
    const uint16_t hw[4] = {0x3E00, 0x3C00, 0x4000, 0x3E00};
    tu_assert_same(node.out[0].data, hw, 4, 2, "Pad f16");
    oh_free(&node);
    const uint8_t u[1] = {5};
    oh_begin(&node, "Pad", 1);
    oh_ints(&node, "pads", 2, p3);
    oh_float(&node, "value", 300.0f);
    oh_input(&node, EMBER_DTYPE_U8, OH_SHAPE(1), u);
    tu_run_ok(&node);
    const uint8_t uw[3] = {255, 5, 255};
    tu_assert_same(node.out[0].data, uw, 3, 1, "Pad u8");
    oh_free(&node);
}

static void test_errors(void** state) {
    (void)state;
    float x[12] = {0};
    const int64_t three[3] = {1, 1, 1}, crop[4] = {-4, 0, 0, 0}, ok[4] = {1, 1, 1, 1};
    const int64_t e0[2] = {1, 0};
    const int64_t xi = 0;
    oh_node node;
    oh_begin(&node, "Pad", 1);
    oh_input(&node, EMBER_DTYPE_F32, OH_SHAPE(3, 4), x);
    oh_constant(&node, EMBER_DTYPE_I64, OH_SHAPE(3), three);
    tu_assert_fails(&node, EMBER_ERROR_INVALID_MODEL, "expected 4");
    oh_begin(&node, "Pad", 1);
    oh_input(&node, EMBER_DTYPE_F32, OH_SHAPE(3, 4), x);
    oh_constant(&node, EMBER_DTYPE_I64, OH_SHAPE(4), crop);
    tu_assert_fails(&node, EMBER_ERROR_SHAPE_MISMATCH, "-4");
    oh_begin(&node, "Pad", 1);
    oh_input(&node, EMBER_DTYPE_F32, OH_SHAPE(3, 4), x);
    oh_input(&node, EMBER_DTYPE_I64, OH_SHAPE(4), ok);
    tu_assert_fails(&node, EMBER_ERROR_UNSUPPORTED, "constant");
    oh_begin(&node, "Pad", 1);
    oh_string(&node, "mode", "mirror");
    oh_input(&node, EMBER_DTYPE_F32, OH_SHAPE(3, 4), x);
    oh_constant(&node, EMBER_DTYPE_I64, OH_SHAPE(4), ok);
    tu_assert_fails(&node, EMBER_ERROR_UNSUPPORTED, "mirror");
    oh_begin(&node, "Pad", 1);
    oh_string(&node, "mode", "reflect");
    oh_input(&node, EMBER_DTYPE_F32, OH_SHAPE(0), x);
    oh_constant(&node, EMBER_DTYPE_I64, OH_SHAPE(2), e0);
    tu_assert_fails(&node, EMBER_ERROR_SHAPE_MISMATCH, "empty");
    oh_begin(&node, "Pad", 1);
    oh_input(&node, EMBER_DTYPE_F32, OH_SHAPE(3, 4), x);
    oh_constant(&node, EMBER_DTYPE_I64, OH_SHAPE(4), ok);
    oh_input(&node, EMBER_DTYPE_I64, OH_SCALAR, &xi);
    tu_assert_fails(&node, EMBER_ERROR_DTYPE_MISMATCH, "constant_value");
    oh_begin(&node, "Pad", 1);
    oh_input(&node, EMBER_DTYPE_F32, OH_SHAPE(3, 4), x);
    oh_constant(&node, EMBER_DTYPE_I64, OH_SHAPE(4), ok);
    oh_input(&node, EMBER_DTYPE_F32, OH_SHAPE(2), x);
    tu_assert_fails(&node, EMBER_ERROR_SHAPE_MISMATCH, "one element");
    oh_begin(&node, "Pad", 1);
    oh_input(&node, EMBER_DTYPE_F32, OH_SHAPE(3, 4), x);
    tu_assert_fails(&node, EMBER_ERROR_INVALID_MODEL, "pads");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hand_computed),
        cmocka_unit_test(test_random),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
