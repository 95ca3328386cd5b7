#!/usr/bin/env python3
"""Writes one captured request frame as a fixtures/frames/*.hex file: '# ' comment lines saying
what it is, then the frame as hex, one field per line with a trailing '# field' comment (long
fields continue 16 bytes per line). Only the comments are ours; the bytes are the client's.

usage: tohex.py FRAME.bin OUT.hex --client TEXT --command TEXT --what TEXT [--date YYYY-MM-DD]
The frame is read as the client sent it, without the 4-byte size prefix. Fields are named as in
Kafka's message definitions; a frame this script cannot follow is an error, not a guess.
Python 3 standard library only.
"""
import argparse
import datetime
import struct
import sys
import zlib

API_NAMES = {0: "Produce", 3: "Metadata", 18: "ApiVersions", 22: "InitProducerId"}
FLEX_FROM = {0: 9, 3: 9, 18: 3, 22: 2}          # first flexible version, as in lib/proto/apis.h
CODECS = ["none", "gzip", "snappy", "lz4", "zstd"]


def flag(v):
    return "true" if v else "false"


def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


class Annotator:
    """Walks a frame field by field, keeping (byte parts, comment) rows for the output."""

    def __init__(self, data):
        self.d, self.i, self.rows = data, 0, []

    def take(self, n):
        if n < 0 or self.i + n > len(self.d):
            raise ValueError(f"frame ends at {len(self.d)}, field wants {self.i}+{n}")
        self.i += n
        return self.d[self.i - n:self.i]

    def row(self, parts, comment):
        self.rows.append((parts, comment))

    def fixed(self, n, fmt, name, show=None):
        raw = self.take(n)
        v = struct.unpack(fmt, raw)[0]
        self.row([raw], f"{name} {show(v) if show else v}")
        return v

    def i8(self, name, show=None):
        return self.fixed(1, ">b", name, show)

    def i16(self, name, show=None):
        return self.fixed(2, ">h", name, show)

    def i32(self, name, show=None):
        return self.fixed(4, ">i", name, show)

    def u32(self, name, show=None):
        return self.fixed(4, ">I", name, show)

    def i64(self, name, show=None):
        return self.fixed(8, ">q", name, show)

    def _uvarint(self):
        start, v, shift = self.i, 0, 0
        while True:
            c = self.take(1)[0]
            v |= (c & 0x7F) << shift
            shift += 7
            if not c & 0x80:
                return v, self.d[start:self.i]
            if shift > 63:
                raise ValueError("varint too long")

    def _varint(self):
        v, raw = self._uvarint()
        return (v >> 1) ^ -(v & 1), raw

    def uvarint(self, name):
        v, raw = self._uvarint()
        self.row([raw], f"{name} {v}")
        return v

    def length(self, flex, classic_fmt, classic_size):
        if flex:
            v, raw = self._uvarint()
            return v - 1, raw
        raw = self.take(classic_size)
        return struct.unpack(classic_fmt, raw)[0], raw

    def string(self, name, flex, classic=False):
        n, raw = self.length(flex and not classic, ">h", 2)
        if n < 0:
            self.row([raw], f"{name} null")
            return None
        s = self.take(n)
        form = "compact " if flex and not classic else ""
        self.row([raw, s], f"{name} {form}\"{s.decode('utf-8', 'replace')}\"")
        return s.decode("utf-8", "replace")

    def count(self, name, flex):
        n, raw = self.length(flex, ">i", 4)
        self.row([raw], f"{name}: {'null' if n < 0 else f'{n} item' + ('s' if n != 1 else '')}")
        return n

    def tags(self, flex, what="tagged fields"):
        if not flex:
            return
        n, raw = self._uvarint()
        parts = [raw]
        for _ in range(n):
            parts.append(self._uvarint()[1])
            size, raw = self._uvarint()
            parts += [raw, self.take(size)]
        self.row(parts, f"{what}: {n}")

    def blob(self, name, n):
        self.row([self.take(n)], f"{name} ({n} bytes)")

    # --- request bodies ----------------------------------------------------------------------

    def header(self):
        key = self.i16("RequestApiKey", lambda k: f"{k} ({API_NAMES.get(k, '?')})")
        version = self.i16("RequestApiVersion")
        self.i32("CorrelationId")
        self.string("ClientId", False)
        flex = key in FLEX_FROM and version >= FLEX_FROM[key]
        self.tags(flex, "header tagged fields")
        return key, version, flex

    def api_versions(self, v, flex):
        if v >= 3:
            self.string("ClientSoftwareName", flex)
            self.string("ClientSoftwareVersion", flex)
        self.tags(flex)

    def metadata(self, v, flex):
        n = self.count("Topics", flex)
        for _ in range(max(n, 0)):
            if v >= 10:
                self.blob("TopicId", 16)
            self.string("  Name", flex)
            self.tags(flex, "  topic tagged fields")
        if v >= 4:
            self.i8("AllowAutoTopicCreation", flag)
        if 8 <= v <= 10:
            self.i8("IncludeClusterAuthorizedOperations", flag)
        if v >= 8:
            self.i8("IncludeTopicAuthorizedOperations", flag)
        self.tags(flex)

    def init_producer_id(self, v, flex):
        self.string("TransactionalId", flex)
        self.i32("TransactionTimeoutMs")
        if v >= 3:
            self.i64("ProducerId")
            self.i16("ProducerEpoch")
        self.tags(flex)

    def produce(self, v, flex):
        if v >= 3:
            self.string("TransactionalId", flex)
        self.i16("Acks")
        self.i32("TimeoutMs")
        for _ in range(max(self.count("TopicData", flex), 0)):
            self.string("  Name", flex)
            for _ in range(max(self.count("  PartitionData", flex), 0)):
                self.i32("    Index")
                n, raw = self.length(flex, ">i", 4)
                self.row([raw], f"    Records: {'null' if n < 0 else f'{n} bytes'}")
                if n > 0:
                    self.records(n)
                self.tags(flex, "    partition tagged fields")
            self.tags(flex, "  topic tagged fields")
        self.tags(flex)

    # --- record batches and legacy message sets ----------------------------------------------

    def records(self, n):
        end = self.i + n
        while self.i < end:
            if end - self.i < 17:
                self.blob("trailing partial batch", end - self.i)
                break
            magic = self.d[self.i + 16]
            if magic == 2:
                self.batch()
            else:
                self.message(magic, "      ")

    def batch(self):
        start = self.i
        size = 12 + struct.unpack(">i", self.d[start + 8:start + 12])[0]
        body = self.d[start + 21:start + size]
        self.i64("      baseOffset")
        self.i32("      batchLength")
        self.i32("      partitionLeaderEpoch")
        self.i8("      magic")
        ok = "ok" if crc32c(body) == struct.unpack(">I", self.d[start + 17:start + 21])[0] \
            else "MISMATCH"
        self.u32("      crc", lambda c: f"0x{c:08x} (CRC-32C of attributes..end: {ok})")
        attrs = self.i16("      attributes", lambda a: f"0x{a:04x} (codec {CODECS[a & 7]}"
                         + (", transactional" if a & 0x10 else "") + ")"
                         if (a & 7) < len(CODECS) else f"0x{a:04x}")
        self.i32("      lastOffsetDelta")
        self.i64("      baseTimestamp")
        self.i64("      maxTimestamp")
        self.i64("      producerId")
        self.i16("      producerEpoch")
        self.i32("      baseSequence")
        count = self.i32("      recordsCount")
        if attrs & 7:
            self.blob(f"      records, {CODECS[attrs & 7]}-compressed", start + size - self.i)
            return
        for k in range(count):
            self.record(k)
        if self.i != start + size:
            raise ValueError("records do not fill the batch")

    def record(self, k):
        p = "        "
        length, raw = self._varint()
        end = self.i + length
        parts = [raw, self.take(1)]
        ts, tsraw = self._varint()
        off, offraw = self._varint()
        parts += [tsraw, offraw]
        self.row(parts, f"      record {k}: length {length}, attributes, "
                        f"timestampDelta {ts}, offsetDelta {off}")
        for name in ("key", "value"):
            n, raw = self._varint()
            if n < 0:
                self.row([raw], f"{p}{name} null")
            else:
                data = self.take(n)
                text = data.decode("ascii", "replace") if all(32 <= c < 127 for c in data) \
                    else None
                shown = f"\"{text}\"" if text is not None and n <= 40 else f"{n} bytes"
                self.row([raw, data], f"{p}{name} {shown}")
        nh, raw = self._varint()
        parts = [raw]
        for _ in range(max(nh, 0)):
            hk, raw = self._varint()
            parts += [raw, self.take(hk)]
            hv, raw = self._varint()
            parts += [raw, self.take(max(hv, 0))]
        self.row(parts, f"{p}headers: {nh}")
        if self.i != end:
            raise ValueError(f"record {k} length disagrees with its fields")

    def message(self, magic, p):
        self.i64(f"{p}offset")
        size = self.i32(f"{p}messageSize")
        start = self.i + 4
        crc = struct.unpack(">I", self.d[self.i:self.i + 4])[0]
        ok = "ok" if zlib.crc32(self.d[start:start + size - 4]) == crc else "MISMATCH"
        self.u32(f"{p}crc", lambda c: f"0x{c:08x} (CRC-32 of magic..end: {ok})")
        self.i8(f"{p}magic")
        attrs = self.i8(f"{p}attributes")
        if magic >= 1:
            self.i64(f"{p}timestamp")
        for name in ("key", "value"):
            n = struct.unpack(">i", self.d[self.i:self.i + 4])[0]
            raw = self.take(4)
            if n < 0:
                self.row([raw], f"{p}{name} null")
            else:
                data = self.take(n)
                text = data.decode("ascii", "replace") if all(32 <= c < 127 for c in data) \
                    else None
                label = f"\"{text}\"" if text is not None and n <= 40 else f"{n} bytes"
                if attrs & 7 and name == "value":
                    label = f"{n} bytes, {CODECS[attrs & 7]}-compressed inner message set"
                self.row([raw, data], f"{p}{name} {label}")


