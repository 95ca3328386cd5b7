/* What the benches read about a broker process from /proc, and the median they all quote. */
#ifndef KWB_PROC_H
#define KWB_PROC_H

#include <sys/types.h>

/* CPU seconds the process's threads have run, or -1. The schedulers' nanosecond counts
 * (/proc/PID/task/TID/schedstat) when the kernel keeps them, else /proc/PID/stat's 10 ms ticks:
 * a short run of a quiet broker takes only a few ticks. Threads that exit between two readings
 * take their time with them, so measure processes that keep their threads. */
double bench_proc_cpu_s(pid_t pid);
/* Resident set size in bytes, or -1. */
double bench_proc_rss(pid_t pid);
/* The median of n values (n >= 1); v is left as it is. */
double bench_median(const double *v, int n);

#endif
