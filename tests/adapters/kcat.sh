#!/bin/sh
# kcat (librdkafka) adapter for `mockbroker grade`.  kcat.sh [kcat options, e.g. -X acks=1]
part=""
[ "${KAFKA_PARTITION:--1}" -ge 0 ] && part="-p $KAFKA_PARTITION"
awk -v n="$MESSAGE_COUNT" -v seed="${KAFKA_SEED:-1}" 'BEGIN {
    for (i = 0; i < n; i++) {
        pad = ""
        for (j = 0; j < 32; j++) pad = pad sprintf("%c", 97 + (seed * 31 + i * 7 + j) % 26)
        printf "%d\t%d:%s\n", i, i, pad
    }
}' | kcat -P -b "$KAFKA_BOOTSTRAP" -t "$KAFKA_TOPIC" $part -K '	' \
    -X request.timeout.ms=2000 -X socket.timeout.ms=2000 -X message.timeout.ms=10000 \
    -X retry.backoff.ms=100 \
    -X linger.ms=5 "$@"
