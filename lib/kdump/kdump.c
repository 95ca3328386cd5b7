/* kdump: Kafka frames in, readable text out. Reads raw bytes or hex text (a fixture file, a
 * capture pasted from a trace), splits it into frames, tells requests from responses and
 * prints each with lib/describe. Requests carry their API key and version; a response does not,
 * so it is decoded with the key and version of the earlier request with its correlation id, or
 * with --api/--version. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/describe.h"
#include "lib/kw.h"
#include "lib/proto/apis.h"

#define EXIT_DECODE 1
#define EXIT_USAGE 2

static const char usage[] =
    "usage: kdump [OPTIONS] [FILE|-]\n"
    "\n"
    "Describes Kafka protocol frames read from FILE (or standard input), field by field.\n"
    "\n"
    "Input is a stream of frames, each with its 4-byte size prefix as on the wire, or a single\n"
    "frame without one (header and body, as in fixtures/frames/*.hex). It may be raw bytes or hex\n"
    "text (hex digits and whitespace; '#' starts a comment).\n"
    "\n"
    "  --hex             input is hex text (default: detected)\n"
    "  --raw             input is raw bytes (default: detected)\n"
    "  --prefix          frames have size prefixes (default: if the sizes add up to the input)\n"
    "  --no-prefix       the input is one frame without a size prefix\n"
    "  --api KEY --version V\n"
    "                    every frame is a response to API KEY (a number or a name such as\n"
    "                    Metadata) at version V. Without them every frame is a request,\n"
    "                    except one whose correlation id answers an earlier request\n"
    "  -h, --help        this text\n"
    "\n"
    "Exit status: 0 if every frame decoded, 1 if any did not, 2 for usage or I/O errors.\n"
    "\n"
    "Examples:\n"
    "  kdump fixtures/frames/produce_v7_request_librdkafka.hex\n"
    "  kdump --api Metadata --version 12 metadata_response.hex\n"
    "  kdump capture.bin     (requests and responses as read off a socket, size prefixes)\n";

struct opts {
    int hex;            /* -1 detect, 0 raw, 1 hex */
    int prefix;         /* -1 detect, 0 none, 1 size-prefixed */
    int api_key;        /* -1: not given */
    int api_version;
    const char *path;
};

/* A request seen earlier in the stream, waiting for its response. */
struct pending {
    int32_t correlation_id;
    int16_t key, version;
};

struct state {
    struct pending *pend;
    size_t npend, cap;
};

static int parse_api(const char *s)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*s != '\0' && *end == '\0')
        return v >= 0 && v <= INT16_MAX ? (int)v : -1;
    for (int k = 0; k <= INT16_MAX; k++) {
        const char *name = kw_api_name(k);
        if (strcmp(name, "Unknown") == 0)
            break;
        if (strcasecmp(name, s) == 0)
            return k;
    }
    return -1;
}

static int bad_usage(const char *fmt, const char *arg)
{
    fprintf(stderr, "kdump: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nTry 'kdump --help'.\n");
    return EXIT_USAGE;
}

/* Returns -1 to go on, or the exit status. */
static int parse_args(int argc, char **argv, struct opts *o)
{
    *o = (struct opts){ .hex = -1, .prefix = -1, .api_key = -1, .api_version = -1 };
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = NULL;
        bool api = strncmp(a, "--api", 5) == 0 && (a[5] == '\0' || a[5] == '=');
        bool ver = strncmp(a, "--version", 9) == 0 && (a[9] == '\0' || a[9] == '=');
        if (api || ver) {
            const char *eq = strchr(a, '=');
            if (eq != NULL)
                val = eq + 1;
            else if (i + 1 < argc)
                val = argv[++i];
            else
                return bad_usage("%s needs a value", a);
        }
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(usage, stdout);
            return 0;
        } else if (strcmp(a, "--hex") == 0) {
            o->hex = 1;
        } else if (strcmp(a, "--raw") == 0) {
            o->hex = 0;
        } else if (strcmp(a, "--prefix") == 0) {
            o->prefix = 1;
        } else if (strcmp(a, "--no-prefix") == 0) {
            o->prefix = 0;
        } else if (api) {
            if ((o->api_key = parse_api(val)) < 0)
                return bad_usage("unknown API '%s'", val);
        } else if (ver) {
            char *end;
            long v = strtol(val, &end, 10);
            if (*val == '\0' || *end != '\0' || v < 0 || v > INT16_MAX)
                return bad_usage("bad version '%s'", val);
            o->api_version = (int)v;
        } else if (a[0] == '-' && a[1] != '\0') {
            return bad_usage("unknown option %s", a);
        } else if (o->path != NULL) {
            return bad_usage("one input only (got %s too)", a);
        } else {
            o->path = a;
        }
    }
    if ((o->api_key < 0) != (o->api_version < 0))
        return bad_usage("%s", "--api and --version go together");
    return -1;
}

