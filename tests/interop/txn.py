#!/usr/bin/python3
"""Transactions with confluent-kafka-python (librdkafka) for tests/scripts/transactions.sh. Each
check talks to a running bin/mockbroker and exits 1, with the reason on stderr, if the clients did
not see what a Kafka broker would have made them see:

  commit-abort --bootstrap B --topic T --n N --m M
      a transactional producer commits N keyed records, aborts M, commits N more; a
      read_committed consumer then reads exactly the 2N committed ones (each partition in
      produce order, none of the aborted) and a read_uncommitted consumer all 2N + M
  offsets --bootstrap B --topic T --out-topic O --group G --n N
      a consumer of group G reads N records of T; a transactional producer copies them to O
      and sends the consumer's positions with send_offsets_to_transaction: an aborted attempt
      leaves the group's committed offsets alone, the committed one moves them to the positions
  fence --bootstrap B --topic T
      a second producer with the same transactional.id takes over: the first one's commit
      fails with a fatal KafkaException (fenced), and the second one's transaction commits
"""
import argparse
import sys
import time

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition

TXN_TIMEOUT_S = 20


def fail(msg):
    sys.exit("txn.py: " + msg)


def producer(bs, txn_id, **extra):
    conf = {"bootstrap.servers": bs, "transactional.id": txn_id, "linger.ms": 5,
            "transaction.timeout.ms": 30000}
    conf.update(extra)
    p = Producer(conf)
    p.init_transactions(TXN_TIMEOUT_S)
    return p


def send(p, topic, keys, tag):
    """Produces one record per key and waits for every delivery (inside the transaction)."""
    errors = []

    def report(err, msg):
        if err is not None:
            errors.append(str(err))

    for k in keys:
        p.produce(topic, key=k, value="%s:%s" % (tag, k), on_delivery=report)
    left = p.flush(TXN_TIMEOUT_S)
    if left or errors:
        fail("%d records undelivered, errors %s" % (left, errors[:3]))


def consume(bs, topic, group, isolation, expect, idle_s=2.0):
    """Every record a new member of `group` reads from the beginning, as (key, partition,
    offset), stopping once `expect` have come and the topic stays quiet for idle_s."""
    c = Consumer({"bootstrap.servers": bs, "group.id": group, "auto.offset.reset": "earliest",
                  "isolation.level": isolation, "enable.auto.commit": False,
                  "session.timeout.ms": 10000})
    c.subscribe([topic])
    rows = []
    deadline = time.monotonic() + 30
    quiet_until = None
    while time.monotonic() < deadline:
        m = c.poll(0.2)
        if m is None:
            if len(rows) >= expect and quiet_until is None:
                quiet_until = time.monotonic() + idle_s
            if quiet_until is not None and time.monotonic() > quiet_until:
                break
            continue
        if m.error():
            c.close()
            fail("%s consumer error: %s" % (isolation, m.error()))
        rows.append((m.key().decode(), m.partition(), m.offset()))
        quiet_until = None
    c.close()
    return rows


def in_order(rows, produced):
    """Each partition's keys come in the order they were produced."""
    rank = {k: i for i, k in enumerate(produced)}
    by_part = {}
    for k, p, o in sorted(rows, key=lambda r: (r[1], r[2])):
        by_part.setdefault(p, []).append(rank[k])
    return all(v == sorted(v) for v in by_part.values())


def commit_abort(a):
    c1 = ["c1-%05d" % i for i in range(a.n)]
    ab = ["ab-%05d" % i for i in range(a.m)]
    c2 = ["c2-%05d" % i for i in range(a.n)]
    p = producer(a.bootstrap, "txn-commit-abort")
    p.begin_transaction()
    send(p, a.topic, c1, "commit1")
    p.commit_transaction(TXN_TIMEOUT_S)
    p.begin_transaction()
    send(p, a.topic, ab, "abort")       # delivered, so in the log, then aborted
    p.abort_transaction(TXN_TIMEOUT_S)
    p.begin_transaction()
    send(p, a.topic, c2, "commit2")
    p.commit_transaction(TXN_TIMEOUT_S)
    p.flush(5)

    committed = consume(a.bootstrap, a.topic, "rc-group", "read_committed", 2 * a.n)
    keys = [r[0] for r in committed]
    if len(keys) != len(set(keys)):
        fail("read_committed read duplicates")
    if set(keys) != set(c1 + c2):
        fail("read_committed read %d records: %d aborted ones, %d committed missing" %
             (len(keys), len(set(keys) & set(ab)), len(set(c1 + c2) - set(keys))))
    if not in_order(committed, c1 + c2):
        fail("read_committed: a partition's records out of produce order")
    everything = consume(a.bootstrap, a.topic, "ru-group", "read_uncommitted", 2 * a.n + a.m)
    keys = [r[0] for r in everything]
    if sorted(keys) != sorted(c1 + ab + c2):
        fail("read_uncommitted read %d records, expected %d" % (len(keys), 2 * a.n + a.m))
    if not in_order(everything, c1 + ab + c2):
        fail("read_uncommitted: a partition's records out of produce order")
    print("read_committed %d of %d records, read_uncommitted %d" %
          (len(committed), 2 * a.n + a.m, len(everything)))


