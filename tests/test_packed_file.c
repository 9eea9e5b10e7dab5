/* Pre-packed files (ember_model_pack_file, format 1.2): outputs bit-identical
 * to the unpacked model on every thread count and path; a layout this
 * machine's default path does not use falls back to packing; the per-part
 * checksums catch damage where the file is first read, at load, session
 * creation or first run, and every single-byte change either is refused with
 * a message or leaves the outputs bit-identical; bad arguments fail clearly
 * and leave no file behind. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "../src/runtime/crc32.h"
#include "../src/runtime/format.h"
#include "ember.h"
#include "support/records.h"

static char g_dir[256];
/* --threads: only the multi-threaded comparison (its own test in suite pool,
 * with the other tests that start threads). */
static bool g_threads;

static const char* models_dir(void) {
    const char* d = getenv("EMBER_TEST_MODELS");
    return d ? d : "tests/models";
}

static void model_path(char* buf, size_t cap, const char* name) {
    snprintf(buf, cap, "%s/%s", models_dir(), name);
}

static void tmp_path(char* buf, size_t cap, const char* name) {
    snprintf(buf, cap, "%s/%s", g_dir, name);
}

/* Runs the model's test input (tests/models/NAME.input.bin) and returns the
 * first output (malloc-ed, *bytes), or NULL with the status in *st. */
static float* run_model(const char* path, const char* name, uint32_t flags, int threads,
                        size_t* bytes, ember_status* st, char* err, size_t err_cap) {
    char in_path[512];
    snprintf(in_path, sizeof in_path, "%s/%s.input.bin", models_dir(), name);
    rec_tensor* in = NULL;
    size_t n_in = rec_read(in_path, &in);
    assert_true(n_in > 0);
    ember_model* m = NULL;
    ember_session* s = NULL;
    float* out = NULL;
    err[0] = '\0';
    *st = ember_model_load_file(path, NULL, &m);
    if (*st == EMBER_OK) {
        ember_session_options o;
        ember_session_options_init(&o);
        o.flags = flags;
        o.threads = threads;
        *st = ember_session_create(m, &o, &s);
    }
    for (size_t i = 0; *st == EMBER_OK && i < n_in; i++)
        *st = ember_session_set_input_by_name(s, in[i].name, in[i].dtype, in[i].dims, in[i].rank,
                                              in[i].data, in[i].bytes);
    if (*st == EMBER_OK) *st = ember_session_run(s);
    if (*st == EMBER_OK) {
        ember_tensor t = {.struct_size = sizeof t};
        *st = ember_session_output(s, 0, &t);
        if (*st == EMBER_OK) {
            out = malloc(t.bytes);
            memcpy(out, t.data, t.bytes);
            *bytes = t.bytes;
        }
    }
    if (*st != EMBER_OK) snprintf(err, err_cap, "%s", ember_last_error());
    ember_session_free(s);
    ember_model_free(m);
    rec_free(in, n_in);
    return out;
}

static float* run_ok(const char* path, const char* name, uint32_t flags, int threads, size_t* bytes) {
    ember_status st;
    char err[1024];
    float* out = run_model(path, name, flags, threads, bytes, &st, err, sizeof err);
    if (st != EMBER_OK) fail_msg("%s: %s", path, err);
    return out;
}

static bool isa_runs(uint32_t isa) {
    char p[512];
    model_path(p, sizeof p, "mlp.ember");
    ember_model* m = NULL;
    ember_session* s = NULL;
    assert_int_equal(ember_model_load_file(p, NULL, &m), EMBER_OK);
    ember_session_options o;
    ember_session_options_init(&o);
    o.flags = isa;
    bool ok = ember_session_create(m, &o, &s) == EMBER_OK;
    ember_session_free(s);
    ember_model_free(m);
    return ok;
}

static const char* const k_models[] = {"cnn", "mlp", "deep"};

/* Packed for the default path: every model, and a forced generic session
 * (which runs from the stored weights), equal the original; with --threads at
 * 3 and 2 threads. */
