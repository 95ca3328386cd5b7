#!/usr/bin/env python3
"""Loopback capture responder: just enough of a Kafka broker for real clients to send the
requests we want as golden frames. It is not a broker: one node, every topic has one partition
led by that node, every produce succeeds, and nothing is stored.

It advertises exactly the ranges of lib/proto/apis.h (read at start, so the two cannot drift),
answers ApiVersions, Metadata, InitProducerId and Produce at any version in those ranges, and
writes every request frame it receives (without the 4-byte size prefix) to OUT_DIR as
NNNN-cC-<api>-vV.bin, one line per frame in OUT_DIR/frames.tsv. Other requests are recorded and
left unanswered.

usage: responder.py OUT_DIR [--port N] [--deadline SECONDS]
Binds 127.0.0.1 only; port 0 (the default) takes an ephemeral port, written to OUT_DIR/port
once the socket listens. Exits by itself after the deadline (default 60 s).
Python 3 standard library only.
"""
import argparse
import os
import re
import selectors
import socket
import struct
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
APIS_H = os.path.join(HERE, "..", "..", "lib", "proto", "apis.h")

API_VERSIONS, METADATA, PRODUCE, INIT_PRODUCER_ID = 18, 3, 0, 22
UNSUPPORTED_VERSION = 35


def load_apis(path):
    """{key: (name, min, max, flex_from)} from the KW_APIS X-macro table."""
    apis = {}
    pat = re.compile(r"X\(\s*(\d+),\s*\w+,\s*(\w+),\s*(\d+),\s*(\d+),\s*(\d+)\)")
    with open(path) as f:
        for m in pat.finditer(f.read()):
            key, name, lo, hi, flex = m.groups()
            apis[int(key)] = (name, int(lo), int(hi), int(flex))
    if API_VERSIONS not in apis:
        sys.exit(f"responder: no KW_APIS table found in {path}")
    return apis


class Short(Exception):
    pass


class Reader:
    """Big-endian cursor; flex selects the compact (KIP-482) forms."""

    def __init__(self, data, flex=False):
        self.d, self.i, self.flex = data, 0, flex

    def take(self, n):
        if n < 0 or self.i + n > len(self.d):
            raise Short()
        self.i += n
        return self.d[self.i - n:self.i]

    def i16(self):
        return struct.unpack(">h", self.take(2))[0]

    def i32(self):
        return struct.unpack(">i", self.take(4))[0]

    def uvarint(self):
        v = shift = 0
        while True:
            c = self.take(1)[0]
            v |= (c & 0x7F) << shift
            shift += 7
            if not c & 0x80:
                return v
            if shift > 28:
                raise Short()

    def length(self, classic):
        return self.uvarint() - 1 if self.flex else classic()

    def string(self):
        n = self.length(self.i16)
        return None if n < 0 else self.take(n).decode("utf-8", "replace")

    def blob(self):
        n = self.length(self.i32)
        return None if n < 0 else self.take(n)

    def count(self):
        return self.length(self.i32)

    def tags(self):
        if self.flex:
            for _ in range(self.uvarint()):
                self.uvarint()
                self.take(self.uvarint())


class Writer:
    def __init__(self, flex=False):
        self.parts, self.flex = [], flex

    def raw(self, b):
        self.parts.append(b)
        return self

    def i8(self, v):
        return self.raw(struct.pack(">b", v))

    def i16(self, v):
        return self.raw(struct.pack(">h", v))

    def i32(self, v):
        return self.raw(struct.pack(">i", v))

    def i64(self, v):
        return self.raw(struct.pack(">q", v))

    def uvarint(self, v):
        out = bytearray()
        while v >= 0x80:
            out.append((v & 0x7F) | 0x80)
            v >>= 7
        out.append(v)
        return self.raw(bytes(out))

    def length(self, n, classic):
        return self.uvarint(n + 1) if self.flex else classic(n)

    def string(self, s):
        if s is None:
            return self.length(-1, self.i16)
        b = s.encode()
        return self.length(len(b), self.i16).raw(b)

    def count(self, n):
        return self.length(n, self.i32)

    def tags(self):
        return self.uvarint(0) if self.flex else self

    def bytes(self):
        return b"".join(self.parts)


