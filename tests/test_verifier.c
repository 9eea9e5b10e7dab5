/* The verifier, one rule at a time: each test damages one field of a valid
 * model (tests/models/mlp.ember), recomputes the checksum so that the damage
 * reaches the verifier, and checks the load is refused with the right status
 * and a message naming the problem. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../src/runtime/crc32.h"
#include "../src/runtime/format.h"
#include "ember.h"
#include "support/records.h"

typedef struct image {
    unsigned char* p;
    size_t size;
} image;

static image load_image(void) {
    const char* dir = getenv("EMBER_TEST_MODELS");
    char path[512];
    snprintf(path, sizeof path, "%s/mlp.ember", dir ? dir : "tests/models");
    image im;
    im.p = rec_slurp(path, &im.size);
    assert_non_null(im.p);
    return im;
}

static emf_header* header(image* im) { return (emf_header*)im->p; }

static emf_section* section(image* im, uint32_t kind) {
    emf_header* h = header(im);
    emf_section* t = (emf_section*)(im->p + h->section_table_offset);
    for (uint32_t i = 0; i < h->section_count; i++)
        if (t[i].kind == kind) return &t[i];
    return NULL;
}

static void* records_of(image* im, uint32_t kind) {
    emf_section* s = section(im, kind);
    assert_non_null(s);
    return im->p + s->offset;
}

static uint32_t count_of(image* im, uint32_t kind, size_t rec) {
    return (uint32_t)(section(im, kind)->size / rec);
}

static uint32_t find_string(image* im, const char* s) {
    emf_section* sec = section(im, EMF_SECTION_STRINGS);
    const char* base = (const char*)im->p + sec->offset;
    for (uint64_t off = 0; off < sec->size; off++)
        if (strcmp(base + off, s) == 0) return (uint32_t)off;
    fail_msg("string %s not in the model", s);
    return 0;
}

/* Recomputes the checksum, loads, expects the status and a message fragment. */
static void expect_refused(image* im, ember_status want, const char* fragment) {
    uint32_t crc = em_crc32(im->p + 64, im->size - 64);
    header(im)->checksum = crc;
    ember_model* m = NULL;
    ember_status st = ember_model_load_memory(im->p, im->size, NULL, &m);
    if (st != want || !strstr(ember_last_error(), fragment))
        fail_msg("expected status %d with '%s', got %d: %s", want, fragment, st, ember_last_error());
    assert_null(m);
    free(im->p);
}

static void test_valid_model_loads(void** state) {
    (void)state;
    image im = load_image();
    ember_model* m = NULL;
    assert_int_equal(ember_model_load_memory(im.p, im.size, NULL, &m), EMBER_OK);
    ember_model_free(m);
    free(im.p);
}

static void test_bad_magic(void** state) {
    (void)state;
    image im = load_image();
    im.p[1] = 'X';
    expect_refused(&im, EMBER_ERROR_INVALID_MODEL, "magic");
}

static void test_newer_major_version(void** state) {
    (void)state;
    image im = load_image();
    header(&im)->version_major = 2;
    expect_refused(&im, EMBER_ERROR_UNSUPPORTED, "version 2.0");
}

static void test_truncated(void** state) {
    (void)state;
    image im = load_image();
    im.size -= 1;
    expect_refused(&im, EMBER_ERROR_INVALID_MODEL, "truncated");
}

static void test_checksum(void** state) {
    (void)state;
    image im = load_image();
    im.p[im.size - 1] ^= 1;
    ember_model* m = NULL;
    assert_int_equal(ember_model_load_memory(im.p, im.size, NULL, &m), EMBER_ERROR_INVALID_MODEL);
    assert_non_null(strstr(ember_last_error(), "checksum"));
    free(im.p);
}

static void test_section_past_end(void** state) {
    (void)state;
    image im = load_image();
    section(&im, EMF_SECTION_NODES)->size = im.size;
    expect_refused(&im, EMBER_ERROR_INVALID_MODEL, "outside the file");
}

