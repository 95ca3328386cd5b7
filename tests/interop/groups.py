#!/usr/bin/python3
"""Consumer-group readers for tests/scripts/consumers.sh: each subscribes to a topic as a member
of a group, reads until it has the records it was told to expect (or stays idle too long), and
writes them as JSON lines {"k", "v", "p", "o"} for iop.py verify. Offsets are committed to the
group, so a second run of the same group must read nothing that was read before.

  confluent --bootstrap B --topic T --group G --expect N --out F [--idle-ms MS] [--client-id C]
  kafka-python --bootstrap B --topic T --group G --expect N --out F [--idle-ms MS] [--client-id C]

Exits 1 (reasons on stderr) on a client error or when fewer than N records arrived.
"""
import argparse
import json
import sys
import time


def text(b):
    return None if b is None else b.decode("utf-8", "replace")


def write_jsonl(path, rows):
    with open(path, "w") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")


def confluent(a):
    from confluent_kafka import Consumer
    # Auto commit is left on (librdkafka's default) and the close commits what was consumed, as
    # an ordinary application would do; the second run then starts from those offsets.
    cons = Consumer({"bootstrap.servers": a.bootstrap, "group.id": a.group,
                     "auto.offset.reset": "earliest", "session.timeout.ms": 10000,
                     "heartbeat.interval.ms": 500,
                     "auto.commit.interval.ms": 500, "client.id": a.client_id or "rdkafka"})
    cons.subscribe([a.topic])
    rows = []
    idle_until = time.monotonic() + a.idle_ms / 1000.0
    while time.monotonic() < idle_until and (a.expect == 0 or len(rows) < a.expect):
        m = cons.poll(0.2)
        if m is None:
            continue
        if m.error():
            # librdkafka reports what it retries by itself (a coordinator still loading, a
            # broker gone) as events; only a fatal error ends the consumer.
            if m.error().fatal():
                cons.close()
                sys.exit("consumer error: %s" % m.error())
            print("consumer event: %s" % m.error(), file=sys.stderr)
            continue
        rows.append({"k": text(m.key()), "v": text(m.value()), "p": m.partition(),
                     "o": m.offset()})
        idle_until = time.monotonic() + a.idle_ms / 1000.0
    cons.close()
    return rows


def kafka_python(a):
    from kafka import KafkaConsumer
    cons = KafkaConsumer(a.topic, bootstrap_servers=a.bootstrap, group_id=a.group,
                         auto_offset_reset="earliest", enable_auto_commit=True,
                         auto_commit_interval_ms=500, consumer_timeout_ms=a.idle_ms,
                         api_version_auto_timeout_ms=10000, request_timeout_ms=30000,
                         session_timeout_ms=10000, heartbeat_interval_ms=500,
                         client_id=a.client_id or "kafka-python-2.0.2")
    rows = []
    for m in cons:
        rows.append({"k": text(m.key), "v": text(m.value), "p": m.partition, "o": m.offset})
        if a.expect and len(rows) >= a.expect:
            break
    # close() commits the consumed positions synchronously (autocommit=True).
    cons.close()
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("client", choices=["confluent", "kafka-python"])
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--topic", required=True)
    ap.add_argument("--group", required=True)
    ap.add_argument("--expect", type=int, default=0, help="stop after N records (0: when idle)")
    ap.add_argument("--idle-ms", type=int, default=10000)
    ap.add_argument("--out", required=True)
    ap.add_argument("--client-id", help="the client id the broker sees (default: the client's)")
    a = ap.parse_args()
    rows = {"confluent": confluent, "kafka-python": kafka_python}[a.client](a)
    write_jsonl(a.out, rows)
    if len(rows) < a.expect:
        sys.exit("read %d records of %d in group %s" % (len(rows), a.expect, a.group))
    print("%d records" % len(rows))


if __name__ == "__main__":
    main()
