#!/usr/bin/python3
"""Runs a scenario file's workload with confluent-kafka-python against bin/mockbroker, then
checks the log through the control API. For tests/scripts/faults.sh.

  faults_produce.py SCENARIO --bootstrap B --admin URL [--set KEY=VALUE ...]

Messages are the ones mockbroker/scenario.c describes (mb_workload_value / mb_workload_key):
value = message index as 10 digits, '-', then seeded letters; the same bytes every run. Prints
one summary line (the seed first) and exits 0 when every "expect" of the workload holds, 1 with
the reasons otherwise.
"""
import argparse
import json
import sys
import time
import urllib.request

from confluent_kafka import KafkaException, Producer

M = (1 << 64) - 1


def payload(seed, i, salt, head, length):
    x = (seed ^ ((i * 0xd1342543de82ef95) & M) ^ salt) & M
    out = bytearray(head[:length])
    while len(out) < length:
        x = (x + 0x9e3779b97f4a7c15) & M
        z = x
        z = ((z ^ (z >> 30)) * 0xbf58476d1ce4e5b9) & M
        z = ((z ^ (z >> 27)) * 0x94d049bb133111eb) & M
        z ^= z >> 31
        out.append(97 + z % 26)
    return bytes(out)


def value_of(w, i):
    return payload(w["seed"], i, 0, b"%010d-" % i, w["value_size"])


def key_of(w, i):
    if w["key_size"] <= 0:
        return None
    return payload(w["seed"], i, 1, b"k%09d" % (i % 1000000000), w["key_size"])


def index_of(value):
    if value is None or len(value) < 11 or value[10] != "-" or not value[:10].isdigit():
        return -1
    return int(value[:10])


def http(url, method="GET", body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


def in_range(spec, v):
    if spec is None:
        return True
    if isinstance(spec, int):
        return v == spec
    return spec.get("min", 0) <= v <= spec.get("max", 1 << 62)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("scenario")
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--admin", required=True)
    ap.add_argument("--set", action="append", default=[], help="producer setting KEY=VALUE")
    a = ap.parse_args()
    with open(a.scenario) as f:
        doc = json.load(f)
    w = dict(doc["workload"])
    w.setdefault("seed", doc.get("seed", 0))
    w.setdefault("value_size", 100)
    w.setdefault("key_size", 0)
    w.setdefault("timeout_ms", 30000)
    part = w.get("partition", "any")
    conf = {k: (str(v).lower() if isinstance(v, bool) else str(v))
            for k, v in w.get("config", {}).items()}
    for kv in a.set:
        k, v = kv.split("=", 1)
        conf[k] = v
    conf["bootstrap.servers"] = a.bootstrap
    delivered, failed, errors = 0, 0, {}

    def report(err, msg):
        nonlocal delivered, failed
        if err is None:
            delivered += 1
        else:
            failed += 1
            errors[err.name()] = errors.get(err.name(), 0) + 1

    p = Producer(conf)
    deadline = time.monotonic() + w["timeout_ms"] / 1000.0
    fatal = None
    left = 0
    try:
        for i in range(w["messages"]):
            kw = {"partition": part} if isinstance(part, int) and part >= 0 else {}
            while True:
                try:
                    p.produce(w["topic"], value=value_of(w, i), key=key_of(w, i),
                              on_delivery=report, **kw)
                    break
                except BufferError:
                    p.poll(0.05)
            p.poll(0)
        left = len(p)
        while left and time.monotonic() < deadline:
            left = p.flush(max(0.0, min(1.0, deadline - time.monotonic())))
    except KafkaException as e:
        # A fatal error (e.g. an idempotent producer's sequence desynchronisation) ends the run:
        # what was not reported counts as failed.
        fatal = e.args[0].name() if e.args else str(e)
        failed = w["messages"] - delivered
        left = 0
    if left:
        print("faults_produce: %d messages still undelivered after %d ms" %
              (left, w["timeout_ms"]), file=sys.stderr)

    state = http(a.admin + "/state")
    topic = [t for t in state["topics"] if t["name"] == w["topic"]]
    records, distinct, dups, foreign, out_of_order = 0, 0, 0, 0, 0
    seen = set()
    for tp in (topic[0]["partitions"] if topic else []):
        last = -1
        got = http("%s/partitions/%s/%d/records" % (a.admin, w["topic"], tp["partition"]))
        for r in got["records"]:
            records += 1
            i = index_of(r.get("value"))
            if i < 0 or i >= w["messages"]:
                foreign += 1
            elif i in seen:
                dups += 1
            else:
                seen.add(i)
                distinct += 1
                out_of_order += i < last
                last = i
    missing = w["messages"] - distinct
    tally = {"delivered": delivered, "failed": failed, "log_records": records,
             "duplicates": dups, "missing": missing}
    print("seed=%d %s delivered=%d failed=%d log_records=%d duplicates=%d missing=%d "
          "out_of_order=%d errors=%s fatal=%s" % (w["seed"], a.scenario, delivered, failed,
                                                  records, dups, missing, out_of_order,
                                                  json.dumps(errors), fatal))
    bad = []
    for k, spec in w.get("expect", {}).items():
        if k == "in_order":
            if spec and out_of_order:
                bad.append("in_order: %d messages stored out of order" % out_of_order)
        elif not in_range(spec, tally[k]):
            bad.append("%s: %d, expected %s" % (k, tally[k], json.dumps(spec)))
    for b in bad:
        print("faults_produce: " + b, file=sys.stderr)
    return 1 if bad or left else 0


if __name__ == "__main__":
    sys.exit(main())
