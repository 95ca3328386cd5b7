#!/usr/bin/python3
"""kafka-python adapter for `mockbroker grade`: no idempotence (kafka-python 2.0 has none).
  kafka_python.py [--acks 0|1|all] [--retries N]"""
import argparse

from kafka import KafkaProducer

import grade_env as g

ap = argparse.ArgumentParser()
ap.add_argument("--acks", default="all")
ap.add_argument("--retries", type=int, default=5)
a = ap.parse_args()
acks = a.acks if a.acks == "all" else int(a.acks)
p = KafkaProducer(bootstrap_servers=g.BOOTSTRAP.split(","), acks=acks, retries=a.retries,
                  linger_ms=5, request_timeout_ms=2000, retry_backoff_ms=100,
                  max_in_flight_requests_per_connection=1, api_version_auto_timeout_ms=5000,
                  max_block_ms=10000)
extra = {"partition": g.PARTITION} if g.PARTITION >= 0 else {}
futures = [p.send(g.TOPIC, key=g.key(n), value=g.value(n), **extra) for n in range(g.COUNT)]
p.flush(timeout=30)
delivered = failed = 0
errors = {}
for f in futures:
    try:
        f.get(timeout=1)
        delivered += 1
    except Exception as e:  # noqa: BLE001 - any failure is one failed message
        failed += 1
        errors[type(e).__name__] = errors.get(type(e).__name__, 0) + 1
p.close(timeout=5)
g.finish(delivered, failed, " ".join("%s=%d" % kv for kv in errors.items()))
