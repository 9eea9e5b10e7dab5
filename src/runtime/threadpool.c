/* Thread pool (see threadpool.h).
 *
 * One 64-bit word holds the job's generation (high half) and the index of the
 * next task to hand out (low half). A thread claims a task with a compare-and-
 * swap that also checks the generation, so a worker that wakes late can never
 * take a task of a later job with the function of an earlier one. The caller
 * publishes a job by bumping the generation; it knows the job is over when the
 * count of finished tasks reaches n_tasks.
 *
 * Sleeping uses the usual store-then-check pairing on sequentially consistent
 * atomics: a worker counts itself in `sleepers` before its last look at the
 * generation, under the mutex; the caller stores the generation and then
 * looks at `sleepers`, and broadcasts under the mutex when it is not zero.
 * The caller's wait for the last task works the same way with
 * `caller_sleeping`. When a job is over the caller sets the task index to
 * its maximum, so that no claim of that generation can succeed any more. */
#include "threadpool.h"

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

typedef struct em_worker {
    struct em_pool* pool;
    size_t index;
    pthread_t thread;
} em_worker;

struct em_pool {
    pthread_mutex_t mu;
    pthread_cond_t wake;         /* workers: a new job, or stop */
    pthread_cond_t done_cv;      /* caller: the last task finished */
    size_t n;                    /* threads, the caller included */
    em_worker* workers;          /* n - 1 */
    _Atomic uint64_t work;       /* generation << 32 | next task */
    _Atomic size_t done;         /* tasks finished in this generation */
    _Atomic int sleepers;
    _Atomic int caller_sleeping;
    _Atomic int stop;
    _Atomic(em_task_fn) fn;
    _Atomic(void*) arg;
    _Atomic size_t n_tasks;
    uint32_t gen;                /* caller's copy of the current generation */
};

static void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Spinning since start: true once it is time to sleep. Past the first few
 * microseconds the spin yields the CPU, so that on a busy machine it does not
 * hold up another thread (ours or not) that shares the core. */
static bool spin_done(uint64_t start) {
    const uint64_t t = now_ns() - start;
    if (t > EM_POOL_SPIN_NS) return true;
    if (t > EM_POOL_SPIN_NS / 10) sched_yield();
    return false;
}

static uint32_t gen_of(uint64_t w) { return (uint32_t)(w >> 32); }

/* Jobs of at most this many tasks claim them by a bit each (drain). */
#define MASK_TASKS 32

/* One task done: the caller, if it sleeps, is woken by the last. */
static void finished(em_pool* p, size_t n) {
    if (atomic_fetch_add(&p->done, 1) + 1 == n && atomic_load(&p->caller_sleeping)) {
        pthread_mutex_lock(&p->mu);
        pthread_cond_broadcast(&p->done_cv);
        pthread_mutex_unlock(&p->mu);
    }
}

/* Claims task t of generation gen (work's low bits a mask of claimed tasks):
 * false when it is taken or the generation is over. */
static bool claim_bit(em_pool* p, uint32_t gen, size_t t) {
    const uint64_t bit = (uint64_t)1 << t;
    uint64_t w = atomic_load_explicit(&p->work, memory_order_acquire);
    while (gen_of(w) == gen && !(w & bit))
        if (atomic_compare_exchange_weak_explicit(&p->work, &w, w | bit, memory_order_acq_rel,
                                                  memory_order_acquire))
            return true;
    return false;
}

/* Claims and runs tasks of generation gen until none is left. The caller of
 * drain has seen gen in p->work with acquire order, so fn, arg and n_tasks are
 * those of gen (they change only after every task of gen has finished).
 * Up to 32 tasks, work's low bits are a mask of those claimed, and thread i
 * takes tasks i, i + threads, ... first, then any left: a layer split in as
 * many parts as threads gives part i to thread i whenever it is there to
 * take it, so the next layer, split the same way, reads what its own core
 * wrote (dynamic claiming had the two threads swap parts from layer to layer
 * at random). More tasks are handed out from a counter, one at a time. */