static int read_all(const char *path, struct kw_buf *in)
{
    FILE *fp = path == NULL || strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (fp == NULL) {
        fprintf(stderr, "kdump: %s: %s\n", path, strerror(errno));
        return -1;
    }
    for (;;) {
        uint8_t *p = kw_buf_space(in, 65536);
        if (p == NULL)
            break;
        size_t n = fread(p, 1, 65536, fp);
        kw_buf_commit(in, n);
        if (n < 65536)
            break;
    }
    int failed = ferror(fp) || in->err;
    if (failed)
        fprintf(stderr, "kdump: %s: read error\n", path ? path : "stdin");
    if (fp != stdin)
        fclose(fp);
    return failed ? -1 : 0;
}

static bool looks_hex(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '#') {
            while (i < n && p[i] != '\n')
                i++;
        } else if (!isxdigit(p[i]) && !isspace(p[i])) {
            return false;
        }
    }
    return true;
}

/* Hex text to bytes, in place (the bytes never outrun the text). Returns the byte count, or -1
 * for an odd number of digits or a stray character. */
static long unhex(uint8_t *p, size_t n)
{
    size_t out = 0;
    int hi = -1;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '#') {
            while (i < n && p[i] != '\n')
                i++;
            continue;
        }
        if (isspace(p[i]))
            continue;
        if (!isxdigit(p[i]))
            return -1;
        int v = isdigit(p[i]) ? p[i] - '0' : tolower(p[i]) - 'a' + 10;
        if (hi < 0) {
            hi = v;
        } else {
            p[out++] = (uint8_t)(hi << 4 | v);
            hi = -1;
        }
    }
    return hi < 0 ? (long)out : -1;
}

/* True if the input reads as size-prefixed frames that end exactly where it does. A frame
 * without a prefix almost never does: its first 4 bytes are an API key and version, or a
 * correlation id, rarely the length of what follows. */
static bool sizes_chain(const uint8_t *p, size_t n)
{
    size_t off = 0;
    while (n - off >= 4) {
        uint32_t size = kw_be32(p + off);
        if (size < 4 || size > n - off - 4)
            return false;
        off += 4 + size;
    }
    return n > 0 && off == n;
}

static struct pending *find_pending(struct state *st, int32_t cid)
{
    for (size_t i = 0; i < st->npend; i++)
        if (st->pend[i].correlation_id == cid)
            return &st->pend[i];
    return NULL;
}

static void add_pending(struct state *st, const uint8_t *f, size_t len)
{
    if (len < 8 || !kw_api_supported((int16_t)kw_be16(f), (int16_t)kw_be16(f + 2)))
        return;
    struct pending *old = find_pending(st, (int32_t)kw_be32(f + 4));
    if (old == NULL) {
        if (st->npend == st->cap) {
            size_t cap = st->cap ? st->cap * 2 : 16;
            struct pending *p = realloc(st->pend, cap * sizeof(*p));
            if (p == NULL)
                return;
            st->pend = p;
            st->cap = cap;
        }
        old = &st->pend[st->npend++];
    }
    *old = (struct pending){ (int32_t)kw_be32(f + 4), (int16_t)kw_be16(f),
                             (int16_t)kw_be16(f + 2) };
}