def render(rows):
    """Hex lines with comments in a column; a row longer than 16 bytes wraps 16 to a line."""
    col = 40
    out = []
    for parts, comment in rows:
        lines, cur, used = [], [], 0
        for part in parts:
            for k in range(0, len(part), 16):
                chunk = part[k:k + 16]
                if cur and used + len(chunk) > 16:
                    lines.append(" ".join(cur))
                    cur, used = [], 0
                cur.append(chunk.hex())
                used += len(chunk)
        if cur:
            lines.append(" ".join(cur))
        first = lines[0] if lines else ""
        out.append(f"{first:<{col}}# {comment}" if len(first) < col else f"{first}  # {comment}")
        out.extend(lines[1:])
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("frame")
    ap.add_argument("out")
    ap.add_argument("--client", required=True)
    ap.add_argument("--command", required=True)
    ap.add_argument("--what", required=True)
    ap.add_argument("--date", default=datetime.date.today().isoformat())
    args = ap.parse_args()

    with open(args.frame, "rb") as f:
        data = f.read()
    a = Annotator(data)
    key, version, flex = a.header()
    body = {18: a.api_versions, 3: a.metadata, 22: a.init_producer_id, 0: a.produce}.get(key)
    if body is None:
        sys.exit(f"tohex: no annotation for API key {key}")
    body(version, flex)
    if a.i != len(data):
        sys.exit(f"tohex: {len(data) - a.i} bytes left after the {API_NAMES[key]} body")

    head = [
        args.what,
        f"Client: {args.client}",
        f"Command: {args.command}",
        f"{API_NAMES[key]} v{version} request, request header v{2 if flex else 1}, "
        f"{len(data)} bytes without the size prefix.",
        f"Captured {args.date} on 127.0.0.1 against tests/capture/responder.py.",
        "Regenerate with tests/capture/capture.sh; the bytes are the client's, the comments ours.",
    ]
    with open(args.out, "w") as f:
        f.write("".join(f"# {line}\n" for line in head))
        f.write(render(a.rows))


if __name__ == "__main__":
    main()