static void test_bit_identical(void** state) {
    (void)state;
    for (size_t k = 0; k < sizeof k_models / sizeof k_models[0]; k++) {
        char src[512], dst[512], file[64];
        snprintf(file, sizeof file, "%s.ember", k_models[k]);
        model_path(src, sizeof src, file);
        snprintf(file, sizeof file, "%s.packed.ember", k_models[k]);
        tmp_path(dst, sizeof dst, file);
        assert_int_equal(ember_model_pack_file(src, dst, NULL), EMBER_OK);
        struct stat a, b;
        assert_int_equal(stat(src, &a), 0);
        assert_int_equal(stat(dst, &b), 0);
        assert_true(b.st_size > a.st_size); /* it holds the packed copy too */
        const struct {
            uint32_t flags;
            int threads;
        } cases[] = {{0, 1}, {EMBER_SESSION_ISA_GENERIC, 1}, {0, 3}, {EMBER_SESSION_ISA_GENERIC, 2}};
        for (size_t c = g_threads ? 2 : 0; c < (g_threads ? 4u : 2u); c++) {
            size_t n1 = 0, n2 = 0;
            float* want = run_ok(src, k_models[k], cases[c].flags, cases[c].threads, &n1);
            float* got = run_ok(dst, k_models[k], cases[c].flags, cases[c].threads, &n2);
            assert_int_equal(n1, n2);
            if (memcmp(want, got, n1) != 0)
                fail_msg("%s, flags 0x%x, %d threads: outputs differ", k_models[k], cases[c].flags,
                         cases[c].threads);
            free(want);
            free(got);
        }
    }
}

/* Packed for another path than the default (if this machine runs two): the
 * layout does not match, the session packs from the weights as before. */
static void test_other_layout_falls_back(void** state) {
    (void)state;
    const uint32_t isas[] = {EMBER_SESSION_ISA_GENERIC, EMBER_SESSION_ISA_AVX2};
    for (size_t i = 0; i < 2; i++) {
        if (!isa_runs(isas[i])) continue;
        char src[512], dst[512];
        model_path(src, sizeof src, "deep.ember");
        tmp_path(dst, sizeof dst, "deep.other.ember");
        ember_session_options o;
        ember_session_options_init(&o);
        o.flags = isas[i];
        assert_int_equal(ember_model_pack_file(src, dst, &o), EMBER_OK);
        size_t n1 = 0, n2 = 0;
        float* want = run_ok(src, "deep", 0, 1, &n1);
        float* got = run_ok(dst, "deep", 0, 1, &n2);
        assert_int_equal(n1, n2);
        assert_memory_equal(want, got, n1);
        free(want);
        free(got);
        /* and a session forced onto that path runs from the stored weights */
        want = run_ok(src, "deep", isas[i], 1, &n1);
        got = run_ok(dst, "deep", isas[i], 1, &n2);
        assert_memory_equal(want, got, n1);
        free(want);
        free(got);
    }
}

static unsigned char* slurp(const char* path, size_t* size) {
    unsigned char* p = rec_slurp(path, size);
    assert_non_null(p);
    return p;
}

static void spit(const char* path, const unsigned char* data, size_t size) {
    FILE* f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, size, f), size);
    assert_int_equal(fclose(f), 0);
}

static const emf_section* find_section(const unsigned char* img, uint32_t kind) {
    const emf_header* h = (const emf_header*)img;
    const emf_section* t = (const emf_section*)(img + 64);
    for (uint32_t i = 0; i < h->section_count; i++)
        if (t[i].kind == kind) return &t[i];
    return NULL;
}

/* Recomputes every checksum of a 1.2 image after an edit (as a careless or
 * hostile writer would): the verifier and the runtime must still cope. */
static void fix_all_checksums(unsigned char* img, size_t size) {
    const emf_header* h = (const emf_header*)img;
    const emf_section* cs = find_section(img, EMF_SECTION_CHECKSUMS);
    const emf_section* pk = find_section(img, EMF_SECTION_PACKED);
    const emf_section* pd = find_section(img, EMF_SECTION_PACKED_DATA);
    if (pk && pd) {
        emf_packed* r = (emf_packed*)(img + pk->offset);
        for (uint64_t i = 0; i < pk->size / sizeof *r; i++)
            if (r[i].offset + r[i].size <= pd->size)
                r[i].crc = em_crc32(img + pd->offset + r[i].offset, (size_t)r[i].size);
    }
    if (cs) {
        emf_checksum* c = (emf_checksum*)(img + cs->offset);
        size_t n = (size_t)(cs->size / sizeof *c);
        for (size_t i = 1; i < n; i++)
            if (c[i].kind == EMF_CHECKSUM_SECTION) {
                const emf_section* s = find_section(img, c[i].index);
                if (s) c[i].crc = em_crc32(img + s->offset, (size_t)s->size);
            } else if (c[i].kind == EMF_CHECKSUM_SECTION_TABLE) {
                c[i].crc = em_crc32(img + 64, h->section_count * sizeof(emf_section));
            }
        c[0].crc = em_crc32(c + 1, (n - 1) * sizeof *c);
    }
    uint32_t crc = em_crc32(img + 64, size - 64);
    memcpy(img + 36, &crc, 4);
}

