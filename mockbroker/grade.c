/* `mockbroker grade`: runs a producer command under each scenario and judges what reached the
 * logs. The cluster runs on its own loop thread; the command runs in its own process group (so
 * a timeout kills it and whatever it started); judging reads the logs and the journal once the
 * command has exited and the cluster has gone quiet. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/errors.h"
#include "mockbroker/mockbroker.h"

extern char **environ;

#define OUTPUT_KEEP (16 * 1024)     /* bytes of the command's output kept for the report */
#define EVIDENCE_MAX 8              /* journal lines quoted per verdict */

static const char *const verdict_names[MB_VERDICTS] = {
    "PASS", "REPORTED_FAILURE", "SPURIOUS_FAILURE", "BAD_BACKOFF", "REORDERED", "DUPLICATES",
    "UNREPORTED_FAILURE", "LOSS", "BAD_SEQUENCE", "TIMEOUT", "ERROR",
};

const char *mb_verdict_name(enum mb_verdict v)
{
    return (unsigned)v < MB_VERDICTS ? verdict_names[v] : "?";
}

int mb_verdict_parse(const char *name)
{
    for (int i = 0; i < MB_VERDICTS; i++)
        if (strcmp(name, verdict_names[i]) == 0)
            return i;
    return -1;
}

void mb_grade_opts_init(struct mb_grade_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->backoff_min_ms = -1;
    o->backoff_max_ms = -1;
}

void mb_grade_result_release(struct mb_grade_result *r)
{
    if (r == NULL)
        return;
    free(r->output);
    free(r->evidence);
    r->output = NULL;
    r->evidence = NULL;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void nap_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* --- the command -------------------------------------------------------------------------------- */

struct vars {
    const char *bootstrap, *topic;
    char count[24], seed[24], partition[16];
};

/* ARG with {name} replaced; unknown names stay as written. */
static char *substitute(const char *arg, const struct vars *v)
{
    static const char *const names[] = { "{bootstrap}", "{topic}", "{count}", "{seed}",
                                         "{partition}" };
    const char *vals[] = { v->bootstrap, v->topic, v->count, v->seed, v->partition };
    size_t cap = strlen(arg) + 1;
    for (int k = 0; k < 5; k++)
        for (const char *p = strstr(arg, names[k]); p; p = strstr(p + 1, names[k]))
            cap += strlen(vals[k]);
    char *out = malloc(cap), *o = out;
    if (out == NULL)
        return NULL;
    while (*arg) {
        int k = 0;
        while (k < 5 && strncmp(arg, names[k], strlen(names[k])) != 0)
            k++;
        if (k < 5) {
            size_t n = strlen(vals[k]);
            memcpy(o, vals[k], n);
            o += n;
            arg += strlen(names[k]);
        } else {
            *o++ = *arg++;
        }
    }
    *o = 0;
    return out;
}

struct child {
    pid_t pid;
    int exit_status;
    bool timed_out;
    char *out;                      /* ring of the last OUTPUT_KEEP bytes, linearised at the end */
    size_t len;
    bool wrapped;
};

static void keep_output(struct child *ch, const char *buf, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        ch->out[ch->len++] = buf[i];
        if (ch->len == OUTPUT_KEEP) {
            ch->len = 0;
            ch->wrapped = true;
        }
    }
}

static char *linearise(struct child *ch)
{
    char *s = malloc(OUTPUT_KEEP + 1);
    if (s == NULL)
        return NULL;
    size_t n = 0;
    if (ch->wrapped) {
        memcpy(s, ch->out + ch->len, OUTPUT_KEEP - ch->len);
        n = OUTPUT_KEEP - ch->len;
    }
    memcpy(s + n, ch->out, ch->len);
    s[n + ch->len] = 0;
    return s;
}

/* Runs argv with env until it exits or deadline passes; its stdout and stderr share one pipe. */
static int run_child(char *const *argv, char *const *env, int64_t timeout_ms, struct child *ch,
                     char *errstr, size_t errstr_size)
{
    int fds[2];
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    ch->exit_status = -1;
    ch->out = malloc(OUTPUT_KEEP);
    if (ch->out == NULL || pipe(fds) != 0) {
        snprintf(errstr, errstr_size, "out of memory or pipes");
        return -1;
    }
    fcntl(fds[0], F_SETFD, FD_CLOEXEC);
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
    posix_spawn_file_actions_addclose(&fa, fds[1]);
    posix_spawnattr_init(&attr);
    /* Its own process group: on timeout we kill it and whatever it started, and nothing else. */
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&attr, 0);
    int rc = posix_spawnp(&ch->pid, argv[0], &fa, &attr, argv, env);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    close(fds[1]);
    if (rc != 0) {
        close(fds[0]);
        snprintf(errstr, errstr_size, "%s: %s", argv[0], strerror(rc));
        return -1;
    }
    int64_t deadline = now_ms() + timeout_ms;
    bool eof = false;
    int status = 0;
    for (;;) {
        int64_t left = deadline - now_ms();
        if (left <= 0) {
            ch->timed_out = true;
            kill(-ch->pid, SIGKILL);
            waitpid(ch->pid, &status, 0);
            break;
        }
        if (!eof) {
            struct pollfd p = { .fd = fds[0], .events = POLLIN };
            int n = poll(&p, 1, left > 1000 ? 1000 : (int)left);
            if (n > 0) {
                char buf[4096];
                ssize_t got = read(fds[0], buf, sizeof(buf));
                if (got > 0)
                    keep_output(ch, buf, (size_t)got);
                else if (got == 0 || errno != EINTR)
                    eof = true;
            }
        } else {
            /* The command closed its output but may still run: check on it now and then. */
            nap_ms(left > 20 ? 20 : (long)left);
        }
        pid_t w = waitpid(ch->pid, &status, WNOHANG);
        if (w == ch->pid) {
            /* Read what is left in the pipe (a grandchild may hold it: do not wait for EOF). */
            struct pollfd p = { .fd = fds[0], .events = POLLIN };
            char buf[4096];
            ssize_t got;
            while (!eof && poll(&p, 1, 0) > 0 && (got = read(fds[0], buf, sizeof(buf))) > 0)
                keep_output(ch, buf, (size_t)got);
            break;
        }
    }
    close(fds[0]);
    if (ch->timed_out)
        ch->exit_status = 128 + SIGKILL;
    else if (WIFEXITED(status))
        ch->exit_status = WEXITSTATUS(status);
    else if (WIFSIGNALED(status))
        ch->exit_status = 128 + WTERMSIG(status);
    return 0;
}

