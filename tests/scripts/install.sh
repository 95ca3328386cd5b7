#!/usr/bin/env bash
# `make install` into a scratch prefix, then build and run a program against the installed
# headers and pkg-config file, as a user's own C test would.
set -euo pipefail
cd "$(dirname "$0")/../.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
make -s install PREFIX="$tmp/prefix" >/dev/null
export PKG_CONFIG_PATH="$tmp/prefix/lib/pkgconfig"
cat > "$tmp/use.c" <<'C'
#include <stdio.h>
#include <string.h>
#include "lib/describe.h"
#include "lib/proto/header.h"
#include "lib/proto/metadata.h"

int main(void)
{
    struct kw_metadata_req req = { .n_topics = -1, .allow_auto_topic_creation = true };
    struct kw_req_header h = { .api_key = KW_API_METADATA, .api_version = 9,
                               .correlation_id = 7, .client_id = kw_str_c("me") };
    struct kw_buf b, out;
    kw_buf_init(&b);
    kw_buf_init(&out);
    kw_req_header_encode(&b, kw_req_header_version(h.api_key, h.api_version), &h);
    kw_metadata_req_encode(&b, h.api_version, &req);
    int rc = kw_describe_request(&out, b.data, b.len);
    kw_put_i8(&out, 0);
    int ok = rc == KW_OK && strstr((char *)out.data, "Request Metadata v9") != NULL;
    printf("%s", (char *)out.data);
    kw_buf_release(&b);
    kw_buf_release(&out);
    return ok ? 0 : 1;
}
C
# shellcheck disable=SC2046
cc -std=c11 $(pkg-config --cflags libkwire) "$tmp/use.c" -o "$tmp/use" \
    $(pkg-config --libs --static libkwire)
if "$tmp/use" > "$tmp/out"; then
    echo "install: 1 passed, 0 failed"
else
    cat "$tmp/out"
    echo "install: 0 passed, 1 failed"
    exit 1
fi
