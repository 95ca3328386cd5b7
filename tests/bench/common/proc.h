/* What the benches share besides the broker process (broker.h): clocks, what /proc tells of a
 * process and of the machine, the median they all quote, and seeded text for payloads. */
#ifndef KWB_PROC_H
#define KWB_PROC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* CLOCK_MONOTONIC, in nanoseconds and in seconds. */
int64_t bench_now_ns(void);
double bench_now_s(void);
/* The milliseconds left until deadline_ns (bench_now_ns's clock), rounded up, as poll() takes
 * them: 0 once it has passed, 1,000,000 at most. */
int bench_ms_left(int64_t deadline_ns);
/* CPU seconds this process has run, all its threads together. */
double bench_self_cpu_s(void);

/* CPU seconds the process's threads have run, or -1. The schedulers' nanosecond counts
 * (/proc/PID/task/TID/schedstat) when the kernel keeps them, else /proc/PID/stat's 10 ms ticks:
 * a short run of a quiet broker takes only a few ticks. Threads that exit between two readings
 * take their time with them, so measure processes that keep their threads. */
double bench_proc_cpu_s(pid_t pid);
/* Resident set size in bytes, or -1. */
double bench_proc_rss(pid_t pid);
/* Writes the machine's 1, 5 and 15 minute load averages to out ("0.52 0.61 0.70"), or
 * "unknown". */
void bench_loadavg(char *out, size_t size);
/* The median of n values (n >= 1); v is left as it is. */
double bench_median(const double *v, int n);

/* xorshift64: the next value of the stream whose state (never 0) is *x. */
uint64_t bench_xorshift(uint64_t *x);
/* Fills p with n bytes of words drawn with bench_xorshift(x). */
void bench_fill_text(uint8_t *p, size_t n, uint64_t *x);

#endif