/* The environment without KAFKA_* and MESSAGE_COUNT, then ours. NULL on out of memory. */
static char **child_env(const struct vars *v, bool with_partition)
{
    size_t n = 0;
    while (environ[n])
        n++;
    char **env = calloc(n + 8, sizeof(*env));
    if (env == NULL)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], "KAFKA_", 6) != 0 && strncmp(environ[i], "MESSAGE_COUNT=", 14) != 0)
            env[k++] = strdup(environ[i]);
    const char *fmt[][2] = {
        { "KAFKA_BOOTSTRAP", v->bootstrap }, { "KAFKA_TOPIC", v->topic },
        { "MESSAGE_COUNT", v->count }, { "KAFKA_SEED", v->seed },
        { "KAFKA_PARTITION", with_partition ? v->partition : NULL },
    };
    for (size_t i = 0; i < sizeof(fmt) / sizeof(fmt[0]); i++) {
        if (fmt[i][1] == NULL)
            continue;
        size_t len = strlen(fmt[i][0]) + strlen(fmt[i][1]) + 2;
        if ((env[k] = malloc(len)) != NULL)
            snprintf(env[k], len, "%s=%s", fmt[i][0], fmt[i][1]);
        k++;
    }
    for (size_t i = 0; i < k; i++)
        if (env[i] == NULL) {
            for (size_t j = 0; j < k; j++)
                free(env[j]);
            free(env);
            return NULL;
        }
    return env;
}

static void free_strv(char **v)
{
    for (size_t i = 0; v && v[i]; i++)
        free(v[i]);
    free(v);
}

/* --- judging ------------------------------------------------------------------------------------ */

/* What each message number came to. */
struct msg {
    int32_t copies;
    int32_t partition;
    int64_t offset;                 /* of the first copy */
    int64_t pid;
    int16_t epoch;
    int32_t seq;
};

struct judge {
    struct mb_cluster *c;
    const char *topic;
    int64_t count;
    struct msg *msgs;
    struct mb_journal_entry *j;
    size_t nj;
    struct mb_grade_result *r;
    char *ev;                       /* evidence lines */
    size_t ev_len;
    int ev_lines;
    uint64_t ev_ids[EVIDENCE_MAX];
    char dup_why[200], seq_why[200], order_why[160], foreign_why[160];
    int32_t dup_partition;
    int64_t dup_offsets[2];         /* the first duplicated message's two copies */
};

/* n for a value "<n>:...", or -1. */
static int64_t message_number(const uint8_t *v, int32_t len)
{
    int64_t n = 0;
    int32_t i = 0;
    if (v == NULL)
        return -1;
    for (; i < len && i < 19 && v[i] >= '0' && v[i] <= '9'; i++)
        n = n * 10 + (v[i] - '0');
    return i > 0 && i < len && v[i] == ':' && (i == 1 || v[0] != '0') ? n : -1;
}

static bool key_is(const uint8_t *k, int32_t len, int64_t n)
{
    char want[24];
    int w = snprintf(want, sizeof(want), "%" PRId64, n);
    return k != NULL && len == w && memcmp(k, want, (size_t)w) == 0;
}

static void evidence(struct judge *jd, const struct mb_journal_entry *e, const char *why)
{
    char line[512];
    if (jd->ev_lines >= EVIDENCE_MAX)
        return;
    for (int i = 0; i < jd->ev_lines; i++)
        if (jd->ev_ids[i] == e->id)
            return;
    int n = mb_journal_entry_render(e, MB_JOURNAL_TEXT, line, sizeof(line));
    if (n < 0)
        return;
    line[strcspn(line, "\n")] = 0;
    size_t need = jd->ev_len + strlen(line) + strlen(why) + 8;
    char *ev = realloc(jd->ev, need);
    if (ev == NULL)
        return;
    jd->ev = ev;
    jd->ev_len += (size_t)snprintf(ev + jd->ev_len, need - jd->ev_len, "%s  <- %s\n", line, why);
    jd->ev_ids[jd->ev_lines++] = e->id;
}

