/* A small pthread pool for parallel-for, owned by a session.
 *
 * em_pool_create(n) starts n - 1 workers; the thread calling em_pool_run is the
 * n-th. Up to 32 tasks, thread i first takes tasks i, i + n, ... and then any
 * left (so that layers split alike keep each part on one core); more are
 * handed out one at a time from a shared counter. Which thread runs which
 * task still varies from run to run (a slow thread's tasks are taken by the
 * others): a task must compute the same thing whichever thread runs it
 * (disjoint outputs, the same arithmetic as a single thread), and then the
 * results never depend on the thread count.
 *
 * Idle workers spin for a bounded time (EM_POOL_SPIN_NS) after their last task,
 * so that back-to-back parallel regions start quickly, then sleep on a
 * condition variable: an idle pool costs its host no CPU.
 *
 * One thread at a time may call em_pool_run on a pool (a session is used by one
 * thread at a time). em_pool_run does not allocate. */
#ifndef EMBER_THREADPOOL_H
#define EMBER_THREADPOOL_H

#include <stddef.h>

typedef struct em_pool em_pool;

/* task is in [0, n_tasks); thread in [0, em_pool_threads(pool)) names the
 * thread running it (0: the caller), for per-thread scratch. */
typedef void (*em_task_fn)(void* arg, size_t task, size_t thread);

#define EM_POOL_SPIN_NS 50000u

/* A pool of n threads, the caller included (n - 1 workers started); NULL if
 * n < 2 (no pool is needed: em_pool_run(NULL, ...) runs inline) or if the
 * threads could not be started. */
em_pool* em_pool_create(size_t n);

/* Stops and joins the workers. NULL is a no-op. */
void em_pool_destroy(em_pool* pool);

/* Threads of the pool, the caller included; 1 for NULL. */
size_t em_pool_threads(const em_pool* pool);

/* Runs fn(arg, t, thread) for every t in [0, n_tasks), on the pool's threads and
 * the caller's, and returns when all are done. pool may be NULL (all inline, in
 * order). n_tasks must be below 2^32 - 1. */
void em_pool_run(em_pool* pool, size_t n_tasks, em_task_fn fn, void* arg);

/* fn(arg, i0, len) over [0, n) in chunks, on the pool's threads: about two
 * chunks a thread, each a multiple of 64 elements (so a vector kernel sees the
 * same vectors and tail as on one thread) and at least min_chunk long; one call
 * on the caller's thread when n is under 2 * min_chunk or pool is NULL. For
 * elementwise work, whose results then do not depend on the thread count. */
typedef void (*em_chunk_fn)(void* arg, size_t i0, size_t len);
void em_pool_run_chunks(em_pool* pool, size_t n, size_t min_chunk, em_chunk_fn fn, void* arg);

/* Number of threads a session should use when asked for `requested` (0 = the
 * default, 1): at most the online CPUs unless allow_oversubscribe. */
size_t em_pool_effective_threads(int requested, int allow_oversubscribe);

#endif
