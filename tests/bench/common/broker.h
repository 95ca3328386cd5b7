/* A broker the benches run as a child process: bin/mockbroker, or a bench serving another
 * broker. It prints "bootstrap=HOST:PORT[,...]" as its first line, with --admin-port an
 * "admin=http://127.0.0.1:PORT" line next, and exits once its stdin closes. */
#ifndef KWB_BROKER_H
#define KWB_BROKER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct bench_broker {
    pid_t pid;                      /* -1 when it is not running */
    int in_fd;                      /* its stdin: closing it tells it to exit */
    int out_fd;                     /* its stdout and stderr; non-blocking once started */
    char bootstrap[256];            /* the first server of its bootstrap line, HOST:PORT */
    int port;                       /* that server's port */
    int admin_port;                 /* of its admin API, if its admin line was asked for */
    char log[4096];                 /* the start of what it printed after those lines */
    size_t log_len;
    char prog[32];                  /* begins our messages about it */
    char name[256];                 /* names it in them */
};

/* Writes $BIN/mockbroker to path (BIN names the directory, bin by default): 0, or -1 having
 * said why, beginning with prog, if it is not an executable file. */
int bench_mockbroker_path(char *path, size_t size, const char *prog);
/* Runs argv[0] with argv, its stdin a pipe from us and its stdout and stderr one pipe to us, and
 * waits up to start_ms for its bootstrap line, then with want_admin its admin line. prog (such
 * as "bench_load") begins the messages on stderr, name (argv[0] if NULL) names the broker in
 * them; both are copied. Returns 0, or -1 having said why, stopped the broker (waiting up to
 * start_ms) and shown what it printed. */
int bench_broker_start(struct bench_broker *b, const char *prog, const char *name,
                       char *const argv[], int start_ms, bool want_admin);
/* Adds what the broker printed since the last call to its log, without waiting: a long run
 * calls it now and then, so that a chatty broker never blocks on a full pipe. */
void bench_broker_drain(struct bench_broker *b);
/* Closes its stdin and waits up to stop_ms for it to exit, then kills it; with show_log, shows
 * its log on stderr. True if it exited by itself with status 0; false, doing nothing, if it is
 * not running. The log stays in b. */
bool bench_broker_stop(struct bench_broker *b, int stop_ms, bool show_log);

#endif
