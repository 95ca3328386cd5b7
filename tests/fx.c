#include "tests/fx.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *fx_dir(void)
{
    const char *d = getenv("KW_FIXTURES");
    return d ? d : "fixtures";
}

struct fx_frame fx_hex(const char *hex)
{
    struct fx_frame f = { malloc(strlen(hex) / 2 + 1), 0 };
    int hi = -1;
    for (const char *p = hex; f.data && *p; p++) {
        if (*p == '#') {
            while (*p && *p != '\n')
                p++;
            if (!*p)
                break;
            continue;
        }
        if (isspace((unsigned char)*p))
            continue;
        if (!isxdigit((unsigned char)*p)) {
            fprintf(stderr, "fx_hex: bad character '%c'\n", *p);
            fx_free(&f);
            return f;
        }
        int v = isdigit((unsigned char)*p) ? *p - '0' : tolower((unsigned char)*p) - 'a' + 10;
        if (hi < 0)
            hi = v;
        else {
            f.data[f.len++] = (uint8_t)(hi << 4 | v);
            hi = -1;
        }
    }
    if (hi >= 0) {
        fprintf(stderr, "fx_hex: odd number of hex digits\n");
        fx_free(&f);
    }
    return f;
}

struct fx_frame fx_load(const char *name)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/frames/%s", fx_dir(), name);
    FILE *fp = fopen(path, "r");
    struct fx_frame f = { NULL, 0 };
    if (fp == NULL) {
        fprintf(stderr, "fx_load: cannot open %s\n", path);
        return f;
    }
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *text = malloc((size_t)n + 1);
    if (text && fread(text, 1, (size_t)n, fp) == (size_t)n) {
        text[n] = '\0';
        f = fx_hex(text);
    }
    free(text);
    fclose(fp);
    return f;
}

void fx_free(struct fx_frame *f)
{
    free(f->data);
    f->data = NULL;
    f->len = 0;
}

bool fx_encoded_as(const struct kw_buf *b, const char *hex)
{
    struct fx_frame f = fx_hex(hex);
    bool ok = b->err == KW_OK && b->len == f.len &&
              (f.len == 0 || memcmp(b->data, f.data, f.len) == 0);
    if (!ok) {
        fprintf(stderr, "\nwant %s\ngot  ", hex);
        for (size_t i = 0; i < b->len; i++)
            fprintf(stderr, "%02x", b->data[i]);
        fprintf(stderr, " (err %d)\n", b->err);
    }
    fx_free(&f);
    return ok;
}

void fx_dec_start(struct fx_dec *d, const char *hex)
{
    d->f = fx_hex(hex);
    kw_arena_init(&d->a);
    kw_reader_init(&d->r, d->f.data, d->f.len);
}

void fx_dec_done(struct fx_dec *d)
{
    kw_arena_release(&d->a);
    fx_free(&d->f);
}