def offsets(a):
    plain = Producer({"bootstrap.servers": a.bootstrap})
    for i in range(a.n):
        plain.produce(a.topic, key="in-%05d" % i, value="x")
    if plain.flush(TXN_TIMEOUT_S):
        fail("input records undelivered")
    c = Consumer({"bootstrap.servers": a.bootstrap, "group.id": a.group,
                  "auto.offset.reset": "earliest", "enable.auto.commit": False,
                  "isolation.level": "read_committed", "session.timeout.ms": 10000})
    c.subscribe([a.topic])
    got = []
    deadline = time.monotonic() + 30
    while len(got) < a.n and time.monotonic() < deadline:
        m = c.poll(0.2)
        if m is None:
            continue
        if m.error():
            fail("consumer error: %s" % m.error())
        got.append(m)
    if len(got) != a.n:
        fail("the consumer read %d of %d input records" % (len(got), a.n))
    positions = c.position(c.assignment())
    want = {(tp.topic, tp.partition): tp.offset for tp in positions if tp.offset >= 0}

    def committed_now():
        tps = c.committed([TopicPartition(t, p) for t, p in want], timeout=10)
        return {(tp.topic, tp.partition): tp.offset for tp in tps}

    p = producer(a.bootstrap, "txn-offsets")
    # First attempt aborted: the offsets it sent must not show.
    p.begin_transaction()
    send(p, a.out_topic, ["out-%05d" % i for i in range(a.n)], "aborted")
    p.send_offsets_to_transaction(positions, c.consumer_group_metadata(), TXN_TIMEOUT_S)
    p.abort_transaction(TXN_TIMEOUT_S)
    before = committed_now()
    if any(o >= 0 for o in before.values()):
        fail("offsets of an aborted transaction were committed: %s" % before)
    p.begin_transaction()
    send(p, a.out_topic, ["out-%05d" % i for i in range(a.n)], "committed")
    p.send_offsets_to_transaction(positions, c.consumer_group_metadata(), TXN_TIMEOUT_S)
    p.commit_transaction(TXN_TIMEOUT_S)
    after = committed_now()
    c.close()
    if after != want:
        fail("committed offsets %s, expected the positions %s" % (after, want))
    out = consume(a.bootstrap, a.out_topic, "out-reader", "read_committed", a.n)
    if sorted(r[0] for r in out) != ["out-%05d" % i for i in range(a.n)]:
        fail("read_committed read %d output records, expected %d" % (len(out), a.n))
    print("group %s committed %s through the transaction" % (a.group, sorted(after.items())))


def fence(a):
    first = producer(a.bootstrap, "txn-fence")
    first.begin_transaction()
    send(first, a.topic, ["first-%d" % i for i in range(5)], "first")
    # The second instance: the coordinator aborts the first one's transaction and fences it.
    second = producer(a.bootstrap, "txn-fence")
    try:
        first.commit_transaction(TXN_TIMEOUT_S)
        fail("the fenced producer committed")
    except KafkaException as e:
        err = e.args[0]
        if not err.fatal():
            fail("the fenced producer's error is not fatal: %s" % err)
        print("first producer: %s (fatal)" % err.name())
    second.begin_transaction()
    send(second, a.topic, ["second-%d" % i for i in range(5)], "second")
    second.commit_transaction(TXN_TIMEOUT_S)
    rows = consume(a.bootstrap, a.topic, "fence-reader", "read_committed", 5)
    keys = sorted(r[0] for r in rows)
    if keys != ["second-%d" % i for i in range(5)]:
        fail("read_committed read %s, expected only the second producer's 5" % keys)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("check", choices=["commit-abort", "offsets", "fence"])
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--topic", required=True)
    ap.add_argument("--out-topic", default="out")
    ap.add_argument("--group", default="txn-group")
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--m", type=int, default=30)
    a = ap.parse_args()
    {"commit-abort": commit_abort, "offsets": offsets, "fence": fence}[a.check](a)


if __name__ == "__main__":
    main()
