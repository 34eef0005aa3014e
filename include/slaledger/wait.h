/*
 * slaledger/wait.h: timed waits on condition variables measured by CLOCK_MONOTONIC.
 *
 * Every timed wait in slaledger uses these, so that a wall-clock step (NTP, an operator's
 * `date -s`, libfaketime in the date tests) neither ends a wait early nor stretches it forever.
 * Thread-safety: reentrant; the condition variable's own rules apply.
 */
#ifndef SLALEDGER_WAIT_H
#define SLALEDGER_WAIT_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

/** Initialises cv so that pthread_cond_timedwait reads its deadline on CLOCK_MONOTONIC.
 * Returns 0 or the errno of the failing pthread call. */
int sl_cond_init_monotonic(pthread_cond_t *cv);

/** The CLOCK_MONOTONIC instant ms milliseconds from now (ms < 0 counts as 0): the deadline
 * for pthread_cond_timedwait on a cv from sl_cond_init_monotonic. */
struct timespec sl_deadline_after(int64_t ms);

#endif