static void read_logs(struct judge *jd)
{
    struct mb_grade_result *r = jd->r;
    for (int p = 0;; p++) {
        struct mb_records *recs = mb_partition_records(jd->c, jd->topic, p, 0, 0);
        if (recs == NULL)
            break;
        int64_t last = -1;
        int64_t spid = -2;
        int16_t sepoch = -1;
        int32_t sseq = -1;
        for (size_t i = 0; i < recs->count; i++) {
            const struct mb_record *rec = &recs->records[i];
            r->log_records++;
            int64_t n = message_number(rec->value, rec->value_len);
            if (n < 0 || n >= jd->count || !key_is(rec->key, rec->key_len, n)) {
                if (r->foreign++ == 0)
                    snprintf(jd->foreign_why, sizeof(jd->foreign_why),
                             "partition %d offset %" PRId64 " holds no message of the run "
                             "(or its key is not its number)", p, rec->offset);
                continue;
            }
            struct msg *m = &jd->msgs[n];
            if (rec->producer_id >= 0 && rec->sequence >= 0) {
                if (rec->producer_id == spid && rec->producer_epoch == sepoch &&
                    rec->sequence != sseq + 1 && r->sequence_errors++ == 0)
                    snprintf(jd->seq_why, sizeof(jd->seq_why),
                             "partition %d offset %" PRId64 ": producer %" PRId64 " epoch %d "
                             "sequence %d follows %d", p, rec->offset, rec->producer_id,
                             rec->producer_epoch, rec->sequence, sseq);
                spid = rec->producer_id;
                sepoch = rec->producer_epoch;
                sseq = rec->sequence;
            }
            if (m->copies++ > 0) {
                if (r->duplicates++ == 0) {
                    jd->dup_partition = p;
                    jd->dup_offsets[0] = m->offset;
                    jd->dup_offsets[1] = rec->offset;
                    bool idem = m->pid >= 0 && rec->producer_id >= 0;
                    snprintf(jd->dup_why, sizeof(jd->dup_why),
                             "message %" PRId64 " at partition %d offsets %" PRId64 " and %"
                             PRId64 "%s", n, p, m->offset, rec->offset,
                             !idem ? " (no idempotence: the retry was appended again)"
                             : m->pid != rec->producer_id || m->epoch != rec->producer_epoch
                                 ? " (the retry came with another producer id or epoch)"
                                 : " (the retry came with another sequence)");
                }
                continue;
            }
            m->partition = p;
            m->offset = rec->offset;
            m->pid = rec->producer_id;
            m->epoch = rec->producer_epoch;
            m->seq = rec->sequence;
            r->stored++;
            if (n < last && r->reordered++ == 0)
                snprintf(jd->order_why, sizeof(jd->order_why),
                         "partition %d: message %" PRId64 " at offset %" PRId64
                         " after message %" PRId64, p, n, rec->offset, last);
            if (n > last)
                last = n;
        }
        mb_records_destroy(recs);
    }
    r->missing = jd->count - r->stored;
}

static bool is_topic(const struct judge *jd, const struct mb_journal_entry *e)
{
    return e->topic != NULL && strcmp(e->topic, jd->topic) == 0;
}

/* Appends that repeat an earlier one's producer id, epoch, partition and base sequence: retries
 * (the broker answers them as duplicates) or, with other data, a reused sequence. Returns the
 * first repeat whose record count differs from the original's, else NULL; *repeat is the first
 * repeat of all. */
static const struct mb_journal_entry *repeats(struct judge *jd,
                                              const struct mb_journal_entry **repeat)
{
    const struct mb_journal_entry *bad = NULL;
    *repeat = NULL;
    for (size_t i = 0; i < jd->nj; i++) {
        const struct mb_journal_entry *e = &jd->j[i];
        if (e->kind != MB_JOURNAL_APPEND || e->producer_id < 0 || !is_topic(jd, e))
            continue;
        for (size_t k = 0; k < i; k++) {
            const struct mb_journal_entry *f = &jd->j[k];
            if (f->kind == MB_JOURNAL_APPEND && f->producer_id == e->producer_id &&
                f->producer_epoch == e->producer_epoch && f->partition == e->partition &&
                f->base_sequence == e->base_sequence && is_topic(jd, f)) {
                jd->r->retries++;
                if (*repeat == NULL)
                    *repeat = e;
                if (bad == NULL && f->records != e->records) {
                    bad = e;
                    evidence(jd, f, "first batch with this sequence");
                    evidence(jd, e, "same sequence, another record count");
                }
                break;
            }
        }
    }
    return bad;
}

/* Errors after which a client is expected to back off and retry. */
static bool retriable(int16_t ec)
{
    return kw_error_retriable(ec);
}

/* The pause between each retriable error answer on a partition of the topic and the retry of
 * that batch, when the next append to the partition is one. */
static void backoffs(struct judge *jd, const struct mb_grade_opts *o)
{
    struct mb_grade_result *r = jd->r;
    r->backoff_min_seen_ms = -1;
    r->backoff_max_seen_ms = -1;
    for (size_t i = 0; i < jd->nj; i++) {
        const struct mb_journal_entry *e = &jd->j[i];
        if (e->kind != MB_JOURNAL_APPEND || !is_topic(jd, e) || e->error_code == 0 ||
            !retriable(e->error_code))
            continue;
        size_t k = i + 1;
        while (k < jd->nj && !(jd->j[k].kind == MB_JOURNAL_APPEND && is_topic(jd, &jd->j[k]) &&
                               jd->j[k].partition == e->partition))
            k++;
        if (k == jd->nj)
            continue;
        /* A retry is the same batch again: the same sequence when idempotent, and the same
         * size and record count (a new batch after giving up is not a retry). */
        const struct mb_journal_entry *x = &jd->j[k];
        if (x->request == e->request || x->bytes != e->bytes || x->records != e->records ||
            x->producer_id != e->producer_id || x->base_sequence != e->base_sequence)
            continue;
        int64_t gap = (jd->j[k].time_us - e->time_us) / 1000;
        r->backoffs++;
        if (r->backoff_min_seen_ms < 0 || gap < r->backoff_min_seen_ms)
            r->backoff_min_seen_ms = gap;
        if (gap > r->backoff_max_seen_ms)
            r->backoff_max_seen_ms = gap;
        /* Slack: clients jitter their backoff (librdkafka by up to 20%), may refresh metadata
         * or linger first, and timers are coarse. */
        if (o->backoff_max_ms >= 0 &&
            (gap + 5 < o->backoff_min_ms * 4 / 5 ||
             gap > o->backoff_max_ms + 250 + o->backoff_max_ms / 2)) {
            if (r->backoff_violations++ == 0) {
                evidence(jd, e, "error answer");
                evidence(jd, &jd->j[k], "the retry");
            }
        }
    }
}

