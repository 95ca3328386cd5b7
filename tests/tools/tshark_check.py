#!/usr/bin/env python3
"""Cross-checks our encoder against Wireshark's Kafka dissector.

Reads the frames written by genframes (one per line: req|resp KEY VERSION NAME CORRELATION_ID
HEX, size prefix included), lays them out as one TCP conversation (client 127.0.0.1:40000,
broker 127.0.0.1:9092, each request followed by its response) in a classic libpcap file, runs
tshark over it and fails if tshark calls any packet malformed, raises an expert error, or
decodes a frame as something other than what we wrote.

usage: tshark_check.py FRAMES WORKDIR [TSHARK]
Exit status 0 if every frame passed, 1 otherwise.
"""

import struct
import subprocess
import sys

CLIENT = (bytes([127, 0, 0, 1]), 40000)
SERVER = (bytes([127, 0, 0, 1]), 9092)
MSS = 1448                      # bytes of TCP payload per packet, as on a typical Ethernet path
TSHARK_SECONDS = 120

# Where tshark 4.0's dissector, not our encoding, is wrong: (key, version, direction, label) ->
# the reason. Only "malformed" and expert errors are forgiven there; tshark must still read the
# key, version and correlation id we wrote. Anything not listed is our bug until shown not.
TSHARK_BUGS = {}
for _v in range(0, 6):
    TSHARK_BUGS[(19, _v, "req", "CreateTopics")] = (
        "tshark reads a replica assignment's PartitionIndex again as the BrokerIds count; "
        "CreateTopics/unassigned checks the rest")
for _v in (1, 2):
    TSHARK_BUGS[(20, _v, "resp", "DeleteTopics")] = (
        "tshark reads ThrottleTimeMs from v3 on; Kafka's DeleteTopicsResponse has it from v1")

# The consumer-group APIs carry the consumer protocol's subscription and assignment as opaque
# bytes. Before their flexible versions tshark 4.0 shows such a field as <MISSING> without
# stepping over it, and reads what follows from the bytes' length prefix. Real clients decode
# these same frames (tests/scripts/consumers.sh), and the flexible versions pass.
for _key, _name, _d, _field, _flex in (
        (11, "JoinGroup", "req", "a protocol's Metadata", 6),
        (11, "JoinGroup", "resp", "a member's Metadata", 6),
        (14, "SyncGroup", "req", "a member's Assignment", 4),
        (14, "SyncGroup", "resp", "the Assignment", 4),
        (15, "DescribeGroups", "resp", "a member's MemberMetadata", 5)):
    for _v in range(0, _flex):
        TSHARK_BUGS[(_key, _v, _d, _name)] = (
            "tshark shows %s as <MISSING> without stepping over it, before v%d" % (_field, _flex))


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


class Pcap:
    """Classic libpcap (magic a1b2c3d4, v2.4), Ethernet link type."""

    def __init__(self, path):
        self.f = open(path, "wb")
        self.f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        self.usec = 0
        self.count = 0
        self.ip_id = 1

    def tcp(self, src, dst, seq, ack, flags, payload=b""):
        sport, dport = src[1], dst[1]
        tcp = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF,
                          5 << 4, flags, 65535, 0, 0)
        pseudo = src[0] + dst[0] + struct.pack("!BBH", 0, 6, len(tcp) + len(payload))
        csum = checksum(pseudo + tcp + payload)
        tcp = tcp[:16] + struct.pack("!H", csum) + tcp[18:]
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp) + len(payload), self.ip_id,
                         0x4000, 64, 6, 0, src[0], dst[0])
        ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
        self.ip_id = (self.ip_id + 1) & 0xFFFF
        eth = bytes.fromhex("020000000002" "020000000001" "0800")
        pkt = eth + ip + tcp + payload
        self.usec += 1000
        self.f.write(struct.pack("<IIII", self.usec // 1000000, self.usec % 1000000,
                                 len(pkt), len(pkt)))
        self.f.write(pkt)
        self.count += 1
        return self.count

    def close(self):
        self.f.close()


SYN, ACK, PSH, FIN = 0x02, 0x10, 0x08, 0x01