/* A test's files: MODEL.ember packed into the temporary folder as dst, a path
 * bad for damaged copies, and the packed image in memory (*img, *size). */
typedef struct fixture {
    char src[512], dst[512], bad[512];
    unsigned char* img;
    size_t size;
} fixture;

static void fixture_make(fixture* f, const char* model) {
    char name[64];
    snprintf(name, sizeof name, "%s.ember", model);
    model_path(f->src, sizeof f->src, name);
    snprintf(name, sizeof name, "%s.packed.ember", model);
    tmp_path(f->dst, sizeof f->dst, name);
    snprintf(name, sizeof name, "%s.bad.ember", model);
    tmp_path(f->bad, sizeof f->bad, name);
    assert_int_equal(ember_model_pack_file(f->src, f->dst, NULL), EMBER_OK);
    f->img = slurp(f->dst, &f->size);
}

static void expect_error(const char* path, const char* name, uint32_t flags, const char* needle) {
    ember_status st;
    char err[1024];
    size_t n;
    float* out = run_model(path, name, flags, 1, &n, &st, err, sizeof err);
    free(out);
    if (st != EMBER_ERROR_INVALID_MODEL || !strstr(err, needle))
        fail_msg("expected INVALID_MODEL with '%s', got status %d: '%s'", needle, st, err);
}

/* Damage where the file is read: a packed blob at the first run, a bias at
 * load, a weight only a forced session reads at that session's creation, the
 * records at load; a weight nothing reads is never checked. */
static void test_damage_found_where_read(void** state) {
    (void)state;
    fixture f;
    fixture_make(&f, "cnn");
    const char *src = f.src, *bad = f.bad;
    unsigned char* img = f.img;
    const size_t size = f.size;
    const emf_section* pd = find_section(img, EMF_SECTION_PACKED_DATA);
    const emf_section* w = find_section(img, EMF_SECTION_WEIGHTS);
    const emf_section* nodes = find_section(img, EMF_SECTION_NODES);
    assert_non_null(pd);
    assert_non_null(w);

    /* a packed blob: the load and the session are fine, the run names the node */
    img[pd->offset + 8] ^= 0x40;
    spit(bad, img, size);
    img[pd->offset + 8] ^= 0x40;
    ember_model* m = NULL;
    assert_int_equal(ember_model_load_file(bad, NULL, &m), EMBER_OK);
    ember_model_free(m);
    expect_error(bad, "cnn", 0, "pre-packed weights in the file are damaged");

    /* the records: refused at load */
    img[nodes->offset + 5] ^= 1;
    spit(bad, img, size);
    img[nodes->offset + 5] ^= 1;
    m = NULL;
    assert_int_equal(ember_model_load_file(bad, NULL, &m), EMBER_ERROR_INVALID_MODEL);
    assert_non_null(strstr(ember_last_error(), "checksum mismatch in NODES"));

    /* every weight in turn: refused where first read, or never read (then the
     * outputs are the original's) */
    size_t n_ok = 0, n_want = 0, n_refused = 0;
    float* wants[2] = {run_ok(src, "cnn", 0, 1, &n_want),
                       run_ok(src, "cnn", EMBER_SESSION_ISA_GENERIC, 1, &n_want)};
    for (uint64_t off = 0; off < w->size; off += 16) {
        img[w->offset + off] ^= 0x10;
        spit(bad, img, size);
        img[w->offset + off] ^= 0x10;
        for (int forced = 0; forced < 2; forced++) {
            ember_status st;
            char err[1024];
            size_t n = 0;
            float* got = run_model(bad, "cnn", forced ? EMBER_SESSION_ISA_GENERIC : 0, 1, &n, &st,
                                   err, sizeof err);
            if (st == EMBER_OK) {
                assert_int_equal(n, n_want);
                if (memcmp(got, wants[forced], n) != 0)
                    fail_msg("weight byte %llu changed (%s session): ran with different outputs",
                             (unsigned long long)off, forced ? "generic" : "default");
                n_ok++;
            } else {
                if (st != EMBER_ERROR_INVALID_MODEL || !strstr(err, "constant tensor"))
                    fail_msg("weight byte %llu: status %d '%s'", (unsigned long long)off, st, err);
                n_refused++;
            }
            free(got);
        }
    }
    /* the forced session reads every weight: all its runs were refused */
    assert_true(n_refused >= w->size / 16);
    assert_true(n_ok > 0); /* the packed weights' stored copy is never read by the default path */
    free(wants[0]);
    free(wants[1]);
    free(img);
}