/* The first entry of `kind` about the topic (what, when given, must match), or NULL. */
static const struct mb_journal_entry *find(struct judge *jd, enum mb_journal_kind kind,
                                           bool refused)
{
    for (size_t i = 0; i < jd->nj; i++) {
        const struct mb_journal_entry *e = &jd->j[i];
        if (e->kind != kind)
            continue;
        if (kind == MB_JOURNAL_APPEND && (!is_topic(jd, e) || (e->error_code != 0) != refused))
            continue;
        if (kind == MB_JOURNAL_TRUNCATE && !is_topic(jd, e))
            continue;
        return e;
    }
    return NULL;
}

/* The append that stored `offset` of the topic's partition. */
static void evidence_offset(struct judge *jd, int32_t partition, int64_t offset, const char *why)
{
    for (size_t i = 0; i < jd->nj; i++) {
        const struct mb_journal_entry *e = &jd->j[i];
        if (e->kind == MB_JOURNAL_APPEND && is_topic(jd, e) && e->partition == partition &&
            e->error_code == 0 && e->offset >= 0 && offset >= e->offset &&
            offset < e->offset + (e->records > 0 ? e->records : 1)) {
            evidence(jd, e, why);
            return;
        }
    }
}

static int cmp_line_id(const void *a, const void *b)
{
    const char *x = strchr(*(char *const *)a, '#'), *y = strchr(*(char *const *)b, '#');
    uint64_t i = x ? strtoull(x + 1, NULL, 10) : 0, k = y ? strtoull(y + 1, NULL, 10) : 0;
    return i < k ? -1 : i > k;
}

/* Evidence lines in journal order. */
static void sort_evidence(struct judge *jd)
{
    char *lines[EVIDENCE_MAX], *copy = jd->ev ? strdup(jd->ev) : NULL, *save = NULL;
    int n = 0;
    for (char *t = copy ? strtok_r(copy, "\n", &save) : NULL; t && n < EVIDENCE_MAX;
         t = strtok_r(NULL, "\n", &save))
        lines[n++] = t;
    qsort(lines, (size_t)n, sizeof(lines[0]), cmp_line_id);
    size_t at = 0;
    for (int i = 0; i < n; i++)
        at += (size_t)sprintf(jd->ev + at, "%s\n", lines[i]);
    free(copy);
}

static void faults_evidence(struct judge *jd)
{
    for (size_t i = 0; i < jd->nj && jd->ev_lines < EVIDENCE_MAX; i++) {
        const struct mb_journal_entry *e = &jd->j[i];
        if (e->kind == MB_JOURNAL_FAULT)
            evidence(jd, e, "fault rule fired");
        else if (e->kind == MB_JOURNAL_TRUNCATE && is_topic(jd, e))
            evidence(jd, e, "acknowledged records cut from the log");
        else if (e->kind == MB_JOURNAL_BROKER || e->kind == MB_JOURNAL_LEADER)
            evidence(jd, e, "cluster change");
    }
}