static void test_section_size_overflow(void** state) {
    (void)state;
    image im = load_image();
    section(&im, EMF_SECTION_WEIGHTS)->size = UINT64_MAX - 10;
    expect_refused(&im, EMBER_ERROR_INVALID_MODEL, "outside the file");
}

static void test_section_misaligned(void** state) {
    (void)state;
    image im = load_image();
    section(&im, EMF_SECTION_STRINGS)->offset += 8;
    expect_refused(&im, EMBER_ERROR_INVALID_MODEL, "not 64-byte aligned");
}

static void test_duplicate_section(void** state) {
    (void)state;
    image im = load_image();
    section(&im, EMF_SECTION_METADATA)->kind = EMF_SECTION_STRINGS;
    expect_refused(&im, EMBER_ERROR_INVALID_MODEL, "appears twice");
}

static void test_missing_section(void** state) {
    (void)state;
    image im = load_image();
    section(&im, EMF_SECTION_GRAPH)->kind = 200; /* unknown kinds are skipped */
    expect_refused(&im, EMBER_ERROR_INVALID_MODEL, "GRAPH is missing");
}

static void test_tensor_index_out_of_range(void** state) {
    (void)state;
    image im = load_image();
    emf_node* n = records_of(&im, EMF_SECTION_NODES);
    uint32_t* idx = records_of(&im, EMF_SECTION_INDICES);
    idx[n[0].input_first] = 9999;
    expect_refused(&im, EMBER_ERROR_INVALID_MODEL, "refers to tensor 9999");
}

static void test_node_list_outside_indices(void** state) {
    (void)state;
    image im = load_image();
    emf_node* n = records_of(&im, EMF_SECTION_NODES);
    n[1].input_first = UINT32_MAX - 1;
    n[1].input_count = 5;
    expect_refused(&im, EMBER_ERROR_INVALID_MODEL, "outside INDICES");
}

static void test_cycle(void** state) {
    (void)state;
    image im = load_image();
    /* node 0 reads the output of the last node: not topological (a cycle) */
    emf_node* n = records_of(&im, EMF_SECTION_NODES);
    uint32_t nn = count_of(&im, EMF_SECTION_NODES, sizeof(emf_node));
    uint32_t* idx = records_of(&im, EMF_SECTION_INDICES);
    idx[n[0].input_first] = idx[n[nn - 1].output_first];
    expect_refused(&im, EMBER_ERROR_INVALID_MODEL, "topological order");
}

static void test_produced_twice(void** state) {
    (void)state;
    image im = load_image();
    emf_node* n = records_of(&im, EMF_SECTION_NODES);
    uint32_t* idx = records_of(&im, EMF_SECTION_INDICES);
    idx[n[1].output_first] = idx[n[0].output_first];
    expect_refused(&im, EMBER_ERROR_INVALID_MODEL, "produced twice");
}

static void test_node_writes_constant(void** state) {
    (void)state;
    image im = load_image();
    emf_node* n = records_of(&im, EMF_SECTION_NODES);
    uint32_t* idx = records_of(&im, EMF_SECTION_INDICES);
    idx[n[0].output_first] = idx[n[0].input_first + 1]; /* the weight */
    expect_refused(&im, EMBER_ERROR_INVALID_MODEL, "which is a constant");
}

static emf_tensor* tensor_named(image* im, const char* name) {
    uint32_t ref = find_string(im, name);
    emf_tensor* t = records_of(im, EMF_SECTION_TENSORS);
    uint32_t n = count_of(im, EMF_SECTION_TENSORS, sizeof(emf_tensor));
    for (uint32_t i = 0; i < n; i++)
        if (t[i].name == ref) return &t[i];
    fail_msg("no tensor %s", name);
    return NULL;
}