/* A layout name changed to another path's (checksums recomputed): packs
 * instead, same bits. Broken PACKED records: refused at load, by name. */
static void test_records(void** state) {
    (void)state;
    fixture f;
    fixture_make(&f, "cnn");
    const char *src = f.src, *dst = f.dst, *bad = f.bad;
    size_t size = f.size, n1, n2;
    unsigned char* img = f.img;
    const emf_section* pk = find_section(img, EMF_SECTION_PACKED);
    assert_non_null(pk);
    emf_packed* r = (emf_packed*)(img + pk->offset);
    const size_t n_rec = (size_t)(pk->size / sizeof *r);
    assert_true(n_rec >= 2); /* two Convs and a Gemm pack */
    float* want = run_ok(src, "cnn", 0, 1, &n1);

    memset(r[0].layout, 0, sizeof r[0].layout);
    memcpy(r[0].layout, "someisa 1x1 kc1 v1", 18);
    fix_all_checksums(img, size);
    spit(bad, img, size);
    float* got = run_ok(bad, "cnn", 0, 1, &n2);
    assert_memory_equal(want, got, n1);
    free(got);

    free(img);
    const struct {
        size_t field; /* 0 node, 1 offset, 2 size, 3 layout unterminated, 4 twice, 5 reserved */
        const char* needle;
    } cases[] = {{0, "out of range"}, {1, "misaligned"}, {2, "outside PACKED_DATA"},
                 {3, "not NUL-terminated"}, {4, "twice"}, {5, "reserved"}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        img = slurp(dst, &size);
        r = (emf_packed*)(img + find_section(img, EMF_SECTION_PACKED)->offset);
        switch (cases[c].field) {
        case 0: r[0].node = 1000; break;
        case 1: r[0].offset += 8; break;
        case 2: r[0].size = 1ull << 40; break;
        case 3: memset(r[0].layout, 'a', sizeof r[0].layout); break;
        case 4: r[1].node = r[0].node; break;
        default: r[0].reserved = 1; break;
        }
        fix_all_checksums(img, size);
        spit(bad, img, size);
        ember_model* m = NULL;
        assert_int_equal(ember_model_load_file(bad, NULL, &m), EMBER_ERROR_INVALID_MODEL);
        if (!strstr(ember_last_error(), cases[c].needle))
            fail_msg("case %zu: '%s' lacks '%s'", c, ember_last_error(), cases[c].needle);
        /* from memory (the whole-file checksum), the same rules */
        assert_int_equal(ember_model_load_memory(img, size, NULL, &m), EMBER_ERROR_INVALID_MODEL);
        free(img);
    }
    free(want);
}

/* Every single-byte change of a packed file loaded from its path (the
 * per-part checksums; from memory the whole-file checksum refuses them all, as
 * test_robustness checks for every model): refused with a message at load,
 * session creation or run, or the outputs are bit-identical. */
static void test_every_byte(void** state) {
    (void)state;
    fixture f;
    fixture_make(&f, "mlp");
    const char *dst = f.dst, *bad = f.bad;
    const size_t size = f.size;
    size_t n_want;
    unsigned char* img = f.img;
    float* want = run_ok(dst, "mlp", 0, 1, &n_want);
    long refused = 0, same = 0;
    for (size_t off = 0; off < size; off++) {
        img[off] ^= 0x01;
        spit(bad, img, size);
        img[off] ^= 0x01;
        ember_status st;
        char err[1024];
        size_t n = 0;
        float* got = run_model(bad, "mlp", 0, 1, &n, &st, err, sizeof err);
        if (st == EMBER_OK) {
            if (n != n_want || memcmp(got, want, n) != 0)
                fail_msg("byte %zu changed: loaded and ran with different outputs", off);
            same++;
        } else {
            if (err[0] == '\0') fail_msg("byte %zu: status %d without a message", off, st);
            refused++;
        }
        free(got);
    }
    /* the ones that ran: the header's whole-file checksum and version_minor,
     * which this reader does not use for such a file, and the stored copies of
     * weights that run packed */
    print_message("%zu bytes: %ld refused, %ld ran with the same outputs\n", size, refused, same);
    assert_true(refused > (long)size / 2);
    free(want);
    free(img);
}