static void drain(em_pool* p, uint32_t gen, size_t thread) {
    const em_task_fn fn = atomic_load_explicit(&p->fn, memory_order_relaxed);
    void* const arg = atomic_load_explicit(&p->arg, memory_order_relaxed);
    const size_t n = atomic_load_explicit(&p->n_tasks, memory_order_relaxed);
    if (n <= MASK_TASKS) {
        for (size_t t = thread; t < n; t += p->n)
            if (claim_bit(p, gen, t)) {
                fn(arg, t, thread);
                finished(p, n);
            }
        for (size_t t = 0; t < n; t++)
            if (claim_bit(p, gen, t)) {
                fn(arg, t, thread);
                finished(p, n);
            }
        return;
    }
    uint64_t w = atomic_load_explicit(&p->work, memory_order_acquire);
    for (;;) {
        if (gen_of(w) != gen || (size_t)(uint32_t)w >= n) return;
        if (!atomic_compare_exchange_weak_explicit(&p->work, &w, w + 1, memory_order_acq_rel,
                                                   memory_order_acquire))
            continue;
        fn(arg, (size_t)(uint32_t)w, thread);
        finished(p, n);
        w = atomic_load_explicit(&p->work, memory_order_acquire);
    }
}

static void* worker_main(void* a) {
    em_worker* self = a;
    em_pool* p = self->pool;
    uint32_t seen = 0;
    for (;;) {
        /* Wait for a generation other than seen: spin a while, then sleep. */
        uint64_t w = 0;
        const uint64_t start = now_ns();
        for (unsigned spins = 1;; spins++) {
            if (atomic_load_explicit(&p->stop, memory_order_acquire)) return NULL;
            w = atomic_load_explicit(&p->work, memory_order_acquire);
            if (gen_of(w) != seen) break;
            if ((spins & 63) == 0 && spin_done(start)) {
                pthread_mutex_lock(&p->mu);
                atomic_fetch_add(&p->sleepers, 1);
                while (gen_of(w = atomic_load(&p->work)) == seen && !atomic_load(&p->stop))
                    pthread_cond_wait(&p->wake, &p->mu);
                atomic_fetch_sub(&p->sleepers, 1);
                pthread_mutex_unlock(&p->mu);
                if (atomic_load(&p->stop)) return NULL;
                break;
            }
            cpu_relax();
        }
        seen = gen_of(w);
        drain(p, seen, self->index);
    }
}

size_t em_pool_threads(const em_pool* pool) { return pool ? pool->n : 1; }