class Responder:
    def __init__(self, out_dir, apis):
        self.out, self.apis = out_dir, apis
        self.port = 0
        self.seq = 0
        self.topics = []            # every topic named so far, for "all topics" requests
        self.offsets = {}           # (topic, partition) -> next offset
        self.index = open(os.path.join(out_dir, "frames.tsv"), "a", buffering=1)

    def flexible(self, key, version):
        return key in self.apis and version >= self.apis[key][3]

    def supported(self, key, version):
        return key in self.apis and self.apis[key][1] <= version <= self.apis[key][2]

    def record(self, conn_no, frame):
        key, version, corr = struct.unpack(">hhi", frame[:8])
        self.seq += 1
        name = self.apis[key][0] if key in self.apis else f"key{key}"
        path = os.path.join(self.out, f"{self.seq:04d}-c{conn_no}-{name}-v{version}.bin")
        with open(path, "wb") as f:
            f.write(frame)
        self.index.write(f"{self.seq}\t{conn_no}\t{key}\t{version}\t{corr}\t{len(frame)}"
                         f"\t{os.path.basename(path)}\n")

    def handle(self, frame):
        """The response frame (size prefix included) for one request, or None."""
        key, version, corr = struct.unpack(">hhi", frame[:8])
        flex = self.flexible(key, version)
        r = Reader(frame, False)
        r.i = 8
        r.string()                  # ClientId: classic int16 string in every header version
        r.flex = flex
        r.tags()
        if key == API_VERSIONS:
            body, flex = self.api_versions(version)
            head = struct.pack(">i", corr)      # always response header v0 (KIP-511)
        else:
            if not self.supported(key, version):
                return None
            handler = {METADATA: self.metadata, PRODUCE: self.produce,
                       INIT_PRODUCER_ID: self.init_producer_id}.get(key)
            if handler is None:
                return None
            body = handler(version, r, Writer(flex))
            if body is None:
                return None
            head = struct.pack(">i", corr) + (b"\x00" if flex else b"")
        msg = head + body
        return struct.pack(">i", len(msg)) + msg

    def api_versions(self, version):
        lo, hi = self.apis[API_VERSIONS][1:3]
        if version > hi:
            # What a Java broker does: the body is not read and the answer is v0, holding
            # only ApiVersions' own range, so the client can retry at a version we speak.
            w = Writer(False).i16(UNSUPPORTED_VERSION).count(1).i16(API_VERSIONS).i16(lo).i16(hi)
            return w.bytes(), False
        w = Writer(self.flexible(API_VERSIONS, version)).i16(0).count(len(self.apis))
        for key in sorted(self.apis):
            w.i16(key).i16(self.apis[key][1]).i16(self.apis[key][2]).tags()
        if version >= 1:
            w.i32(0)
        return w.tags().bytes(), w.flex

    def metadata(self, v, r, w):
        n = r.count()
        requested = None
        if n >= 0:
            requested = []
            for _ in range(n):
                if v >= 10:
                    r.take(16)      # TopicId
                requested.append(r.string())
                r.tags()
        for t in requested or []:
            if t is not None and t not in self.topics:
                self.topics.append(t)
        # v0 has no null: its empty list means every topic, as null does from v1 on.
        topics = self.topics if requested is None or (v == 0 and not requested) else requested
        if v >= 3:
            w.i32(0)                                    # ThrottleTimeMs
        w.count(1).i32(0).string("127.0.0.1").i32(self.port)
        if v >= 1:
            w.string(None)                              # Rack
        w.tags()
        if v >= 2:
            w.string("golden-capture")                  # ClusterId
        if v >= 1:
            w.i32(0)                                    # ControllerId
        w.count(len(topics))
        for t in topics:
            w.i16(0).string(t)
            if v >= 10:
                w.raw(bytes(16))                        # TopicId: none
            if v >= 1:
                w.i8(0)                                 # IsInternal
            w.count(1).i16(0).i32(0).i32(0)             # partition 0, leader 0
            if v >= 7:
                w.i32(0)                                # LeaderEpoch
            w.count(1).i32(0).count(1).i32(0)           # replicas, ISR
            if v >= 5:
                w.count(0)                              # OfflineReplicas
            w.tags()
            if v >= 8:
                w.i32(-2147483648)                      # TopicAuthorizedOperations
            w.tags()
        if 8 <= v <= 10:
            w.i32(-2147483648)                          # ClusterAuthorizedOperations
        return w.tags().bytes()

    def init_producer_id(self, v, r, w):
        return w.i32(0).i16(0).i64(1000).i16(0).tags().bytes()

    @staticmethod
    def record_count(records):
        if records is None:
            return 0
        if len(records) >= 61 and records[16] == 2:
            return struct.unpack(">i", records[57:61])[0]
        return 1

    def produce(self, v, r, w):
        if v >= 3:
            r.string()                                  # TransactionalId
        acks = r.i16()
        r.i32()                                         # TimeoutMs
        topics = []
        for _ in range(r.count()):
            name = r.string()
            parts = []
            for _ in range(r.count()):
                index = r.i32()
                parts.append((index, r.blob()))
                r.tags()
            r.tags()
            topics.append((name, parts))
        if acks == 0:
            return None
        w.count(len(topics))
        for name, parts in topics:
            w.string(name).count(len(parts))
            for index, records in parts:
                base = self.offsets.get((name, index), 0)
                self.offsets[(name, index)] = base + self.record_count(records)
                w.i32(index).i16(0).i64(base)
                if v >= 2:
                    w.i64(-1)                           # LogAppendTimeMs
                if v >= 5:
                    w.i64(0)                            # LogStartOffset
                if v >= 8:
                    w.count(0).string(None)             # RecordErrors, ErrorMessage
                w.tags()
            w.tags()
        if v >= 1:
            w.i32(0)                                    # ThrottleTimeMs
        return w.tags().bytes()


