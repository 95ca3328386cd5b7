#include "tests/bench/common/broker.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/bench/common/proc.h"

int bench_mockbroker_path(char *path, size_t size, const char *prog)
{
    const char *bin = getenv("BIN");
    snprintf(path, size, "%s/mockbroker", bin && *bin ? bin : "bin");
    if (access(path, X_OK) == 0)
        return 0;
    fprintf(stderr, "%s: %s: %s (build it with make, or set BIN)\n", prog, path, strerror(errno));
    return -1;
}

/* Keeps the start of what the broker printed, for when a run fails. */
static void keep(struct bench_broker *b, const char *p, size_t n)
{
    size_t room = sizeof(b->log) - 1 - b->log_len;
    n = n < room ? n : room;
    memcpy(b->log + b->log_len, p, n);
    b->log_len += n;
    b->log[b->log_len] = 0;
}

/* Just past the n-th newline of text, or NULL. */
static const char *after_lines(const char *text, int n)
{
    const char *p = text;
    for (int i = 0; i < n && p != NULL; i++)
        if ((p = strchr(p, '\n')) != NULL)
            p++;
    return p;
}

/* Takes the first bootstrap server and its port from text, and with want_admin the admin
 * port from its second line: false if one is missing. */
static bool parse_lines(struct bench_broker *b, const char *text, bool want_admin)
{
    if (sscanf(text, "bootstrap=%255[^,\n]", b->bootstrap) != 1)
        return false;
    const char *colon = strrchr(b->bootstrap, ':');
    if (colon == NULL || sscanf(colon + 1, "%d", &b->port) != 1 || b->port <= 0 ||
        b->port > 65535)
        return false;
    const char *second = strchr(text, '\n');
    return !want_admin || (second != NULL &&
                           sscanf(second, "\nadmin=http://127.0.0.1:%d", &b->admin_port) == 1);
}

int bench_broker_start(struct bench_broker *b, const char *prog, const char *name,
                       char *const argv[], int start_ms, bool want_admin)
{
    memset(b, 0, sizeof(*b));
    b->pid = -1;
    b->in_fd = b->out_fd = -1;
    snprintf(b->prog, sizeof(b->prog), "%s", prog);
    snprintf(b->name, sizeof(b->name), "%s", name ? name : argv[0]);
    int in[2], out[2];
    if (pipe(in) != 0) {
        fprintf(stderr, "%s: pipe: %s\n", prog, strerror(errno));
        return -1;
    }
    if (pipe(out) != 0) {
        fprintf(stderr, "%s: pipe: %s\n", prog, strerror(errno));
        close(in[0]);
        close(in[1]);
        return -1;
    }
    /* A later broker must not inherit this one's stdin, or closing ours would not stop it. */
    fcntl(in[1], F_SETFD, fcntl(in[1], F_GETFD) | FD_CLOEXEC);
    fcntl(out[0], F_SETFD, fcntl(out[0], F_GETFD) | FD_CLOEXEC);
    pid_t pid = fork();
    if (pid == 0) {
        /* Its log joins its stdout after the first lines, kept for when a run fails. */
        dup2(in[0], STDIN_FILENO);
        dup2(out[1], STDOUT_FILENO);
        dup2(out[1], STDERR_FILENO);
        close(in[0]);
        close(out[1]);
        execv(argv[0], argv);
        fprintf(stderr, "%s: cannot run %s: %s\n", prog, argv[0], strerror(errno));
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    if (pid < 0) {
        fprintf(stderr, "%s: fork: %s\n", prog, strerror(errno));
        close(in[1]);
        close(out[0]);
        return -1;
    }
    b->pid = pid;
    b->in_fd = in[1];
    b->out_fd = out[0];

    char text[1024];
    size_t len = 0;
    const char *end;                /* just past the last line wanted */
    bool eof = false;               /* it closed its stdout: the last line may lack a newline */
    int64_t deadline = bench_now_ns() + (int64_t)start_ms * 1000000;
    for (;;) {
        text[len] = 0;
        end = after_lines(text, want_admin ? 2 : 1);
        if (end != NULL || eof || len == sizeof(text) - 1)
            break;
        struct pollfd p = { .fd = b->out_fd, .events = POLLIN };
        if (poll(&p, 1, bench_ms_left(deadline)) <= 0)
            break;
        ssize_t r = read(b->out_fd, text + len, sizeof(text) - 1 - len);
        eof = r == 0;
        if (r < 0)
            break;
        len += (size_t)r;
    }
    if (end != NULL)
        keep(b, end, len - (size_t)(end - text));
    if ((end == NULL && !eof) || !parse_lines(b, text, want_admin)) {
        int shown = end != NULL ? (int)(end - 1 - text) : (int)len;
        fprintf(stderr, "%s: %s printed no bootstrap%s line%s within %d ms (got \"%.*s\")\n",
                prog, b->name, want_admin ? " and admin" : "", want_admin ? "s" : "", start_ms,
                shown, text);
        bench_broker_stop(b, start_ms, true);
        return -1;
    }
    fcntl(b->out_fd, F_SETFL, fcntl(b->out_fd, F_GETFL) | O_NONBLOCK);
    return 0;
}

void bench_broker_drain(struct bench_broker *b)
{
    char buf[4096];
    ssize_t r;
    while (b->pid > 0 && (r = read(b->out_fd, buf, sizeof(buf))) > 0)
        keep(b, buf, (size_t)r);
}

bool bench_broker_stop(struct bench_broker *b, int stop_ms, bool show_log)
{
    if (b->pid <= 0)
        return false;
    close(b->in_fd);
    /* Its stdout reaches end of file when it exits. */
    int64_t deadline = bench_now_ns() + (int64_t)stop_ms * 1000000;
    bool gone = false;
    while (!gone) {
        struct pollfd p = { .fd = b->out_fd, .events = POLLIN };
        int n = poll(&p, 1, bench_ms_left(deadline));
        if (n == 0 || (n < 0 && errno != EINTR))
            break;
        char buf[512];
        ssize_t r = n > 0 ? read(b->out_fd, buf, sizeof(buf)) : -1;
        if (r > 0)
            keep(b, buf, (size_t)r);
        gone = r == 0 || (r < 0 && errno != EINTR && errno != EAGAIN);
    }
    if (!gone) {
        fprintf(stderr, "%s: %s did not exit within %d ms: killing it\n", b->prog, b->name,
                stop_ms);
        kill(b->pid, SIGKILL);
    }
    int status = -1;
    while (waitpid(b->pid, &status, 0) < 0 && errno == EINTR)
        ;
    close(b->out_fd);
    b->pid = -1;
    b->in_fd = b->out_fd = -1;
    if (show_log && b->log_len)
        fprintf(stderr, "%s: the broker said:\n%s%s", b->prog, b->log,
                b->log[b->log_len - 1] == '\n' ? "" : "\n");
    return gone && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}
