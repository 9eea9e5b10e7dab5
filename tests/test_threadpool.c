/* The session thread pool (src/runtime/threadpool.c): every task exactly once,
 * quick create/destroy, no thread for one thread, idle workers sleep, and the
 * parallel GEMM bit-identical to the single-threaded one. */
#include <dirent.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "f32_gemm.h"
#include "internal.h"
#include "threadpool.h"
#include "support/tasks.h"


static double cpu_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void sleep_ms(long ms) {
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

typedef struct cover {
    _Atomic unsigned* hits;
    size_t threads;
    _Atomic unsigned bad_thread;
} cover;

static void cover_task(void* arg, size_t t, size_t thread) {
    cover* c = arg;
    atomic_fetch_add(&c->hits[t], 1);
    if (thread >= c->threads) atomic_fetch_add(&c->bad_thread, 1);
}

static void check_cover(em_pool* p, size_t n_tasks) {
    cover c = {.hits = calloc(n_tasks ? n_tasks : 1, sizeof *c.hits),
               .threads = em_pool_threads(p)};
    assert_non_null(c.hits);
    em_pool_run(p, n_tasks, cover_task, &c);
    for (size_t t = 0; t < n_tasks; t++)
        if (c.hits[t] != 1) fail_msg("%zu threads, %zu tasks: task %zu ran %u times",
                                     em_pool_threads(p), n_tasks, t, c.hits[t]);
    assert_int_equal(c.bad_thread, 0);
    free(c.hits);
}

static void test_every_task_once(void** state) {
    (void)state;
    static const size_t threads[] = {1, 2, 3, 4, 8};
    /* up to 32 tasks claimed by a bit each, more from a counter */
    static const size_t tasks[] = {0, 1, 2, 3, 5, 7, 8, 31, 32, 33, 63, 64, 1000, 100003};
    for (size_t i = 0; i < sizeof threads / sizeof *threads; i++) {
        em_pool* p = em_pool_create(threads[i]);
        assert_int_equal(em_pool_threads(p), threads[i]);
        for (int rep = 0; rep < 3; rep++)
            for (size_t j = 0; j < sizeof tasks / sizeof *tasks; j++) check_cover(p, tasks[j]);
        em_pool_destroy(p);
    }
}

/* Back-to-back runs, some after a pause long enough for the workers to sleep. */
static void test_many_runs_with_sleeps(void** state) {
    (void)state;
    em_pool* p = em_pool_create(3);
    assert_non_null(p);
    for (int r = 0; r < 2000; r++) {
        check_cover(p, (size_t)(r % 17));
        if (r % 100 == 0) sleep_ms(1); /* longer than the spin: workers go to sleep */
    }
    em_pool_destroy(p);
}

/* Small and large jobs alternating: a worker waking late must never take a
 * task of the next job from a finished one (a task would run twice and the
 * pool would wait forever), whichever way either job hands out its tasks. */
static void test_alternating_job_sizes(void** state) {
    (void)state;
    for (size_t threads = 2; threads <= 4; threads++) {
        em_pool* p = em_pool_create(threads);
        assert_non_null(p);
        for (int r = 0; r < 20000; r++) check_cover(p, r % 2 ? 64 : 2 + (size_t)(r % 3));
        /* the two ways of claiming, on either side of 32 tasks */
        for (int r = 0; r < 4000; r++) check_cover(p, r % 2 ? 33 : 32 - (size_t)(r % 4));
        em_pool_destroy(p);
    }
}

static void test_create_destroy_quickly(void** state) {
    (void)state;
    int before = task_count();
    for (int i = 0; i < 300; i++) {
        em_pool* p = em_pool_create(2 + (size_t)(i % 4));
        assert_non_null(p);
        if (i % 2) check_cover(p, 10);
        em_pool_destroy(p);
    }
    assert_int_equal(task_count_settled(before), before);
}

static void test_one_thread_starts_none(void** state) {
    (void)state;
    int before = task_count();
    assert_true(before >= 1);
    assert_null(em_pool_create(1));
    assert_null(em_pool_create(0));
    assert_int_equal(task_count(), before);
    check_cover(NULL, 100); /* NULL runs inline */
    em_pool* p = em_pool_create(3);
    assert_int_equal(task_count(), before + 2);
    em_pool_destroy(p);
    assert_int_equal(task_count_settled(before), before);
}

static void test_idle_pool_sleeps(void** state) {
    (void)state;
    em_pool* p = em_pool_create(4);
    assert_non_null(p);
    check_cover(p, 1000);
    double c0 = cpu_seconds();
    sleep_ms(200);
    double used = cpu_seconds() - c0;
    em_pool_destroy(p);
    if (used > 0.050) fail_msg("an idle pool of 4 used %.1f ms of CPU in 200 ms", used * 1e3);
}

static void test_effective_threads(void** state) {
    (void)state;
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    assert_int_equal(em_pool_effective_threads(0, 0), 1);
    assert_int_equal(em_pool_effective_threads(1, 0), 1);
    assert_true(em_pool_effective_threads(1024, 0) <= (size_t)(online > 0 ? online : 1));
    assert_true(em_pool_effective_threads(1024, 0) >= 1);
    assert_int_equal(em_pool_effective_threads(8, 1), 8);
}

/* ---- parallel GEMM: bit-identical to one thread ---- */

static uint32_t rng = 12345;
static float frand(void) {
    rng = rng * 1664525u + 1013904223u;
    return (float)(rng >> 8) / 16777216.0f - 0.5f;
}

static void gemm_case(const ember_kernels* kern, em_pool* pool, size_t m, size_t n, size_t k,
                      int trans_a, float alpha, float beta) {
    float* a = malloc(m * k * sizeof *a + 4);
    float* b = malloc(k * n * sizeof *b + 4);
    float* c1 = malloc(m * n * sizeof *c1 + 4);
    float* c2 = malloc(m * n * sizeof *c2 + 4);
    const size_t ws_bytes = ember_f32_gemm_workspace_size(kern, m, n, k);
    void* ws = malloc(ws_bytes + 1);
    assert_true(a && b && c1 && c2 && ws);
    for (size_t i = 0; i < m * k; i++) a[i] = frand();
    for (size_t i = 0; i < k * n; i++) b[i] = frand();
    for (size_t i = 0; i < m * n; i++) c1[i] = c2[i] = frand();
    const size_t a_rs = trans_a ? 1 : k, a_cs = trans_a ? m : 1;
    ember_f32_gemm(kern, m, n, k, alpha, a, a_rs, a_cs, b, n, 1, beta, c1, n, ws);
    ember_f32_gemm_mt(pool, kern, m, n, k, alpha, a, a_rs, a_cs, b, n, 1, beta, c2, n, ws);
    if (memcmp(c1, c2, m * n * sizeof *c1) != 0)
        fail_msg("%s, %zu threads: %zux%zux%zu differs from one thread", kern->isa,
                 em_pool_threads(pool), m, n, k);
    /* operands packed ahead */
    float* ap = em_aligned_alloc(ember_f32_gemm_packed_a_size(kern, m, k) + 64);
    float* bp = em_aligned_alloc(ember_f32_gemm_packed_b_size(kern, n, k) + 64);
    assert_true(ap && bp);
    ember_f32_gemm_pack_a_full(kern, m, k, alpha, a, a_rs, a_cs, ap);
    ember_f32_gemm_pack_b_full(kern, n, k, b, n, 1, bp);
    for (size_t i = 0; i < m * n; i++) c1[i] = c2[i] = (float)i;
    ember_f32_gemm_prepacked_a(kern, m, n, k, ap, b, n, 1, beta, c1, n, ws);
    ember_f32_gemm_prepacked_a_mt(pool, kern, m, n, k, ap, b, n, 1, beta, c2, n, ws);
    if (memcmp(c1, c2, m * n * sizeof *c1) != 0)
        fail_msg("%s, %zu threads: %zux%zux%zu A packed ahead differs from one thread", kern->isa,
                 em_pool_threads(pool), m, n, k);
    for (size_t i = 0; i < m * n; i++) c1[i] = c2[i] = (float)i;
    ember_f32_gemm_prepacked_b(kern, m, n, k, alpha, a, a_rs, a_cs, bp, beta, c1, n, ws);
    ember_f32_gemm_prepacked_b_mt(pool, kern, m, n, k, alpha, a, a_rs, a_cs, bp, beta, c2, n, ws);
    if (memcmp(c1, c2, m * n * sizeof *c1) != 0)
        fail_msg("%s, %zu threads: %zux%zux%zu B packed ahead differs from one thread", kern->isa,
                 em_pool_threads(pool), m, n, k);
    /* and with an output pass: a column bias, then SiLU */
    float* bias = malloc(n * sizeof *bias + 4);
    assert_non_null(bias);
    for (size_t j = 0; j < n; j++) bias[j] = frand();
    const ember_f32_gemm_extra ex = {.col_bias = bias, .act = EMBER_GEMM_ACT_SILU};
    for (size_t i = 0; i < m * n; i++) c1[i] = c2[i] = (float)i;
    ember_f32_gemm_prepacked_b_ex(kern, m, n, k, alpha, a, a_rs, a_cs, bp, beta, c1, n, &ex, ws);
    ember_f32_gemm_prepacked_b_ex_mt(pool, kern, m, n, k, alpha, a, a_rs, a_cs, bp, beta, c2, n,
                                     &ex, ws);
    if (memcmp(c1, c2, m * n * sizeof *c1) != 0)
        fail_msg("%s, %zu threads: %zux%zux%zu B packed ahead with a bias differs from one thread",
                 kern->isa, em_pool_threads(pool), m, n, k);
    free(bias);
    em_aligned_free(ap);
    em_aligned_free(bp);
    free(a);
    free(b);
    free(c1);
    free(c2);
    free(ws);
}

/* em_pool_run_chunks covers [0, n) exactly once, in chunks that are multiples
 * of 64 long (but the last) and at least min_chunk, with and without a pool. */
typedef struct chunk_seen {
    _Atomic unsigned char* hit;
    size_t min_chunk, n;
    atomic_int bad;
} chunk_seen;

static void record_chunk(void* arg, size_t i0, size_t len) {
    chunk_seen* c = arg;
    if (len == 0 || i0 + len > c->n || (i0 + len < c->n && (len % 64 != 0 || len < c->min_chunk)))
        atomic_fetch_add(&c->bad, 1);
    for (size_t i = i0; i < i0 + len && i < c->n; i++) atomic_fetch_add(&c->hit[i], 1);
}

static void test_run_chunks(void** state) {
    (void)state;
    static const size_t sizes[] = {0, 1, 63, 64, 1000, 16384, 32768, 100000, 1 << 20};
    for (size_t threads = 1; threads <= 3; threads++) {
        em_pool* pool = em_pool_create(threads);
        assert_true(threads == 1 || pool != NULL);
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
            chunk_seen c = {.min_chunk = 1 << 14, .n = sizes[s]};
            c.hit = calloc(sizes[s] + 1, 1);
            atomic_init(&c.bad, 0);
            em_pool_run_chunks(pool, c.n, c.min_chunk, record_chunk, &c);
            assert_int_equal(atomic_load(&c.bad), 0);
            for (size_t i = 0; i < c.n; i++) assert_int_equal(c.hit[i], 1);
            free((void*)c.hit);
        }
        em_pool_destroy(pool);
    }
}

