/* Threads of this process, for the tests that check a pool or a session
 * starts and stops exactly the threads it should (Linux: /proc/self/task). */
#ifndef EMBER_TEST_TASKS_H
#define EMBER_TEST_TASKS_H

#include <dirent.h>
#include <unistd.h>

/* Threads of this process now; -1 when /proc/self/task cannot be read. */
static inline int task_count(void) {
    DIR* d = opendir("/proc/self/task");
    if (!d) return -1;
    int n = 0;
    struct dirent* e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.') n++;
    closedir(d);
    return n;
}

/* task_count() once it equals want, or after 2 s. After pthread_join returns,
 * the kernel drops the joined thread from /proc/self/task a moment later, so a
 * count right after stopping threads can still see them. */
static inline int task_count_settled(int want) {
    int n = task_count();
    for (int w = 0; n != want && w < 2000; w++) {
        usleep(1000);
        n = task_count();
    }
    return n;
}

#endif