def serve(resp, deadline):
    sel = selectors.DefaultSelector()
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", resp.port))
    srv.listen(16)
    srv.setblocking(False)
    resp.port = srv.getsockname()[1]
    sel.register(srv, selectors.EVENT_READ, None)
    tmp = os.path.join(resp.out, "port.tmp")
    with open(tmp, "w") as f:
        f.write(f"{resp.port}\n")
    os.rename(tmp, os.path.join(resp.out, "port"))     # appears whole, once we listen
    print(f"responder: 127.0.0.1:{resp.port}, frames to {resp.out}", flush=True)

    conns, n_conns = {}, 0
    while time.monotonic() < deadline:
        for key, _ in sel.select(0.2):
            if key.data is None:
                c, _ = srv.accept()
                c.setblocking(True)
                n_conns += 1
                conns[c] = [n_conns, b""]
                sel.register(c, selectors.EVENT_READ, n_conns)
                continue
            c = key.fileobj
            state = conns[c]
            try:
                data = c.recv(1 << 20)
            except OSError:
                data = b""
            if not data:
                sel.unregister(c)
                c.close()
                del conns[c]
                continue
            state[1] += data
            # Clients pipeline (kafka-python sends ApiVersions and Metadata back to back):
            # answer every whole frame buffered, in order.
            while len(state[1]) >= 4:
                size = struct.unpack(">i", state[1][:4])[0]
                if size < 8 or size > 100 << 20:
                    print(f"responder: conn {state[0]}: bad frame size {size}", flush=True)
                    state[1] = b""
                    sel.unregister(c)
                    c.close()
                    del conns[c]
                    break
                if len(state[1]) < 4 + size:
                    break
                frame, state[1] = state[1][4:4 + size], state[1][4 + size:]
                resp.record(state[0], frame)
                try:
                    out = resp.handle(frame)
                except Short:
                    print(f"responder: conn {state[0]}: request too short to parse", flush=True)
                    out = None
                if out is not None:
                    c.sendall(out)
    for c in list(conns):
        c.close()
    srv.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out_dir")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--deadline", type=float, default=60.0)
    args = ap.parse_args()
    os.makedirs(args.out_dir, exist_ok=True)
    resp = Responder(args.out_dir, load_apis(APIS_H))
    resp.port = args.port
    serve(resp, time.monotonic() + args.deadline)


if __name__ == "__main__":
    main()
