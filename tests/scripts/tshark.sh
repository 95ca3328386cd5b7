#!/usr/bin/env bash
# Cross-check: every sample request and response (tests/samples.h), encoded by our codecs at each
# version both we and tshark's Kafka dissector speak, is laid out as one TCP conversation in a
# pcap and decoded by tshark. Fails if tshark finds any frame malformed, raises an expert error,
# or reads a different API key, version or correlation id than we wrote.
# Run by `make test` with B (build directory) in the environment; skipped without tshark.
set -euo pipefail

B=${B:-build}
cd "$(dirname "$0")/../.."
gen="$B/tests/genframes"

if ! command -v tshark >/dev/null 2>&1; then
    echo "tshark.sh: tshark is not installed; skipped"
    exit 0
fi
if [ ! -x "$gen" ]; then
    echo "tshark.sh: $gen is not built (make $gen)" >&2
    exit 1
fi

# The highest version tshark 4.0's dissector knows, per API key (key:version); genframes also
# stops at our own maximum. Later tshark releases know more, so these stay valid.
TSHARK_MAX="0:8 1:11 2:5 3:9 8:8 9:7 10:3 11:7 12:4 13:4 14:5 15:5 16:3 18:3 19:5 20:4 22:3 24:1 25:1 26:1 28:3"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/kw-tshark.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# shellcheck disable=SC2086  # one argument per key:version pair
timeout 30 "$gen" $TSHARK_MAX >"$tmp/frames.txt"
timeout 300 python3 tests/tools/tshark_check.py "$tmp/frames.txt" "$tmp" tshark
