/* Test helpers: golden frames from fixtures/frames, hex dumps for failure messages. */
#ifndef KWT_FX_H
#define KWT_FX_H

#include <stddef.h>
#include <stdint.h>

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

#endif
