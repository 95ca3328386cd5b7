/* Test helpers: golden frames from fixtures/frames, hex dumps for failure messages. */
#ifndef KWT_FX_H
#define KWT_FX_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/kw.h"

struct fx_frame {
    uint8_t *data;
    size_t len;
};

/* Loads fixtures/frames/NAME: hex digits, '#' comments and whitespace ignored. A file that is
 * missing or malformed gives len 0 and data NULL (and a message on stderr). */
struct fx_frame fx_load(const char *name);
void fx_free(struct fx_frame *f);
/* Parses hex text the same way into a fresh frame. */
struct fx_frame fx_hex(const char *hex);
/* Path of the repository's fixtures directory (KW_FIXTURES or ./fixtures). */
const char *fx_dir(void);

/* True if b holds exactly the bytes of hex (fx_hex rules); prints both on a mismatch. */
bool fx_encoded_as(const struct kw_buf *b, const char *hex);

/* A frame being decoded: the bytes, a reader over them and the arena for arrays. A decoded
 * struct points into f, so both live until fx_dec_done. */
struct fx_dec {
    struct fx_frame f;
    struct kw_reader r;
    struct kw_arena a;
};
void fx_dec_start(struct fx_dec *d, const char *hex);
void fx_dec_done(struct fx_dec *d);

#endif