static void reason(struct mb_grade_result *r, enum mb_verdict v, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void reason(struct mb_grade_result *r, enum mb_verdict v, const char *fmt, ...)
{
    va_list ap;
    r->verdict = v;
    va_start(ap, fmt);
    vsnprintf(r->reason, sizeof(r->reason), fmt, ap);
    va_end(ap);
}

/* The last "delivered=D failed=F" in the output. */
static void reported(struct mb_grade_result *r)
{
    r->reported_delivered = -1;
    r->reported_failed = -1;
    for (const char *p = r->output; p && (p = strstr(p, "delivered=")) != NULL; p++) {
        long long d, f;
        if ((p == r->output || p[-1] == '\n' || p[-1] == ' ') &&
            sscanf(p, "delivered=%lld failed=%lld", &d, &f) == 2) {
            r->reported_delivered = d;
            r->reported_failed = f;
        }
    }
}

static void judge(struct judge *jd, const struct mb_grade_opts *o)
{
    struct mb_grade_result *r = jd->r;
    read_logs(jd);
    reported(r);
    const struct mb_journal_entry *repeat;
    const struct mb_journal_entry *reuse = repeats(jd, &repeat);
    backoffs(jd, o);

    /* Failures the command reported: its count if it printed one, else all when it failed. */
    int64_t said_failed = r->reported_failed >= 0 ? r->reported_failed
                          : r->exit_status != 0   ? jd->count
                                                  : 0;
    int64_t unreported = r->missing - said_failed;
    const struct mb_journal_entry *refused = find(jd, MB_JOURNAL_APPEND, true);
    const struct mb_journal_entry *cut = find(jd, MB_JOURNAL_TRUNCATE, false);

    if (r->timed_out) {
        reason(r, MB_VERDICT_TIMEOUT, "killed after %" PRId64 " ms; %" PRId64 " of %" PRId64
               " messages stored by then", r->elapsed_ms, r->stored, jd->count);
    } else if (r->log_records == 0 && r->exit_status != 0 && r->reported_failed < 0 &&
               refused == NULL && mb_request_count(jd->c, MB_ANY, 0) == 0) {
        reason(r, MB_VERDICT_ERROR, "exit status %d without sending a Produce request",
               r->exit_status);
    } else if (reuse != NULL) {
        reason(r, MB_VERDICT_BAD_SEQUENCE, "producer %" PRId64 " epoch %d sent sequence %d "
               "again for a batch of %d records (journal #%" PRIu64 "): a sequence reused for "
               "other data", reuse->producer_id, reuse->producer_epoch, reuse->base_sequence,
               reuse->records, reuse->id);
    } else if (unreported > 0 && repeat != NULL) {
        evidence(jd, repeat, "answered as a duplicate of an earlier batch");
        reason(r, MB_VERDICT_BAD_SEQUENCE, "%" PRId64 " messages missing though the command "
               "reported them delivered; producer %" PRId64 " epoch %d resent sequence %d "
               "(journal #%" PRIu64 "), which the broker took for a retry", unreported,
               repeat->producer_id, repeat->producer_epoch, repeat->base_sequence, repeat->id);
    } else if (r->sequence_errors > 0) {
        reason(r, MB_VERDICT_BAD_SEQUENCE, "%" PRId64 " sequence gaps or repeats in the log: %s",
               r->sequence_errors, jd->seq_why);
    } else if (unreported > 0 && cut != NULL) {
        evidence(jd, cut, "acknowledged records cut from the log");
        reason(r, MB_VERDICT_LOSS, "%" PRId64 " messages missing that the command reported "
               "delivered: acknowledged, then truncated by a leader change (journal #%" PRIu64
               ")", unreported, cut->id);
    } else if (unreported > 0 && refused != NULL) {
        evidence(jd, refused, "broker refused the append");
        reason(r, MB_VERDICT_UNREPORTED_FAILURE, "%" PRId64 " messages missing, the broker "
               "refused them (%s, journal #%" PRIu64 "), yet the command exited %d%s",
               unreported, kw_error_name(refused->error_code), refused->id, r->exit_status,
               r->reported_failed >= 0 ? " and under-counted its failures" : "");
    } else if (unreported > 0) {
        int64_t first = -1;
        for (int64_t n = 0; n < jd->count && first < 0; n++)
            if (jd->msgs[n].copies == 0)
                first = n;
        reason(r, MB_VERDICT_LOSS, "%" PRId64 " messages missing (the first: %" PRId64 ") that "
               "the command reported delivered; no append ever held them and the broker "
               "refused nothing", unreported, first);
    } else if (r->duplicates > 0) {
        evidence_offset(jd, jd->dup_partition, jd->dup_offsets[0], "first copy stored");
        evidence_offset(jd, jd->dup_partition, jd->dup_offsets[1], "second copy stored");
        reason(r, MB_VERDICT_DUPLICATES, "%" PRId64 " extra copies: %s", r->duplicates,
               jd->dup_why);
    } else if (r->reordered > 0) {
        reason(r, MB_VERDICT_REORDERED, "%" PRId64 " messages out of order: %s", r->reordered,
               jd->order_why);
    } else if (r->foreign > 0) {
        reason(r, MB_VERDICT_DUPLICATES, "%" PRId64 " records that are no message of the run: "
               "%s", r->foreign, jd->foreign_why);
    } else if (r->backoff_violations > 0) {
        reason(r, MB_VERDICT_BAD_BACKOFF, "%" PRId64 " of %" PRId64 " retries outside %" PRId64
               "..%" PRId64 " ms (seen %" PRId64 "..%" PRId64 " ms)", r->backoff_violations,
               r->backoffs, o->backoff_min_ms, o->backoff_max_ms, r->backoff_min_seen_ms,
               r->backoff_max_seen_ms);
    } else if (r->missing > 0) {
        if (refused)
            evidence(jd, refused, "broker refused the append");
        reason(r, MB_VERDICT_REPORTED_FAILURE, "%" PRId64 " messages not stored, and the command "
               "said so (exit %d%s)", r->missing, r->exit_status,
               r->reported_failed >= 0 ? ", failed count printed" : "");
    } else if (r->exit_status != 0 || r->reported_failed > 0) {
        reason(r, MB_VERDICT_SPURIOUS_FAILURE, "every message stored once, in order, but the "
               "command exited %d (failed=%" PRId64 ")", r->exit_status, r->reported_failed);
    } else {
        reason(r, MB_VERDICT_PASS, "%" PRId64 " messages stored once, in order%s", r->stored,
               r->retries ? "; retries kept producer id, epoch and sequence" : "");
    }
    if (r->verdict != MB_VERDICT_PASS)
        faults_evidence(jd);
    sort_evidence(jd);
}

/* Waits until the cluster has seen no request for a while, so that what the command sent last
 * (acks=0, or answers it did not wait for) is in the logs before we read them. */
static void settle(struct mb_cluster *c)
{
    uint64_t before = mb_request_count(c, MB_ANY, MB_ANY);
    for (int i = 0; i < 20; i++) {
        nap_ms(50);
        uint64_t now = mb_request_count(c, MB_ANY, MB_ANY);
        if (now == before && i >= 3)
            return;
        before = now;
    }
}

static void quiet_log(void *opaque, int level, const char *line)
{
    (void)opaque;
    (void)level;
    (void)line;
}

int mb_grade_run(const struct mb_scenario *s, const struct mb_grade_opts *o,
                 struct mb_grade_result *out, char *errstr, size_t errstr_size)
{
    struct mb_config cfg;
    const struct mb_workload *w = s->workload;
    memset(out, 0, sizeof(*out));
    out->exit_status = -1;
    out->reported_delivered = out->reported_failed = -1;
    out->backoff_min_seen_ms = out->backoff_max_seen_ms = -1;
    mb_config_init(&cfg);
    mb_scenario_config(s, &cfg);
    cfg.port = 0;
    cfg.base = NULL;
    if (!o->verbose) {
        cfg.log_cb = quiet_log;
        cfg.log_level = MB_LOG_ERROR;
    }
    struct mb_cluster *c = mb_cluster_new(&cfg, errstr, errstr_size);
    if (c == NULL)
        return -1;
    if (mb_scenario_apply(c, s, errstr, errstr_size) != 0) {
        mb_cluster_destroy(c);
        return -1;
    }
    struct judge jd = { .c = c, .r = out };
    jd.topic = w && w->topic ? w->topic : "grade";
    jd.count = o->count > 0 ? o->count : w && w->messages > 0 ? w->messages : 100;
    out->messages = jd.count;
    out->seed = o->seed ? o->seed : mb_cluster_seed(c);
    int64_t timeout = o->timeout_ms > 0 ? o->timeout_ms
                                        : (w && w->timeout_ms > 0 ? w->timeout_ms : 30000) + 10000;
    int32_t partition = w ? w->partition : MB_ANY;

    struct vars v = { .bootstrap = mb_cluster_bootstrap(c), .topic = jd.topic };
    snprintf(v.count, sizeof(v.count), "%" PRId64, jd.count);
    snprintf(v.seed, sizeof(v.seed), "%" PRIu64, out->seed);
    snprintf(v.partition, sizeof(v.partition), "%d", partition >= 0 ? (int)partition : -1);
    size_t argc = 0;
    while (o->argv[argc])
        argc++;
    char **argv = calloc(argc + 1, sizeof(*argv));
    char **env = child_env(&v, partition >= 0);
    jd.msgs = calloc((size_t)jd.count, sizeof(*jd.msgs));
    bool ok = argv && env && jd.msgs;
    for (size_t i = 0; ok && i < argc; i++)
        ok = (argv[i] = substitute(o->argv[i], &v)) != NULL;
    struct child ch = { 0 };
    int rc = -1;
    if (!ok) {
        snprintf(errstr, errstr_size, "out of memory");
    } else {
        int64_t t0 = now_ms();
        if (run_child(argv, env, timeout, &ch, errstr, errstr_size) == 0) {
            out->elapsed_ms = now_ms() - t0;
            out->exit_status = ch.exit_status;
            out->timed_out = ch.timed_out;
            out->output = linearise(&ch);
            settle(c);
            struct mb_journal_stats st;
            mb_journal_stats(c, &st);
            jd.j = calloc(st.held + 1, sizeof(*jd.j));
            jd.nj = jd.j ? mb_journal_read(c, 0, jd.j, st.held + 1) : 0;
            judge(&jd, o);
            out->evidence = jd.ev;
            rc = 0;
        } else {
            /* Could not start: an ERROR verdict, not a grader failure. */
            reason(out, MB_VERDICT_ERROR, "%s", errstr);
            rc = 0;
        }
    }
    free(ch.out);
    free(jd.j);
    free(jd.msgs);
    free_strv(argv);
    free_strv(env);
    mb_cluster_destroy(c);
    return rc;
}

/* --- the command line --------------------------------------------------------------------------- */

struct graded {
    char name[128];
    struct mb_grade_result r;
};

static void usage(FILE *f)
{
    fprintf(f,
        "usage: mockbroker grade [options] -- COMMAND ARGS...\n"
        "  --scenarios DIR|N1,N2,...  scenario files: every *.json of DIR, or names (files,\n"
        "                             or NAME for fixtures/scenarios/NAME.json); default\n"
        "                             fixtures/scenarios\n"
        "  --count N                  messages (default: each workload's, else 100)\n"
        "  --timeout SEC              limit for the command (default: workload's + 10 s)\n"
        "  --backoff MIN..MAX         milliseconds a retry may wait after an error answer\n"
        "  --seed S                   KAFKA_SEED (default: each scenario's seed)\n"
        "  --label NAME               the client's name in the table, JSON and JUnit\n"
        "  --json                     print the results as one JSON object instead of a table\n"
        "  --junit FILE               write JUnit XML: one test case per scenario\n"
        "  --evidence                 print the journal excerpt under each failing row\n"
        "  --verbose                  the cluster's log and the command's output to stderr\n"
        "The command gets KAFKA_BOOTSTRAP, KAFKA_TOPIC, MESSAGE_COUNT, KAFKA_SEED (and\n"
        "KAFKA_PARTITION when the workload names one) in its environment; {bootstrap}, {topic},\n"
        "{count}, {seed}, {partition} in ARGS are replaced. It must produce message n (0 to\n"
        "count-1) with key n in decimal and value \"<n>:\" + padding, exit 0 only if all were\n"
        "delivered, and may print \"delivered=D failed=F\". Verdicts: docs/conformance.md.\n"
        "Exit status: 0 when every verdict is PASS or REPORTED_FAILURE, 1 otherwise, 2 on a\n"
        "usage error.\n");
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Scenario paths from DIR or a comma list; returns how many (0 on error, message printed). */
static size_t scenario_paths(const char *spec, char ***out)
{
    struct stat st;
    char **v = NULL;
    size_t n = 0, cap = 0;
    char path[4096];
    if (stat(spec, &st) == 0 && S_ISDIR(st.st_mode)) {
        DIR *d = opendir(spec);
        struct dirent *de;
        while (d && (de = readdir(d)) != NULL) {
            size_t len = strlen(de->d_name);
            if (len < 6 || strcmp(de->d_name + len - 5, ".json") != 0)
                continue;
            if (n == cap) {
                cap = cap ? cap * 2 : 16;
                char **nv = realloc(v, cap * sizeof(*v));
                if (nv == NULL)
                    break;
                v = nv;
            }
            snprintf(path, sizeof(path), "%s/%s", spec, de->d_name);
            v[n++] = strdup(path);
        }
        if (d)
            closedir(d);
        if (n > 1)
            qsort(v, n, sizeof(*v), cmp_str);
    } else {
        char *list = strdup(spec), *save = NULL;
        for (char *t = list ? strtok_r(list, ",", &save) : NULL; t;
             t = strtok_r(NULL, ",", &save)) {
            if (strchr(t, '/') || strstr(t, ".json"))
                snprintf(path, sizeof(path), "%s", t);
            else
                snprintf(path, sizeof(path), "fixtures/scenarios/%s.json", t);
            if (n == cap) {
                cap = cap ? cap * 2 : 16;
                char **nv = realloc(v, cap * sizeof(*v));
                if (nv == NULL)
                    break;
                v = nv;
            }
            v[n++] = strdup(path);
        }
        free(list);
    }
    if (n == 0)
        fprintf(stderr, "mockbroker grade: no scenarios in %s\n", spec);
    *out = v;
    return n;
}

static void base_name(const char *path, char *out, size_t size)
{
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    snprintf(out, size, "%s", b);
    char *dot = strstr(out, ".json");
    if (dot)
        *dot = 0;
}

static void xml_escaped(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '<')
            fputs("&lt;", f);
        else if (ch == '>')
            fputs("&gt;", f);
        else if (ch == '&')
            fputs("&amp;", f);
        else if (ch == '"')
            fputs("&quot;", f);
        else if (ch < 0x20 && ch != '\n' && ch != '\t')
            fputc('?', f);
        else
            fputc(ch, f);
    }
}

