#!/bin/sh
# install.sh DESTDIR_PREFIX BUILD_DIR BIN_DIR HEADER...: the libraries, their headers (keeping
# their directories, so "lib/kw.h" includes still resolve), pkg-config files and programs.
set -eu
prefix=$1 build=$2 bin=$3
shift 3
mkdir -p "$prefix/lib/pkgconfig" "$prefix/include/kwire" "$prefix/bin"
for a in "$build"/libkwire.a "$build"/libkwev.a "$build"/libmockbroker.a "$build"/libkproducer.a; do
    [ -e "$a" ] && install -m 644 "$a" "$prefix/lib/"
done
for h in "$@"; do
    mkdir -p "$prefix/include/kwire/$(dirname "$h")"
    install -m 644 "$h" "$prefix/include/kwire/$h"
done
for p in "$bin"/kdump "$bin"/mockbroker "$bin"/kproducer; do
    [ -e "$p" ] && install -m 755 "$p" "$prefix/bin/"
done
pc() {  # pc NAME DESCRIPTION LIBS REQUIRES
    cat > "$prefix/lib/pkgconfig/$1.pc" <<PC
prefix=$prefix
libdir=\${prefix}/lib
includedir=\${prefix}/include/kwire

Name: $1
Description: $2
Version: 0.1.0
Requires.private: $4
Libs: -L\${libdir} $3
Cflags: -I\${includedir}
PC
}
deps="libevent_core libevent_pthreads zlib liblz4 libzstd"
pc libkwire "Kafka wire protocol (no I/O)" "-lkwire -lsnappy" "zlib liblz4 libzstd"
[ -e "$prefix/lib/libmockbroker.a" ] &&
    pc libmockbroker "In-process mock Kafka cluster" "-lmockbroker -lkwev -lkwire -lsnappy -ljansson -levent_extra" "$deps"
[ -e "$prefix/lib/libkproducer.a" ] &&
    pc libkproducer "Kafka producer" "-lkproducer -lkwev -lkwire -lsnappy" "$deps"
echo "installed into $prefix"
