#!/usr/bin/python3
"""Helpers for tests/scripts/interop.sh: real Python clients against bin/mockbroker, plus the
checks the script asserts with.

Every subcommand exits 0 when its check holds and 1 (with the reasons on stderr) when it does
not. Records travel between steps as JSON lines: {"k": key, "v": value, "p": partition,
"o": offset}, p and o null when the producer was not told. kcat -J lines are read as well.

  gen N TAG [--pad N]       N keyed records (k00000, ...), "key:value" lines for kcat -K:
  verify --sent F --got F --partitions N [--partitioner crc32|murmur2] [--tail]
  batches --bootstrap B --topic T --partitions N [--out F]
                            the stored batch headers, read with a raw Fetch v11 (one broker)
  batch-check --batches F [--codec C] [--idempotent | --not-idempotent] [--max-bytes N] ...
  kafka-python-produce / kafka-python-consume / confluent-produce / confluent-consume
"""
import argparse
import json
import socket
import struct
import sys
import time
import zlib

CODECS = {0: "none", 1: "gzip", 2: "snappy", 3: "lz4", 4: "zstd"}


def fail(*reasons):
    for r in reasons:
        print(r, file=sys.stderr)
    sys.exit(1)


def make_records(n, tag, pad, start=0):
    # Repetitive values compress well, so a client never skips compression for growing them.
    filler = ("abcdefgh" * ((pad + 7) // 8))[:pad]
    return [("k%05d" % i, "%s-%05d-%s" % (tag, i, filler)) for i in range(start, start + n)]


def write_jsonl(path, rows):
    with open(path, "w") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")


def read_jsonl(path):
    rows = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            r = json.loads(line)
            if "payload" in r:      # kcat -J
                r = {"k": r.get("key"), "v": r.get("payload"), "p": r["partition"],
                     "o": r["offset"]}
            rows.append(r)
    return rows


def text(b):
    return None if b is None else b.decode("utf-8", "replace")


# --- partitioners, to check each client put each key where its documented partitioner does ---

def crc32_partition(key, n):
    # librdkafka's consistent_random: CRC-32 of the key (its default for keyed records).
    return (zlib.crc32(key.encode()) & 0xFFFFFFFF) % n


def murmur2(data):
    # Kafka's murmur2 (the Java client's, and kafkajs' and kafka-python's default partitioner).
    m, r = 0x5BD1E995, 24
    length = len(data)
    h = (0x9747B28C ^ length) & 0xFFFFFFFF
    for i in range(0, length - length % 4, 4):
        k = struct.unpack_from("<I", data, i)[0]
        k = (k * m) & 0xFFFFFFFF
        k ^= k >> r
        k = (k * m) & 0xFFFFFFFF
        h = (h * m) & 0xFFFFFFFF
        h ^= k
    tail = length % 4
    base = length - tail
    if tail >= 3:
        h ^= data[base + 2] << 16
    if tail >= 2:
        h ^= data[base + 1] << 8
    if tail >= 1:
        h ^= data[base]
        h = (h * m) & 0xFFFFFFFF
    h ^= h >> 13
    h = (h * m) & 0xFFFFFFFF
    h ^= h >> 15
    return h


def murmur2_partition(key, n):
    return (murmur2(key.encode()) & 0x7FFFFFFF) % n


PARTITIONERS = {"crc32": crc32_partition, "murmur2": murmur2_partition}


# --- verify: what was read back equals what was sent, per partition, in order ---------------

def verify(sent, got, n_partitions, partitioner, tail=False):
    errors = []
    part_of = PARTITIONERS.get(partitioner)
    expect = {p: [] for p in range(n_partitions)}
    reported = {}
    seen_keys = set()
    for s in sent:
        if s["k"] in seen_keys:
            errors.append("test bug: key %s sent twice" % s["k"])
        seen_keys.add(s["k"])
        p = s.get("p")
        if part_of is not None:
            want = part_of(s["k"], n_partitions)
            if p is not None and p != want:
                errors.append("key %s went to partition %d, its partitioner says %d"
                              % (s["k"], p, want))
            if p is None:
                p = want
        if p is None:
            errors.append("test bug: no partition known for key %s" % s["k"])
            continue
        if not 0 <= p < n_partitions:
            errors.append("key %s reported in partition %d of %d" % (s["k"], p, n_partitions))
            continue
        expect[p].append((s["k"], s["v"]))
        if s.get("o") is not None and s["o"] >= 0:
            reported[s["k"]] = (p, s["o"])

    by_part = {p: [] for p in range(n_partitions)}
    seen = set()
    for g in got:
        p, o = g["p"], g["o"]
        if p not in by_part:
            errors.append("read a record from partition %s, which should not exist" % p)
            continue
        if (p, o) in seen:
            errors.append("partition %d offset %d read twice" % (p, o))
        seen.add((p, o))
        by_part[p].append(g)
    for p in range(n_partitions):
        rows = by_part[p]
        first = 0
        if tail and rows:
            # Retention dropped the oldest batches: offsets count from the partition's start.
            first = rows[0]["o"]
            expect[p] = expect[p][first:]
        for i, g in enumerate(rows):
            if g["o"] != first + i:
                errors.append("partition %d: record %d has offset %d, expected %d"
                              % (p, i, g["o"], first + i))
                break
        have = [(g["k"], g["v"]) for g in rows]
        if have != expect[p]:
            errors.append("partition %d: read %d records, sent %d; first difference at #%s: "
                          "read %r, sent %r" % (p, len(have), len(expect[p]),
                                                first_diff(have, expect[p]),
                                                at(have, first_diff(have, expect[p])),
                                                at(expect[p], first_diff(have, expect[p]))))
        for g in rows:
            if g["k"] in reported and reported[g["k"]] != (p, g["o"]):
                errors.append("key %s: acknowledged at partition %d offset %d, read at %d/%d"
                              % ((g["k"],) + reported[g["k"]] + (p, g["o"])))
                break
    return errors, [len(by_part[p]) for p in range(n_partitions)]


def first_diff(a, b):
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return i
    return min(len(a), len(b))


def at(rows, i):
    if i >= len(rows):
        return None
    k, v = rows[i]
    return (k, v if v is None or len(v) <= 24 else v[:24] + "...")


def cmd_verify(a):
    sent, got = read_jsonl(a.sent), read_jsonl(a.got)
    ends = {}
    body = []
    for g in got:
        if "end" in g:          # a consumer's trailer: the high watermark of each partition
            ends.update({int(p): o for p, o in g["end"].items()})
        else:
            body.append(g)
    errors, counts = verify(sent, body, a.partitions, a.partitioner, a.tail)
    for p, hw in sorted(ends.items()):
        if not a.tail and hw != counts[p]:
            errors.append("partition %d: high watermark %d but %d records read"
                          % (p, hw, counts[p]))
    if len(body) != len(sent) and not a.tail:
        errors.insert(0, "sent %d records, read %d" % (len(sent), len(body)))
    if errors:
        fail(*errors[:10])
    print("%d records, per partition %s" % (len(body), counts))


# --- raw Fetch v11: the batch headers as the broker stores them ------------------------------

CRC32C_TABLE = []
for _i in range(256):
    _c = _i
    for _ in range(8):
        _c = (_c >> 1) ^ 0x82F63B78 if _c & 1 else _c >> 1
    CRC32C_TABLE.append(_c)


def crc32c(data):
    c = 0xFFFFFFFF
    t = CRC32C_TABLE
    for b in data:
        c = t[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


class Reader:
    def __init__(self, data):
        self.d, self.at = data, 0

    def take(self, fmt):
        v = struct.unpack_from(">" + fmt, self.d, self.at)
        self.at += struct.calcsize(">" + fmt)
        return v if len(v) > 1 else v[0]

    def string(self):
        n = self.take("h")
        if n < 0:
            return None
        s = self.d[self.at:self.at + n]
        self.at += n
        return s.decode()

    def bytes(self):
        n = self.take("i")
        if n < 0:
            return None
        b = self.d[self.at:self.at + n]
        self.at += n
        return b


def kstring(s):
    b = s.encode()
    return struct.pack(">h", len(b)) + b


def recv_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("connection closed after %d of %d bytes" % (len(buf), n))
        buf += chunk
    return buf


def fetch_v11(sock, corr, topic, partition, offset):
    # v11, the newest non-flexible version: zstd batches need v10+ (KIP-110).
    body = struct.pack(">iiiibii", -1, 0, 0, 64 << 20, 0, 0, -1)
    body += struct.pack(">i", 1) + kstring(topic)
    body += struct.pack(">iiiqqi", 1, partition, -1, offset, -1, 64 << 20)
    body += struct.pack(">i", 0) + kstring("")          # no forgotten topics, rack ""
    req = struct.pack(">hhi", 1, 11, corr) + kstring("kwire-interop") + body
    sock.sendall(struct.pack(">i", len(req)) + req)
    size = struct.unpack(">i", recv_exact(sock, 4))[0]
    r = Reader(recv_exact(sock, size))
    if r.take("i") != corr:
        raise ValueError("correlation id mismatch")
    r.take("i")                                         # throttle_time_ms
    r.take("h")                                         # error_code
    r.take("i")                                         # session_id
    for _ in range(r.take("i")):
        r.string()
        for _ in range(r.take("i")):
            idx, err, hw, _lso, log_start = r.take("ihqqq")
            n_aborted = r.take("i")
            for _ in range(max(n_aborted, 0)):
                r.take("qq")
            r.take("i")                                 # preferred_read_replica
            records = r.bytes() or b""
            if idx == partition:
                return err, hw, log_start, records
    raise ValueError("partition %d missing from the Fetch response" % partition)


def parse_batches(records, partition, out):
    at = 0
    while len(records) - at >= 61:
        (base, length, epoch, magic, crc, attrs, last_delta, _bts, _mts, pid, pepoch, bseq,
         count) = struct.unpack_from(">qiibIhiqqqhii", records, at)
        end = at + 12 + length
        if end > len(records):
            break               # a partial batch at the end of the response
        out.append({"p": partition, "base_offset": base, "last_offset": base + last_delta,
                    "magic": magic, "leader_epoch": epoch, "attributes": attrs,
                    "codec": CODECS.get(attrs & 7, str(attrs & 7)), "producer_id": pid,
                    "producer_epoch": pepoch, "base_sequence": bseq, "count": count,
                    "bytes": end - at, "crc_ok": crc32c(records[at + 21:end]) == crc})
        at = end
    return at


def cmd_batches(a):
    host, port = a.bootstrap.split(",")[0].rsplit(":", 1)
    rows = []
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        corr = 0
        for p in range(a.partitions):
            offset, first = 0, True
            while True:
                corr += 1
                err, hw, log_start, records = fetch_v11(sock, corr, a.topic, p, offset)
                if err == 1 and first and offset != log_start:
                    offset = log_start      # OFFSET_OUT_OF_RANGE: retention dropped offset 0
                    continue
                if err:
                    fail("Fetch v11 %s-%d offset %d: error code %d" % (a.topic, p, offset, err))
                if first:
                    rows.append({"partition": p, "log_start": log_start, "hw": hw})
                    first = False
                before = len(rows)
                parse_batches(records, p, rows)
                if len(rows) == before:
                    break
                offset = rows[-1]["last_offset"] + 1
                if offset >= hw:
                    break
    if a.out:
        write_jsonl(a.out, rows)
    else:
        for r in rows:
            print(json.dumps(r))


def cmd_batch_check(a):
    rows = read_jsonl(a.batches)
    if a.partition is not None:
        rows = [r for r in rows if r.get("partition", r.get("p")) == a.partition]
    parts = {r["partition"]: r for r in rows if "partition" in r}
    batches = [r for r in rows if "base_offset" in r]
    errors = []
    next_seq = {}
    held = {}
    if not batches:
        errors.append("no batches stored")
    next_offset = {p: info["log_start"] for p, info in parts.items()}
    for b in batches:
        where = "partition %d batch at offset %d" % (b["p"], b["base_offset"])
        held[b["p"]] = held.get(b["p"], 0) + b["bytes"]
        if b["base_offset"] != next_offset.get(b["p"], b["base_offset"]):
            errors.append("%s: the previous batch ended at %d" % (where, next_offset[b["p"]] - 1))
        if b["last_offset"] - b["base_offset"] + 1 != b["count"]:
            errors.append("%s: %d records over offsets %d-%d"
                          % (where, b["count"], b["base_offset"], b["last_offset"]))
        next_offset[b["p"]] = b["last_offset"] + 1
        if b["magic"] != 2:
            errors.append("%s: magic %d" % (where, b["magic"]))
        if not b["crc_ok"]:
            errors.append("%s: CRC-32C does not match" % where)
        if a.codec and b["codec"] != a.codec:
            errors.append("%s: codec %s, the producer was asked for %s"
                          % (where, b["codec"], a.codec))
        if a.idempotent:
            if b["producer_id"] < 0:
                errors.append("%s: no producer id" % where)
            want = next_seq.get((b["p"], b["producer_id"]), 0)
            if b["base_sequence"] != want:
                errors.append("%s: base sequence %d, expected %d"
                              % (where, b["base_sequence"], want))
            next_seq[(b["p"], b["producer_id"])] = b["base_sequence"] + b["count"]
        if a.not_idempotent and b["producer_id"] != -1:
            errors.append("%s: producer id %d from a producer that is not idempotent"
                          % (where, b["producer_id"]))
    for p, info in parts.items():
        if a.max_bytes is not None:
            newest = max((b["bytes"] for b in batches if b["p"] == p), default=0)
            if held.get(p, 0) > a.max_bytes + newest:
                errors.append("partition %d holds %d bytes, retention is %d"
                              % (p, held.get(p, 0), a.max_bytes))
        if a.min_log_start is not None and info["log_start"] < a.min_log_start:
            errors.append("partition %d: log start %d, expected at least %d"
                          % (p, info["log_start"], a.min_log_start))
    if a.idempotent and len({b["producer_id"] for b in batches}) != 1:
        errors.append("producer ids %s: one producer should have one id"
                      % sorted({b["producer_id"] for b in batches}))
    if errors:
        fail(*errors[:10])
    print("%d batches, producer ids %s, codecs %s" % (
        len(batches), sorted({b["producer_id"] for b in batches}),
        sorted({b["codec"] for b in batches})))


# --- kafka-python 2.0.2 ---------------------------------------------------------------------

def api_version(a):
    # A pinned version skips the probe; (0, 9) means magic 0 message sets, (0, 10, 1) magic 1.
    return tuple(int(x) for x in a.api_version.split(".")) if a.api_version else None


def cmd_kafka_python_produce(a):
    from kafka import KafkaProducer
    acks = a.acks if a.acks == "all" else int(a.acks)
    prod = KafkaProducer(bootstrap_servers=a.bootstrap, acks=acks, linger_ms=5,
                         compression_type=a.compression, api_version=api_version(a),
                         request_timeout_ms=10000, api_version_auto_timeout_ms=10000,
                         max_block_ms=10000)
    recs = make_records(a.n, a.tag, a.pad, a.start)
    futures = [prod.send(a.topic, key=k.encode(), value=v.encode()) for k, v in recs]
    prod.flush(timeout=20)
    rows, errors = [], []
    for (k, v), f in zip(recs, futures):
        try:
            md = f.get(timeout=10)
            rows.append({"k": k, "v": v, "p": md.partition, "o": md.offset})
        except Exception as e:      # the reason is what the test prints
            errors.append("send %s: %r" % (k, e))
    prod.close(timeout=10)
    write_jsonl(a.out, rows)
    if errors:
        fail("%d of %d sends failed" % (len(errors), len(recs)), *errors[:5])


def cmd_kafka_python_consume(a):
    from kafka import KafkaConsumer, TopicPartition
    cons = KafkaConsumer(bootstrap_servers=a.bootstrap, group_id=None, enable_auto_commit=False,
                         api_version=api_version(a),
                         auto_offset_reset="earliest", consumer_timeout_ms=a.idle_ms,
                         api_version_auto_timeout_ms=10000, request_timeout_ms=15000)
    tps = [TopicPartition(a.topic, p) for p in range(a.partitions)]
    cons.assign(tps)
    cons.seek_to_beginning()
    rows = []
    for m in cons:
        rows.append({"k": text(m.key), "v": text(m.value), "p": m.partition, "o": m.offset})
        if len(rows) >= a.expect:
            break
    ends = cons.end_offsets(tps)
    cons.close()
    rows.append({"end": {str(tp.partition): o for tp, o in ends.items()}})
    write_jsonl(a.out, rows)


# --- confluent-kafka-python 1.7.0 (librdkafka) ------------------------------------------------

def cmd_confluent_produce(a):
    from confluent_kafka import Producer
    conf = {"bootstrap.servers": a.bootstrap, "linger.ms": 5, "message.timeout.ms": 20000,
            "compression.type": a.compression, "enable.idempotence": a.idempotent,
            "batch.num.messages": a.batch}
    prod = Producer(conf)
    recs = make_records(a.n, a.tag, a.pad, a.start)
    rows = [None] * len(recs)
    errors = []

    def report(i):
        def cb(err, msg):
            if err is not None:
                errors.append("record %d: %s" % (i, err))
            else:
                k, v = recs[i]
                rows[i] = {"k": k, "v": v, "p": msg.partition(), "o": msg.offset()}
        return cb

    for i, (k, v) in enumerate(recs):
        prod.produce(a.topic, key=k.encode(), value=v.encode(), on_delivery=report(i))
        prod.poll(0)
    left = prod.flush(25)
    write_jsonl(a.out, [r for r in rows if r is not None])
    if left or errors or None in rows:
        fail("%d undelivered, %d delivery errors" % (left, len(errors)), *errors[:5])


def cmd_confluent_consume(a):
    from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, TopicPartition
    # librdkafka wants a group.id for any consumer; assign() never joins the group and with
    # auto commit off nothing is committed to it.
    cons = Consumer({"bootstrap.servers": a.bootstrap, "group.id": "kwire-interop",
                     "enable.auto.commit": False, "enable.partition.eof": True,
                     "auto.offset.reset": "earliest"})
    cons.assign([TopicPartition(a.topic, p, OFFSET_BEGINNING) for p in range(a.partitions)])
    rows, at_eof = [], set()
    deadline = time.monotonic() + a.idle_ms / 1000.0
    while len(at_eof) < a.partitions and time.monotonic() < deadline:
        m = cons.poll(0.5)
        if m is None:
            continue
        if m.error():
            if m.error().code() == KafkaError._PARTITION_EOF:
                at_eof.add(m.partition())
                continue
            cons.close()
            fail("consumer error: %s" % m.error())
        at_eof.discard(m.partition())
        rows.append({"k": text(m.key()), "v": text(m.value()), "p": m.partition(),
                     "o": m.offset()})
    ends = {str(p): cons.get_watermark_offsets(TopicPartition(a.topic, p), timeout=10)[1]
            for p in range(a.partitions)}
    cons.close()
    rows.append({"end": ends})
    write_jsonl(a.out, rows)
    if len(at_eof) < a.partitions:
        fail("reached the end of partitions %s only, in %d ms" % (sorted(at_eof), a.idle_ms))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)

    s = sub.add_parser("gen")
    s.add_argument("n", type=int)
    s.add_argument("tag")
    s.add_argument("--pad", type=int, default=0)
    s.add_argument("--jsonl", help="also write the records as JSON lines here")

    s = sub.add_parser("verify")
    s.add_argument("--sent", required=True)
    s.add_argument("--got", required=True)
    s.add_argument("--partitions", type=int, required=True)
    s.add_argument("--partitioner", choices=sorted(PARTITIONERS))
    s.add_argument("--tail", action="store_true",
                   help="each partition was cut by retention: expect the sent records from the "
                        "first offset read on")

    s = sub.add_parser("batches")
    s.add_argument("--bootstrap", required=True)
    s.add_argument("--topic", required=True)
    s.add_argument("--partitions", type=int, required=True)
    s.add_argument("--out")

    s = sub.add_parser("batch-check")
    s.add_argument("--batches", required=True)
    s.add_argument("--codec", choices=sorted(CODECS.values()))
    s.add_argument("--idempotent", action="store_true")
    s.add_argument("--not-idempotent", action="store_true")
    s.add_argument("--max-bytes", type=int)
    s.add_argument("--min-log-start", type=int)
    s.add_argument("--partition", type=int, help="check this partition only")

    for name in ("kafka-python-produce", "confluent-produce"):
        s = sub.add_parser(name)
        s.add_argument("--bootstrap", required=True)
        s.add_argument("--topic", required=True)
        s.add_argument("--n", type=int, required=True)
        s.add_argument("--tag", default="v")
        s.add_argument("--pad", type=int, default=0)
        s.add_argument("--start", type=int, default=0, help="first record number")
        s.add_argument("--out", required=True)
        if name == "kafka-python-produce":
            s.add_argument("--acks", choices=["0", "1", "all"], default="1")
            s.add_argument("--compression", choices=["gzip"])
            s.add_argument("--api-version", help="e.g. 0.10.1 (default: ask the broker)")
        else:
            s.add_argument("--compression", default="none")
            s.add_argument("--idempotent", action="store_true")
            s.add_argument("--batch", type=int, default=10000,
                           help="batch.num.messages: small batches put several in flight")
    for name in ("kafka-python-consume", "confluent-consume"):
        s = sub.add_parser(name)
        s.add_argument("--bootstrap", required=True)
        s.add_argument("--topic", required=True)
        s.add_argument("--partitions", type=int, required=True)
        s.add_argument("--expect", type=int, default=0)
        s.add_argument("--idle-ms", type=int, default=10000)
        if name == "kafka-python-consume":
            s.add_argument("--api-version", help="e.g. 0.10.1 (default: ask the broker)")
        s.add_argument("--out", required=True)

    a = ap.parse_args()
    if a.cmd == "gen":
        recs = make_records(a.n, a.tag, a.pad)
        for k, v in recs:
            print("%s:%s" % (k, v))
        if a.jsonl:
            write_jsonl(a.jsonl, [{"k": k, "v": v, "p": None, "o": None} for k, v in recs])
        return
    {"verify": cmd_verify, "batches": cmd_batches, "batch-check": cmd_batch_check,
     "kafka-python-produce": cmd_kafka_python_produce,
     "kafka-python-consume": cmd_kafka_python_consume,
     "confluent-produce": cmd_confluent_produce,
     "confluent-consume": cmd_confluent_consume}[a.cmd](a)


if __name__ == "__main__":
    main()
