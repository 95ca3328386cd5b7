#!/usr/bin/env python3
"""Drives one Python Kafka client against the capture responder: one short produce, then exit.

usage: py_clients.py MODE PORT TOPIC
MODE: kafka-python (version probe), kafka-python-0.10.1, kafka-python-0.9 (forced versions),
      confluent-lz4, confluent-zstd (idempotent, compressed).
Run it with the interpreter that has kafka-python 2.0.2 / confluent-kafka-python 1.7.0.
"""
import sys

# Compressible on purpose: librdkafka sends a batch uncompressed when compressing would not
# make it smaller.
VALUE = (b"golden frame " * 30)[:300]


def kafka_python(port, topic, api_version):
    from kafka import KafkaProducer
    kw = {"api_version": api_version} if api_version else {"api_version_auto_timeout_ms": 5000}
    p = KafkaProducer(bootstrap_servers=f"127.0.0.1:{port}", **kw)
    p.send(topic, key=b"key1", value=b"hello").get(timeout=10)
    p.close(timeout=5)


def confluent(port, topic, codec):
    from confluent_kafka import Producer
    errors = []
    p = Producer({"bootstrap.servers": f"127.0.0.1:{port}", "enable.idempotence": True,
                  "compression.type": codec, "linger.ms": 100})
    for i in range(3):
        p.produce(topic, key=b"key%d" % i, value=VALUE,
                  on_delivery=lambda err, msg: err and errors.append(err))
    if p.flush(10) != 0 or errors:
        sys.exit(f"confluent-kafka-python: delivery failed: {errors}")


def main():
    mode, port, topic = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    if mode == "kafka-python":
        kafka_python(port, topic, None)
    elif mode == "kafka-python-0.10.1":
        kafka_python(port, topic, (0, 10, 1))
    elif mode == "kafka-python-0.9":
        kafka_python(port, topic, (0, 9))
    elif mode in ("confluent-lz4", "confluent-zstd"):
        confluent(port, topic, mode.split("-")[1])
    else:
        sys.exit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
