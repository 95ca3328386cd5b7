#!/usr/bin/env bash
# bin/kdump end to end: hex and raw input, with and without size prefixes, a response matched
# to its request by correlation id, --api/--version, and the exit status contract
# (0 decoded, 1 did not, 2 usage). Run by `make test` with BIN in the environment.
set -uo pipefail

BIN=${BIN:-bin}
cd "$(dirname "$0")/../.." || exit 1
kdump="$BIN/kdump"
[ -x "$kdump" ] || { echo "kdump.sh: $kdump is not built" >&2; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/kw-kdump.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fails=0
checks=0

# expect NAME STATUS PATTERN... -- runs "$@" after the patterns' "--", output in $tmp/out
expect() {
    local name=$1 want=$2
    shift 2
    local pats=()
    while [ "$1" != "--" ]; do pats+=("$1"); shift; done
    shift
    timeout 20 "$@" >"$tmp/out" 2>&1
    local got=$?
    checks=$((checks + 1))
    local ok=1
    [ "$got" = "$want" ] || ok=0
    for p in "${pats[@]}"; do grep -qF -- "$p" "$tmp/out" || ok=0; done
    if [ $ok = 0 ]; then
        fails=$((fails + 1))
        echo "FAIL $name: exit $got (want $want), output:"
        sed 's/^/    /' "$tmp/out"
    fi
}

# librdkafka's ApiVersions v3 request as a fixture file has it: hex, comments, no size prefix.
cat >"$tmp/req.hex" <<'HEX'
# ApiVersions v3 request, librdkafka 2.0.2
0012 0003 00000001 0007 72646b61666b61 00   # header v2
0b 6c696272646b61666b61 06 322e302e32 00    # body
HEX
expect "hex frame without prefix" 0 \
    'Request ApiVersions v3 (header v2)  correlation_id=1  client_id="rdkafka"' \
    'ClientSoftwareName: "librdkafka"' -- "$kdump" "$tmp/req.hex"

# The same request and its answer on the wire (size prefixes), raw, on stdin: the response is
# read as ApiVersions v3 because its correlation id answers the request.
{
    echo "00000024"; grep -v '^#' "$tmp/req.hex" | sed 's/#.*//'
    echo "00000013 00000001 0000 02 0012 0000 0003 00 00000000 00"
} | sed 's/#.*//' | xxd -r -p >"$tmp/stream.bin"
expect "raw stream, response matched by correlation id" 0 \
    '--- frame 1: 36 bytes at offset 0 ---' '--- frame 2: 19 bytes at offset 40 ---' \
    'Response ApiVersions v3 (header v0)  correlation_id=1' 'MaxVersion: 3' \
    -- sh -c "'$kdump' - <'$tmp/stream.bin'"

echo "00000001 0023 00000001 0012 0000 0004" >"$tmp/resp.hex"
expect "--api/--version read a response" 0 \
    'Response ApiVersions v0 (header v0)  correlation_id=1' 'ErrorCode: 35' \
    -- "$kdump" --api ApiVersions --version 0 "$tmp/resp.hex"
expect "--api by number" 0 'ErrorCode: 35' -- "$kdump" --api=18 --version=0 --hex "$tmp/resp.hex"

head -c 30 "$tmp/stream.bin" | tail -c 26 >"$tmp/cut.bin"
expect "truncated frame fails with 1" 1 'decode error: input ends inside a field' \
    -- "$kdump" --raw --no-prefix "$tmp/cut.bin"
head -c 50 "$tmp/stream.bin" >"$tmp/cut2.bin"
expect "stream cut inside a frame fails with 1" 1 'truncated' \
    -- "$kdump" --prefix "$tmp/cut2.bin"
echo "0011 0004 00000009 0003 616263 00" >"$tmp/unknown.hex"
expect "unknown API key fails with 1" 1 'unknown API key 17 (SaslHandshake)' \
    -- "$kdump" "$tmp/unknown.hex"

expect "--help" 0 'usage: kdump' -- "$kdump" --help
expect "unknown option" 2 'unknown option --bogus' -- "$kdump" --bogus
expect "--api without --version" 2 '--api and --version go together' -- "$kdump" --api 18
expect "missing file" 2 'No such file' -- "$kdump" "$tmp/none"

echo "$checks kdump checks, $fails failed"
[ $fails = 0 ]
