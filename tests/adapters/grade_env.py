"""What every Python adapter shares: the environment `mockbroker grade` sets, the message format
(message n: key = decimal n, value = "<n>:" + seeded padding) and the summary line it reads."""
import os
import sys

BOOTSTRAP = os.environ["KAFKA_BOOTSTRAP"]
TOPIC = os.environ["KAFKA_TOPIC"]
COUNT = int(os.environ["MESSAGE_COUNT"])
SEED = int(os.environ.get("KAFKA_SEED", "1"))
PARTITION = int(os.environ.get("KAFKA_PARTITION", "-1"))
PAD = 32


def key(n):
    return str(n).encode()


def value(n):
    pad = bytes(97 + (SEED * 31 + n * 7 + i) % 26 for i in range(PAD))
    return b"%d:" % n + pad


def finish(delivered, failed, detail=""):
    """Prints the line the grader reads and exits 0 only when every message was delivered."""
    print("delivered=%d failed=%d%s" % (delivered, failed, " " + detail if detail else ""))
    sys.stdout.flush()
    sys.exit(0 if failed == 0 and delivered == COUNT else 1)