def write_pcap(frames, path):
    """Returns, per frame, the pcap packet number of its last segment: where tshark reports
    the reassembled Kafka PDU."""
    p = Pcap(path)
    cseq, sseq = 1000, 5000
    p.tcp(CLIENT, SERVER, cseq, 0, SYN)
    p.tcp(SERVER, CLIENT, sseq, cseq + 1, SYN | ACK)
    cseq += 1
    sseq += 1
    p.tcp(CLIENT, SERVER, cseq, sseq, ACK)
    last = []
    for fr in frames:
        data = fr["data"]
        src, dst = (CLIENT, SERVER) if fr["dir"] == "req" else (SERVER, CLIENT)
        for i in range(0, len(data), MSS):
            chunk = data[i:i + MSS]
            if src is CLIENT:
                n = p.tcp(src, dst, cseq, sseq, PSH | ACK, chunk)
                cseq += len(chunk)
            else:
                n = p.tcp(src, dst, sseq, cseq, PSH | ACK, chunk)
                sseq += len(chunk)
        last.append(n)
    p.tcp(CLIENT, SERVER, cseq, sseq, FIN | ACK)
    p.tcp(SERVER, CLIENT, sseq, cseq + 1, FIN | ACK)
    p.tcp(CLIENT, SERVER, cseq + 1, sseq + 1, ACK)
    p.close()
    return last


# Requests carry api_key/api_version; tshark puts a response's (taken from its request) apart.
FIELDS = ["frame.number", "kafka.api_key", "kafka.api_version", "kafka.response_key",
          "kafka.response.version", "kafka.correlation_id", "_ws.malformed",
          "_ws.expert.severity", "_ws.expert.message"]


def run_tshark(tshark, path):
    cmd = [tshark, "-n", "-r", path, "-d", "tcp.port==9092,kafka",
           "-o", "tcp.desegment_tcp_streams:TRUE", "-o", "kafka.tcp.ports:9092",
           "-T", "fields", "-E", "separator=\t", "-E", "occurrence=a", "-E", "aggregator=|"]
    for f in FIELDS:
        cmd += ["-e", f]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=TSHARK_SECONDS)
    if out.returncode != 0:
        sys.stderr.write(out.stderr)
        raise SystemExit("tshark failed with status %d" % out.returncode)
    rows = {}
    for line in out.stdout.splitlines():
        cols = line.split("\t")
        cols += [""] * (len(FIELDS) - len(cols))
        rows[int(cols[0])] = dict(zip(FIELDS, cols))
    return rows


def main():
    if len(sys.argv) not in (3, 4):
        sys.stderr.write(__doc__)
        return 2
    frames = []
    with open(sys.argv[1]) as f:
        for line in f:
            d, key, ver, name, cid, hexdata = line.split()
            frames.append({"dir": d, "key": int(key), "ver": int(ver), "name": name,
                           "cid": int(cid), "data": bytes.fromhex(hexdata)})
    if not frames:
        print("tshark_check: no frames")
        return 1
    pcap = sys.argv[2] + "/frames.pcap"
    last = write_pcap(frames, pcap)
    rows = run_tshark(sys.argv[3] if len(sys.argv) == 4 else "tshark", pcap)

    bad = 0
    tolerated = {}              # reason -> frames it excused
    for fr, n in zip(frames, last):
        row = rows.get(n, {})
        what = "%s v%d %s" % (fr["name"], fr["ver"], "request" if fr["dir"] == "req"
                              else "response")
        errors, wrong = [], []
        if row.get("_ws.malformed"):
            errors.append("malformed")
        sev = row.get("_ws.expert.severity", "")
        msgs = row.get("_ws.expert.message", "").split("|")
        for s, m in zip(sev.split("|"), msgs):
            # 0x00800000 is PI_ERROR in Wireshark's expert info levels.
            if s and int(s, 0) >= 0x00800000:
                errors.append("expert error: " + m)
        req = fr["dir"] == "req"
        keys = row.get("kafka.api_key" if req else "kafka.response_key", "").split("|")
        vers = row.get("kafka.api_version" if req else "kafka.response.version", "").split("|")
        cids = row.get("kafka.correlation_id", "").split("|")
        if str(fr["cid"]) not in cids:
            wrong.append("tshark did not see correlation id %d here (saw %s)"
                         % (fr["cid"], row.get("kafka.correlation_id") or "nothing"))
        elif str(fr["key"]) not in keys or str(fr["ver"]) not in vers:
            wrong.append("tshark read api key %s version %s" % (keys, vers))
        known = TSHARK_BUGS.get((fr["key"], fr["ver"], fr["dir"], fr["name"]))
        if known and not wrong:
            if errors:
                tolerated.setdefault(known, []).append("v%d" % fr["ver"])
            else:
                print("  %s: listed as a tshark bug but passes: drop the exception" % what)
            continue
        if errors or wrong:
            bad += 1
            print("FAIL %s (packet %d, correlation id %d): %s"
                  % (what, n, fr["cid"], "; ".join(errors + wrong)))
    for (_key, _ver, d, name), why in sorted(TSHARK_BUGS.items()):
        if why in tolerated:
            print("  tolerated %s %s %s: tshark 4.0 bug: %s"
                  % (name, ",".join(tolerated.pop(why)), "requests" if d == "req"
                     else "responses", why))
    print("%d frames checked by tshark, %d malformed" % (len(frames), bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