static void test_parallel_gemm_identical(void** state) {
    (void)state;
    static const char* isas[] = {"generic", "avx2", "avx512", "neon"};
    static const size_t shapes[][3] = {
        {1, 1, 1},      {5, 7, 3},       {64, 3136, 576}, {512, 49, 4608}, {1, 1000, 512},
        {300, 1, 700},  {37, 2100, 33},  {150, 150, 150}, {1000, 40, 64},  {13, 4099, 260},
        {289, 97, 1031}, {2, 5000, 100}, {1, 4099, 300}, {1000, 1, 513},
        {128, 256, 1024}, /* a transformer's feed-forward output: K blocks on one row block */
    };
    em_pool* pools[] = {em_pool_create(2), em_pool_create(3)};
    for (size_t i = 0; i < sizeof isas / sizeof *isas; i++) {
        const ember_kernels* kern = ember_kernels_for(isas[i]);
        if (!kern) continue;
        for (size_t p = 0; p < 2; p++)
            for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++)
                gemm_case(kern, pools[p], shapes[s][0], shapes[s][1], shapes[s][2], (int)(s % 2),
                          s % 3 ? 1.0f : 0.5f, s % 4 == 1 ? 0.0f : (s % 4 == 2 ? 1.0f : 0.75f));
    }
    em_pool_destroy(pools[0]);
    em_pool_destroy(pools[1]);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_task_once),
        cmocka_unit_test(test_many_runs_with_sleeps),
        cmocka_unit_test(test_alternating_job_sizes),
        cmocka_unit_test(test_create_destroy_quickly),
        cmocka_unit_test(test_one_thread_starts_none),
        cmocka_unit_test(test_idle_pool_sleeps),
        cmocka_unit_test(test_effective_threads),
        cmocka_unit_test(test_run_chunks),
        cmocka_unit_test(test_parallel_gemm_identical),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