static void test_errors(void** state) {
    (void)state;
    char src[512], dst[512];
    model_path(src, sizeof src, "cnn.ember");
    tmp_path(dst, sizeof dst, "err.ember");
    assert_int_equal(ember_model_pack_file(NULL, dst, NULL), EMBER_ERROR_INVALID_ARGUMENT);
    assert_int_equal(ember_model_pack_file(src, NULL, NULL), EMBER_ERROR_INVALID_ARGUMENT);
    assert_int_equal(ember_model_pack_file("/nonexistent/x.ember", dst, NULL), EMBER_ERROR_IO);
    assert_non_null(strstr(ember_last_error(), "/nonexistent/x.ember"));
    assert_int_equal(ember_model_pack_file(src, "/nonexistent/dir/y.ember", NULL), EMBER_ERROR_IO);
    assert_non_null(strstr(ember_last_error(), "/nonexistent/dir/y.ember"));
    ember_session_options o;
    ember_session_options_init(&o);
    o.struct_size = 3;
    assert_int_equal(ember_model_pack_file(src, dst, &o), EMBER_ERROR_INVALID_ARGUMENT);
    ember_session_options_init(&o);
    o.flags = 0xF00; /* names no path */
    assert_int_equal(ember_model_pack_file(src, dst, &o), EMBER_ERROR_INVALID_ARGUMENT);
    /* a path this machine cannot run: refused by name, nothing written */
    const bool on_arm = isa_runs(EMBER_SESSION_ISA_NEON);
    o.flags = on_arm ? EMBER_SESSION_ISA_AVX512 : EMBER_SESSION_ISA_NEON;
    assert_int_equal(ember_model_pack_file(src, dst, &o), EMBER_ERROR_UNSUPPORTED);
    assert_non_null(strstr(ember_last_error(), on_arm ? "avx512" : "neon"));
    /* not a model: refused, and dst is not created */
    char junk[512];
    tmp_path(junk, sizeof junk, "junk.ember");
    spit(junk, (const unsigned char*)"not a model at all, not at all, not at all, not at all, no", 59);
    assert_int_equal(ember_model_pack_file(junk, dst, NULL), EMBER_ERROR_INVALID_MODEL);
    struct stat sb;
    assert_int_equal(stat(dst, &sb), -1);
    /* in place: src == dst, then packing a packed file again gives the same */
    char copy[512];
    tmp_path(copy, sizeof copy, "inplace.ember");
    size_t size, size2, size3;
    unsigned char* img = slurp(src, &size);
    spit(copy, img, size);
    free(img);
    assert_int_equal(ember_model_pack_file(copy, copy, NULL), EMBER_OK);
    img = slurp(copy, &size2);
    assert_int_equal(ember_model_pack_file(copy, copy, NULL), EMBER_OK);
    unsigned char* img2 = slurp(copy, &size3);
    assert_int_equal(size2, size3);
    assert_memory_equal(img, img2, size2);
    free(img);
    free(img2);
    /* no temporary file is left behind */
    char cmd[600];
    snprintf(cmd, sizeof cmd, "ls %s | grep -q tmp", g_dir);
    assert_int_not_equal(system(cmd), 0);
}

int main(int argc, char** argv) {
    g_threads = argc > 1 && strcmp(argv[1], "--threads") == 0;
    snprintf(g_dir, sizeof g_dir, "/tmp/ember_packed_XXXXXX");
    if (!mkdtemp(g_dir)) {
        perror("mkdtemp");
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bit_identical),          cmocka_unit_test(test_other_layout_falls_back),
        cmocka_unit_test(test_damage_found_where_read), cmocka_unit_test(test_records),
        cmocka_unit_test(test_every_byte),             cmocka_unit_test(test_errors),
    };
    const struct CMUnitTest thread_tests[] = {cmocka_unit_test(test_bit_identical)};
    int rc = g_threads ? cmocka_run_group_tests(thread_tests, NULL, NULL)
                       : cmocka_run_group_tests(tests, NULL, NULL);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", g_dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", g_dir);
    return rc;
}