/* The first constant tensor. */
static emf_tensor* a_constant(image* im) {
    emf_tensor* t = records_of(im, EMF_SECTION_TENSORS);
    uint32_t n = count_of(im, EMF_SECTION_TENSORS, sizeof(emf_tensor));
    for (uint32_t i = 0; i < n; i++)
        if (t[i].flags & EMF_TENSOR_CONSTANT) return &t[i];
    fail_msg("no constant");
    return NULL;
}

static void test_unknown_dtype(void** state) {
    (void)state;
    image im = load_image();
    tensor_named(&im, "x")->dtype = 42;
    expect_refused(&im, EMBER_ERROR_INVALID_MODEL, "unknown dtype 42");
}

static void test_rank_too_large(void** state) {
    (void)state;
    image im = load_image();
    tensor_named(&im, "x")->rank = 9;
    expect_refused(&im, EMBER_ERROR_INVALID_MODEL, "rank 9");
}

static void test_constant_size_overflow(void** state) {
    (void)state;
    image im = load_image();
    emf_tensor* c = a_constant(&im);
    c->dims[0] = (int64_t)1 << 62;
    expect_refused(&im, EMBER_ERROR_INVALID_MODEL, "overflows");
}

static void test_constant_wrong_size(void** state) {
    (void)state;
    image im = load_image();
    emf_tensor* c = a_constant(&im);
    c->dims[0] += 1;
    expect_refused(&im, EMBER_ERROR_INVALID_MODEL, "its shape and dtype need");
}

static void test_constant_outside_weights(void** state) {
    (void)state;
    image im = load_image();
    a_constant(&im)->data_offset = (uint64_t)1 << 40;
    expect_refused(&im, EMBER_ERROR_INVALID_MODEL, "outside WEIGHTS");
}

static void test_negative_dim(void** state) {
    (void)state;
    image im = load_image();
    tensor_named(&im, "x")->dims[1] = -7;
    expect_refused(&im, EMBER_ERROR_INVALID_MODEL, "dimension 1 is -7");
}

static void test_duplicate_tensor_name(void** state) {
    (void)state;
    image im = load_image();
    emf_tensor* t = records_of(&im, EMF_SECTION_TENSORS);
    t[1].name = t[0].name;
    expect_refused(&im, EMBER_ERROR_INVALID_MODEL, "two tensors are named");
}

static void test_string_outside(void** state) {
    (void)state;
    image im = load_image();
    emf_node* n = records_of(&im, EMF_SECTION_NODES);
    n[0].op_type = 0x7FFFFFF0u;
    expect_refused(&im, EMBER_ERROR_INVALID_MODEL, "outside STRINGS");
}

static void test_unsupported_operator(void** state) {
    (void)state;
    image im = load_image();
    uint32_t ref = find_string(&im, "Softmax");
    im.p[section(&im, EMF_SECTION_STRINGS)->offset + ref] = 'Z';
    expect_refused(&im, EMBER_ERROR_UNSUPPORTED, "unsupported operator: Zoftmax");
}

static void test_bad_attribute_type(void** state) {
    (void)state;
    image im = load_image();
    emf_attr* a = records_of(&im, EMF_SECTION_ATTRIBUTES);
    a[0].type = 9;
    expect_refused(&im, EMBER_ERROR_INVALID_MODEL, "unknown type 9");
}

static void test_attribute_array_overflow(void** state) {
    (void)state;
    image im = load_image();
    emf_attr* a = records_of(&im, EMF_SECTION_ATTRIBUTES);
    a[0].type = EMF_ATTR_INTS;
    a[0].value = 0;
    a[0].count = 0xFFFFFFFFu;
    expect_refused(&im, EMBER_ERROR_INVALID_MODEL, "outside ATTR_DATA");
}

static void test_attribute_wrong_type_for_operator(void** state) {
    (void)state;
    image im = load_image();
    emf_attr* a = records_of(&im, EMF_SECTION_ATTRIBUTES);
    uint32_t na = count_of(&im, EMF_SECTION_ATTRIBUTES, sizeof(emf_attr));
    uint32_t ref = find_string(&im, "transB");
    for (uint32_t i = 0; i < na; i++)
        if (a[i].name == ref) {
            a[i].type = EMF_ATTR_STRING;
            a[i].value = ref;
        }
    expect_refused(&im, EMBER_ERROR_INVALID_MODEL, "transB");
}