static bool acceptable(enum mb_verdict v)
{
    return v == MB_VERDICT_PASS || v == MB_VERDICT_REPORTED_FAILURE;
}

static int write_junit(const char *file, const char *label, const struct graded *g, size_t n)
{
    FILE *f = fopen(file, "w");
    if (f == NULL) {
        fprintf(stderr, "mockbroker grade: %s: %s\n", file, strerror(errno));
        return -1;
    }
    size_t failures = 0;
    int64_t ms = 0;
    for (size_t i = 0; i < n; i++) {
        failures += !acceptable(g[i].r.verdict);
        ms += g[i].r.elapsed_ms;
    }
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n");
    fprintf(f, "<testsuite name=\"");
    xml_escaped(f, label);
    fprintf(f, "\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" time=\"%.3f\">\n", n, failures,
            (double)ms / 1000);
    for (size_t i = 0; i < n; i++) {
        const struct mb_grade_result *r = &g[i].r;
        fprintf(f, "  <testcase classname=\"");
        xml_escaped(f, label);
        fprintf(f, "\" name=\"");
        xml_escaped(f, g[i].name);
        fprintf(f, "\" time=\"%.3f\">\n", (double)r->elapsed_ms / 1000);
        if (!acceptable(r->verdict)) {
            fprintf(f, "    <failure type=\"%s\" message=\"", mb_verdict_name(r->verdict));
            xml_escaped(f, r->reason);
            fprintf(f, "\">");
            xml_escaped(f, r->evidence);
            fprintf(f, "</failure>\n");
        }
        fprintf(f, "    <system-out>%s: ", mb_verdict_name(r->verdict));
        xml_escaped(f, r->reason);
        fprintf(f, "\n");
        xml_escaped(f, r->output);
        fprintf(f, "</system-out>\n  </testcase>\n");
    }
    fprintf(f, "</testsuite>\n</testsuites>\n");
    return fclose(f) == 0 ? 0 : -1;
}