/* Describes one frame into out; returns KW_OK or the error that made it undecodable. */
static int describe_frame(struct state *st, const struct opts *o, const uint8_t *f, size_t len,
                          struct kw_buf *out)
{
    if (o->api_key >= 0)
        return kw_describe_response(out, o->api_key, o->api_version, f, len);

    struct pending *p = len >= 4 ? find_pending(st, (int32_t)kw_be32(f)) : NULL;
    struct kw_buf as_resp;
    kw_buf_init(&as_resp);
    int resp_err = KW_ERR_API;
    if (p != NULL) {
        resp_err = kw_describe_response(&as_resp, p->key, p->version, f, len);
        if (resp_err == KW_OK) {
            kw_put_raw(out, as_resp.data, as_resp.len);
            *p = st->pend[--st->npend];
            kw_buf_release(&as_resp);
            return KW_OK;
        }
    }
    size_t mark = out->len;
    int err = kw_describe_request(out, f, len);
    if (err != KW_OK && p != NULL) {
        /* Neither reading works: the correlation id is the stronger hint. */
        out->len = mark;
        kw_put_raw(out, as_resp.data, as_resp.len);
        err = resp_err;
    } else {
        add_pending(st, f, len);
    }
    kw_buf_release(&as_resp);
    return err;
}

static int run(const struct opts *o, const uint8_t *data, size_t n)
{
    if (n == 0) {
        fprintf(stderr, "kdump: no input\n");
        return EXIT_DECODE;
    }
    bool prefixed = o->prefix == 1 || (o->prefix < 0 && sizes_chain(data, n));
    struct state st = { 0 };
    struct kw_buf out;
    kw_buf_init(&out);
    int status = 0;
    for (size_t off = 0, frame = 1; off < n; frame++) {
        const uint8_t *f = data + off;
        size_t len = n - off;
        if (frame > 1)
            putchar('\n');
        if (prefixed && (len < 4 || kw_be32(f) > len - 4)) {
            printf("--- frame %zu at offset %zu: truncated, ", frame, off);
            if (len < 4)
                printf("%zu bytes where a size prefix needs 4 ---\n", len);
            else
                printf("its size says %" PRIu32 " bytes, %zu follow ---\n", kw_be32(f), len - 4);
            status = EXIT_DECODE;
            break;
        }
        if (prefixed) {
            len = kw_be32(f);
            f += 4;
            if (frame > 1 || 4 + len < n)
                printf("--- frame %zu: %zu bytes at offset %zu ---\n", frame, len, off);
        }
        kw_buf_reset(&out);
        if (describe_frame(&st, o, f, len, &out) != KW_OK)
            status = EXIT_DECODE;
        if (out.err) {
            fprintf(stderr, "kdump: out of memory\n");
            status = EXIT_USAGE;
            break;
        }
        fwrite(out.data, 1, out.len, stdout);
        off = prefixed ? off + 4 + len : n;
    }
    kw_buf_release(&out);
    free(st.pend);
    return status;
}

int main(int argc, char **argv)
{
    struct opts o;
    int rc = parse_args(argc, argv, &o);
    if (rc >= 0)
        return rc;

    struct kw_buf in;
    kw_buf_init(&in);
    if (read_all(o.path, &in) < 0) {
        kw_buf_release(&in);
        return EXIT_USAGE;
    }
    size_t n = in.len;
    if (o.hex == 1 || (o.hex < 0 && in.len > 0 && looks_hex(in.data, in.len))) {
        long m = unhex(in.data, in.len);
        if (m < 0) {
            fprintf(stderr, "kdump: bad hex input (a stray character or an odd digit count)\n");
            kw_buf_release(&in);
            return EXIT_DECODE;
        }
        n = (size_t)m;
    }
    rc = run(&o, in.data, n);
    kw_buf_release(&in);
    if (fflush(stdout) != 0)
        rc = EXIT_USAGE;
    return rc;
}