static void test_invalid_axis_found_by_shape_inference(void** state) {
    (void)state;
    image im = load_image();
    emf_node* n = records_of(&im, EMF_SECTION_NODES);
    uint32_t nn = count_of(&im, EMF_SECTION_NODES, sizeof(emf_node));
    emf_attr* a = records_of(&im, EMF_SECTION_ATTRIBUTES);
    emf_node* sm = &n[nn - 1]; /* Softmax(axis = -1) */
    assert_int_equal(sm->attr_count, 1);
    int64_t axis = 5;
    memcpy(&a[sm->attr_first].value, &axis, 8);
    expect_refused(&im, EMBER_ERROR_INVALID_MODEL, "Softmax");
}

static void test_unknown_activation(void** state) {
    (void)state;
    image im = load_image();
    emf_node* n = records_of(&im, EMF_SECTION_NODES);
    n[0].activation = 99;
    expect_refused(&im, EMBER_ERROR_INVALID_MODEL, "unknown fused activation 99");
}

static void test_activation_on_unfusable_op(void** state) {
    (void)state;
    image im = load_image();
    emf_node* n = records_of(&im, EMF_SECTION_NODES);
    uint32_t nn = count_of(&im, EMF_SECTION_NODES, sizeof(emf_node));
    n[nn - 1].activation = EMF_ACT_RELU; /* Softmax */
    expect_refused(&im, EMBER_ERROR_INVALID_MODEL, "not allowed on Softmax");
}

static void test_graph_output_not_produced(void** state) {
    (void)state;
    image im = load_image();
    emf_node* n = records_of(&im, EMF_SECTION_NODES);
    uint32_t nn = count_of(&im, EMF_SECTION_NODES, sizeof(emf_node));
    n[nn - 1].output_count = 0;
    expect_refused(&im, EMBER_ERROR_INVALID_MODEL, "has no outputs");
}

static void test_too_many_sections(void** state) {
    (void)state;
    image im = load_image();
    header(&im)->section_count = 100000;
    expect_refused(&im, EMBER_ERROR_INVALID_MODEL, "section count");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_model_loads),
        cmocka_unit_test(test_bad_magic),
        cmocka_unit_test(test_newer_major_version),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_checksum),
        cmocka_unit_test(test_section_past_end),
        cmocka_unit_test(test_section_size_overflow),
        cmocka_unit_test(test_section_misaligned),
        cmocka_unit_test(test_duplicate_section),
        cmocka_unit_test(test_missing_section),
        cmocka_unit_test(test_tensor_index_out_of_range),
        cmocka_unit_test(test_node_list_outside_indices),
        cmocka_unit_test(test_cycle),
        cmocka_unit_test(test_produced_twice),
        cmocka_unit_test(test_node_writes_constant),
        cmocka_unit_test(test_unknown_dtype),
        cmocka_unit_test(test_rank_too_large),
        cmocka_unit_test(test_constant_size_overflow),
        cmocka_unit_test(test_constant_wrong_size),
        cmocka_unit_test(test_constant_outside_weights),
        cmocka_unit_test(test_negative_dim),
        cmocka_unit_test(test_duplicate_tensor_name),
        cmocka_unit_test(test_string_outside),
        cmocka_unit_test(test_unsupported_operator),
        cmocka_unit_test(test_bad_attribute_type),
        cmocka_unit_test(test_attribute_array_overflow),
        cmocka_unit_test(test_attribute_wrong_type_for_operator),
        cmocka_unit_test(test_invalid_axis_found_by_shape_inference),
        cmocka_unit_test(test_unknown_activation),
        cmocka_unit_test(test_activation_on_unfusable_op),
        cmocka_unit_test(test_graph_output_not_produced),
        cmocka_unit_test(test_too_many_sections),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
