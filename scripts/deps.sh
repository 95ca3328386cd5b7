#!/bin/sh
# Installs what the project needs that this machine lacks: exactly the missing Debian packages,
# when running as root on Debian; otherwise one line naming them. Usage: deps.sh build|test|all
set -u
what=${1:-build}
missing=""

need_pc() {     # need_pc PKGCONFIG-NAME DEBIAN-PACKAGE
    pkg-config --exists "$1" 2>/dev/null || missing="$missing $2"
}
need_hdr() {    # need_hdr HEADER DEBIAN-PACKAGE
    printf '#include <%s>\n' "$1" | ${CC:-cc} -E -x c - >/dev/null 2>&1 || missing="$missing $2"
}
need_cmd() {    # need_cmd COMMAND DEBIAN-PACKAGE
    command -v "$1" >/dev/null 2>&1 || missing="$missing $2"
}

command -v pkg-config >/dev/null 2>&1 || missing="$missing pkg-config"
need_cmd cc gcc
need_cmd make make
need_pc libevent_core libevent-dev
need_pc zlib zlib1g-dev
need_pc liblz4 liblz4-dev
need_pc libzstd libzstd-dev
need_hdr snappy-c.h libsnappy-dev
need_pc jansson libjansson-dev
need_hdr CUnit/Basic.h libcunit1-dev
need_hdr librdkafka/rdkafka.h librdkafka-dev
if [ "$what" != build ]; then
    need_cmd valgrind valgrind
    need_cmd clang clang
    [ -e /usr/lib/llvm-14/lib/clang/14.0.6/lib/linux/libclang_rt.fuzzer-x86_64.a ] ||
        ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1 ||
        missing="$missing libclang-rt-14-dev"
    need_cmd xxd xxd
    need_cmd tshark tshark
    need_cmd curl curl
    need_cmd kcat kcat
    [ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import kafka' 2>/dev/null || missing="$missing python3-kafka"
    [ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import confluent_kafka' 2>/dev/null ||
        missing="$missing python3-confluent-kafka"
    need_cmd node nodejs
    need_cmd npm npm
fi

[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "deps: installing$missing" >&2
    export DEBIAN_FRONTEND=noninteractive
    # tshark asks whether non-root users may capture; the default answer (no) is right here.
    apt-get install -y -qq $missing >/dev/null 2>&1 ||
        { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq $missing >/dev/null; } ||
        { echo "deps: apt-get install$missing failed" >&2; exit 1; }
else
    echo "deps: missing$missing (install them, e.g. sudo apt-get install$missing)" >&2
    exit 1
fi
