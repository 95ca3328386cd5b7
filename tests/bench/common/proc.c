#include "tests/bench/common/proc.h"

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int64_t bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

double bench_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int bench_ms_left(int64_t deadline_ns)
{
    int64_t left = deadline_ns - bench_now_ns();
    return left <= 0 ? 0 : left > 1000000000000 ? 1000000 : (int)(left / 1000000) + 1;
}

double bench_self_cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double stat_cpu_s(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = 0;
    /* The command name may hold spaces and parentheses: the fields start after the last ')'.
     * utime and stime are fields 14 and 15, the 12th and 13th after it. */
    char *p = strrchr(buf, ')');
    unsigned long ut, st;
    if (p == NULL || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut,
                            &st) != 2)
        return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

double bench_proc_cpu_s(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
    DIR *d = opendir(path);
    if (d == NULL)
        return -1;
    double total = 0;
    bool ok = true;
    struct dirent *e;
    while (ok && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char file[320];
        unsigned long long ns;
        snprintf(file, sizeof(file), "/proc/%d/task/%s/schedstat", (int)pid, e->d_name);
        FILE *f = fopen(file, "r");
        ok = f != NULL && fscanf(f, "%llu", &ns) == 1;
        if (f)
            fclose(f);
        total += ok ? (double)ns / 1e9 : 0;
    }
    closedir(d);
    return ok ? total : stat_cpu_s(pid);
}

double bench_proc_rss(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    double rss = -1;
    long kb;
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
            rss = (double)kb * 1024;
    fclose(f);
    return rss;
}

void bench_loadavg(char *out, size_t size)
{
    FILE *f = fopen("/proc/loadavg", "r");
    double a, b, c;
    if (f == NULL || fscanf(f, "%lf %lf %lf", &a, &b, &c) != 3)
        snprintf(out, size, "unknown");
    else
        snprintf(out, size, "%.2f %.2f %.2f", a, b, c);
    if (f)
        fclose(f);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

double bench_median(const double *v, int n)
{
    double *s = malloc(sizeof(double) * (size_t)n);
    if (s == NULL)
        return v[n / 2];
    memcpy(s, v, sizeof(double) * (size_t)n);
    qsort(s, (size_t)n, sizeof(double), cmp_double);
    double m = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    free(s);
    return m;
}

uint64_t bench_xorshift(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

/* Words rather than noise, as an application's records would hold: a codec finds in them what
 * it would find in those. */
void bench_fill_text(uint8_t *p, size_t n, uint64_t *x)
{
    static const char *const words[] = { "order ", "id ", "customer ", "\"status\": ", "paid ",
                                         "shipped ", "2024-10-25 ", "eur ", "17.50 ", "{ ",
                                         "} ", "kafka ", "partition ", "3 ", "true ", "null ",
                                         "\"sku\": ", "4711 ", "berlin ", "lisbon ", "false ",
                                         "\"qty\": ", "12 ", "\"note\": " };
    size_t n_words = sizeof(words) / sizeof(words[0]);
    for (size_t i = 0; i < n;)
        for (const char *w = words[bench_xorshift(x) % n_words]; *w && i < n; w++)
            p[i++] = (uint8_t)*w;
}