static void print_json(const char *label, const struct graded *g, size_t n)
{
    json_t *runs = json_array();
    for (size_t i = 0; i < n; i++) {
        const struct mb_grade_result *r = &g[i].r;
        json_t *o = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:i,"
                              " s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
                              "scenario", g[i].name, "verdict", mb_verdict_name(r->verdict),
                              "reason", r->reason, "messages", (json_int_t)r->messages,
                              "log_records", (json_int_t)r->log_records,
                              "stored", (json_int_t)r->stored, "missing", (json_int_t)r->missing,
                              "duplicates", (json_int_t)r->duplicates,
                              "reordered", (json_int_t)r->reordered,
                              "foreign", (json_int_t)r->foreign,
                              "reported_delivered", (json_int_t)r->reported_delivered,
                              "reported_failed", (json_int_t)r->reported_failed,
                              "exit_status", r->exit_status, "timed_out", r->timed_out,
                              "retries", (json_int_t)r->retries,
                              "sequence_errors", (json_int_t)r->sequence_errors,
                              "backoffs", (json_int_t)r->backoffs,
                              "backoff_violations", (json_int_t)r->backoff_violations,
                              "backoff_min_ms", (json_int_t)r->backoff_min_seen_ms,
                              "backoff_max_ms", (json_int_t)r->backoff_max_seen_ms,
                              "elapsed_ms", (json_int_t)r->elapsed_ms,
                              "seed", (json_int_t)r->seed);
        if (o && r->evidence)
            json_object_set_new(o, "evidence", json_string(r->evidence));
        if (o && r->output) {
            size_t len = strlen(r->output);
            const char *tail = r->output + (len > 2048 ? len - 2048 : 0);
            json_object_set_new(o, "output_tail", json_stringn_nocheck(tail, strlen(tail)));
        }
        json_array_append_new(runs, o);
    }
    json_t *doc = json_pack("{s:s, s:o}", "client", label, "runs", runs);
    char *s = doc ? json_dumps(doc, JSON_INDENT(2)) : NULL;
    if (s)
        printf("%s\n", s);
    free(s);
    json_decref(doc);
}

