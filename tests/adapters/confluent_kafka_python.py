#!/usr/bin/python3
"""confluent-kafka-python (librdkafka) adapter for `mockbroker grade`.
  confluent_kafka_python.py [--idempotent] [--acks 0|1|all] [-X key=value ...]"""
import argparse
import time

from confluent_kafka import KafkaException, Producer

import grade_env as g

ap = argparse.ArgumentParser()
ap.add_argument("--idempotent", action="store_true")
ap.add_argument("--acks", default="all")
ap.add_argument("-X", action="append", default=[])
a = ap.parse_args()
conf = {
    "bootstrap.servers": g.BOOTSTRAP,
    "enable.idempotence": a.idempotent,
    "acks": a.acks,
    "linger.ms": 5,
    "request.timeout.ms": 2000,
    "socket.timeout.ms": 2000,
    "message.timeout.ms": 10000,
    "retry.backoff.ms": 100,
}
for kv in a.X:
    k, v = kv.split("=", 1)
    conf[k] = v
delivered = failed = 0
errors = {}


def report(err, msg):
    global delivered, failed
    if err is None:
        delivered += 1
    else:
        failed += 1
        errors[err.name()] = errors.get(err.name(), 0) + 1


p = Producer(conf)
extra = {"partition": g.PARTITION} if g.PARTITION >= 0 else {}
fatal = ""
try:
    for n in range(g.COUNT):
        while True:
            try:
                p.produce(g.TOPIC, key=g.key(n), value=g.value(n), on_delivery=report, **extra)
                break
            except BufferError:
                p.poll(0.05)
        p.poll(0)
    deadline = time.monotonic() + 20
    while len(p) and time.monotonic() < deadline:
        p.flush(1.0)
except KafkaException as e:
    fatal = "fatal=" + (e.args[0].name() if e.args else str(e))
failed = g.COUNT - delivered  # unreported messages count as failed
g.finish(delivered, failed, " ".join([fatal] + ["%s=%d" % kv for kv in errors.items()]).strip())