em_pool* em_pool_create(size_t n) {
    if (n < 2) return NULL;
    em_pool* p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->workers = calloc(n - 1, sizeof *p->workers);
    if (!p->workers) {
        free(p);
        return NULL;
    }
    if (pthread_mutex_init(&p->mu, NULL) != 0) goto fail_mu;
    if (pthread_cond_init(&p->wake, NULL) != 0) goto fail_wake;
    if (pthread_cond_init(&p->done_cv, NULL) != 0) goto fail_done;
    atomic_init(&p->work, 0);
    atomic_init(&p->done, 0);
    atomic_init(&p->sleepers, 0);
    atomic_init(&p->caller_sleeping, 0);
    atomic_init(&p->stop, 0);
    atomic_init(&p->fn, NULL);
    atomic_init(&p->arg, NULL);
    atomic_init(&p->n_tasks, 0);
    p->n = 1;
    /* Workers block every signal: the application's threads get them. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    for (size_t i = 0; i + 1 < n; i++) {
        p->workers[i] = (em_worker){.pool = p, .index = i + 1};
        if (pthread_create(&p->workers[i].thread, NULL, worker_main, &p->workers[i]) != 0) break;
        p->n++;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (p->n == n) return p;
    em_pool_destroy(p);
    return NULL;

fail_done:
    pthread_cond_destroy(&p->wake);
fail_wake:
    pthread_mutex_destroy(&p->mu);
fail_mu:
    free(p->workers);
    free(p);
    return NULL;
}

void em_pool_destroy(em_pool* p) {
    if (!p) return;
    atomic_store(&p->stop, 1);
    pthread_mutex_lock(&p->mu);
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    for (size_t i = 0; i + 1 < p->n; i++) pthread_join(p->workers[i].thread, NULL);
    pthread_cond_destroy(&p->done_cv);
    pthread_cond_destroy(&p->wake);
    pthread_mutex_destroy(&p->mu);
    free(p->workers);
    free(p);
}

void em_pool_run(em_pool* p, size_t n_tasks, em_task_fn fn, void* arg) {
    if (n_tasks == 0) return;
    if (!p || n_tasks == 1) {
        for (size_t t = 0; t < n_tasks; t++) fn(arg, t, 0);
        return;
    }
    atomic_store_explicit(&p->fn, fn, memory_order_relaxed);
    atomic_store_explicit(&p->arg, arg, memory_order_relaxed);
    atomic_store_explicit(&p->n_tasks, n_tasks, memory_order_relaxed);
    atomic_store_explicit(&p->done, 0, memory_order_relaxed);
    const uint32_t gen = ++p->gen == 0 ? ++p->gen : p->gen; /* 0 is "no job yet" */
    atomic_store(&p->work, (uint64_t)gen << 32); /* seq_cst: publishes the job */
    if (atomic_load(&p->sleepers) > 0) {
        pthread_mutex_lock(&p->mu);
        pthread_cond_broadcast(&p->wake);
        pthread_mutex_unlock(&p->mu);
    }
    drain(p, gen, 0);
    /* Wait for the tasks other threads are still running. */
    const uint64_t start = now_ns();
    for (unsigned spins = 1; atomic_load_explicit(&p->done, memory_order_acquire) != n_tasks;
         spins++) {
        if ((spins & 63) == 0 && spin_done(start)) {
            pthread_mutex_lock(&p->mu);
            atomic_store(&p->caller_sleeping, 1);
            while (atomic_load(&p->done) != n_tasks) pthread_cond_wait(&p->done_cv, &p->mu);
            atomic_store(&p->caller_sleeping, 0);
            pthread_mutex_unlock(&p->mu);
            break;
        }
        cpu_relax();
    }
    /* Mark the finished generation exhausted before the next job's fn, arg
     * and n_tasks are written. Without it, a worker that woke late could read
     * the next job's (larger) n_tasks while work still holds this generation's
     * final index below it, and its compare-and-swap would then claim a task
     * of a job not yet published: that task would run twice and done would
     * overshoot, leaving the caller waiting forever. */
    atomic_store(&p->work, ((uint64_t)gen << 32) | 0xFFFFFFFFu);
}

size_t em_pool_effective_threads(int requested, int allow_oversubscribe) {
    size_t n = requested > 0 ? (size_t)requested : 1;
    if (allow_oversubscribe || n == 1) return n;
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    size_t cores = online > 0 ? (size_t)online : 1;
#ifdef CPU_COUNT
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        int c = CPU_COUNT(&set);
        if (c > 0 && (size_t)c < cores) cores = (size_t)c;
    }
#endif
    return n < cores ? n : cores;
}

typedef struct chunk_job {
    em_chunk_fn fn;
    void* arg;
    size_t n, chunk;
} chunk_job;

static void chunk_task(void* arg, size_t t, size_t thread) {
    (void)thread;
    const chunk_job* j = arg;
    const size_t i0 = t * j->chunk;
    if (i0 < j->n) j->fn(j->arg, i0, j->n - i0 < j->chunk ? j->n - i0 : j->chunk);
}

void em_pool_run_chunks(em_pool* pool, size_t n, size_t min_chunk, em_chunk_fn fn, void* arg) {
    const size_t threads = em_pool_threads(pool);
    const size_t most = min_chunk ? n / min_chunk : n;
    const size_t tasks = most < 2 * threads ? most : 2 * threads;
    if (tasks < 2) {
        if (n) fn(arg, 0, n);
        return;
    }
    chunk_job j = {.fn = fn, .arg = arg, .n = n, .chunk = ((n + tasks - 1) / tasks + 63) / 64 * 64};
    em_pool_run(pool, (n + j.chunk - 1) / j.chunk, chunk_task, &j);
}