static void print_table(const char *label, const struct graded *g, size_t n, bool with_evidence)
{
    printf("%-28s %-18s %6s %6s %6s %6s %5s  %s\n", label, "verdict", "stored", "miss", "dup",
           "order", "exit", "reason");
    for (size_t i = 0; i < n; i++) {
        const struct mb_grade_result *r = &g[i].r;
        printf("%-28s %-18s %6" PRId64 " %6" PRId64 " %6" PRId64 " %6" PRId64 " %5d  %s\n",
               g[i].name, mb_verdict_name(r->verdict), r->stored, r->missing, r->duplicates,
               r->reordered, r->exit_status, r->reason);
        if (with_evidence && r->evidence && !acceptable(r->verdict)) {
            for (const char *p = r->evidence; *p;) {
                const char *nl = strchr(p, '\n');
                int len = nl ? (int)(nl - p) : (int)strlen(p);
                printf("    %.*s\n", len, p);
                p += len + (nl != NULL);
            }
        }
    }
}

static bool parse_i64(const char *s, int64_t min, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < min)
        return false;
    *out = v;
    return true;
}

int mb_grade_main(int argc, char **argv)
{
    struct mb_grade_opts o;
    mb_grade_opts_init(&o);
    const char *spec = "fixtures/scenarios", *junit = NULL, *label = "command";
    bool json = false, with_evidence = false;
    int i = 1;
    for (; i < argc && strcmp(argv[i], "--") != 0; i++) {
        const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : "";
        int64_t v;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--json") == 0) {
            json = true;
            continue;
        } else if (strcmp(a, "--evidence") == 0) {
            with_evidence = true;
            continue;
        } else if (strcmp(a, "--verbose") == 0) {
            o.verbose = true;
            continue;
        } else if (strcmp(a, "--scenarios") == 0 && *val) {
            spec = val;
        } else if (strcmp(a, "--junit") == 0 && *val) {
            junit = val;
        } else if (strcmp(a, "--label") == 0 && *val) {
            label = val;
        } else if (strcmp(a, "--count") == 0 && parse_i64(val, 1, &v)) {
            o.count = v;
        } else if (strcmp(a, "--timeout") == 0 && parse_i64(val, 1, &v)) {
            o.timeout_ms = v * 1000;
        } else if (strcmp(a, "--seed") == 0 && parse_i64(val, 1, &v)) {
            o.seed = (uint64_t)v;
        } else if (strcmp(a, "--backoff") == 0) {
            long long lo, hi;
            char tail;
            if (sscanf(val, "%lld..%lld%c", &lo, &hi, &tail) != 2 || lo < 0 || hi < lo) {
                fprintf(stderr, "mockbroker grade: --backoff wants MIN..MAX in ms, got '%s'\n",
                        val);
                return 2;
            }
            o.backoff_min_ms = lo;
            o.backoff_max_ms = hi;
        } else {
            fprintf(stderr, "mockbroker grade: bad option or value: %s %s (see --help)\n", a,
                    val);
            return 2;
        }
        i++;
    }
    if (i + 1 >= argc) {
        fprintf(stderr, "mockbroker grade: no command after --\n");
        usage(stderr);
        return 2;
    }
    o.argv = argv + i + 1;
    char **paths;
    size_t n = scenario_paths(spec, &paths);
    if (n == 0) {
        free(paths);
        return 2;
    }
    struct graded *g = calloc(n, sizeof(*g));
    int rc = g ? 0 : 2;
    signal(SIGPIPE, SIG_IGN);
    for (size_t k = 0; k < n && rc == 0; k++) {
        char err[512];
        base_name(paths[k], g[k].name, sizeof(g[k].name));
        struct mb_scenario *s = mb_scenario_load(paths[k], err, sizeof(err));
        if (s == NULL || mb_grade_run(s, &o, &g[k].r, err, sizeof(err)) != 0) {
            fprintf(stderr, "mockbroker grade: %s\n", err);
            rc = 2;
        }
        mb_scenario_destroy(s);
        if (rc == 0 && o.verbose && g[k].r.output)
            fprintf(stderr, "== %s: %s output\n%s", g[k].name, label, g[k].r.output);
        if (rc == 0 && !json)
            fprintf(stderr, "mockbroker grade: %s: %s\n", g[k].name,
                    mb_verdict_name(g[k].r.verdict));
    }
    if (rc == 0) {
        if (json)
            print_json(label, g, n);
        else
            print_table(label, g, n, with_evidence);
        if (junit && write_junit(junit, label, g, n) != 0)
            rc = 2;
        for (size_t k = 0; k < n && rc == 0; k++)
            if (!acceptable(g[k].r.verdict))
                rc = 1;
    }
    for (size_t k = 0; k < n; k++) {
        if (g)
            mb_grade_result_release(&g[k].r);
        free(paths[k]);
    }
    free(paths);
    free(g);
    return rc;
}
