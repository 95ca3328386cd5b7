#!/usr/bin/env node
// kafkajs adapter for `mockbroker grade`.  node kafkajs.js [--idempotent] [--acks -1|0|1]
// Message n: key = decimal n, value = "<n>:" + seeded padding; prints "delivered=D failed=F".
'use strict';
const path = require('path');
const { Kafka, logLevel } = require(path.join(__dirname, '../interop/node_modules/kafkajs'));

const env = process.env;
const count = Number(env.MESSAGE_COUNT);
const seed = Number(env.KAFKA_SEED || 1);
const partition = Number(env.KAFKA_PARTITION || -1);
const idempotent = process.argv.includes('--idempotent');
const ai = process.argv.indexOf('--acks');
const acks = ai >= 0 ? Number(process.argv[ai + 1]) : -1;

function value(n) {
    let pad = '';
    for (let i = 0; i < 32; i++) pad += String.fromCharCode(97 + ((seed * 31 + n * 7 + i) % 26));
    return `${n}:${pad}`;
}

async function main() {
    const kafka = new Kafka({
        clientId: 'kwire-grade',
        brokers: env.KAFKA_BOOTSTRAP.split(','),
        logLevel: logLevel.NOTHING,
        requestTimeout: 2000,
        retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 1000 },
    });
    const producer = kafka.producer({ idempotent, maxInFlightRequests: idempotent ? 1 : undefined });
    let delivered = 0, failed = 0;
    try {
        await producer.connect();
        // One send per 10 messages, awaited in turn: kafkajs batches what one send() holds.
        for (let n = 0; n < count; n += 10) {
            const messages = [];
            for (let k = n; k < Math.min(count, n + 10); k++) {
                const m = { key: String(k), value: value(k) };
                if (partition >= 0) m.partition = partition;
                messages.push(m);
            }
            try {
                await producer.send({ topic: env.KAFKA_TOPIC, acks, timeout: 2000, messages });
                delivered += messages.length;
            } catch (e) {
                failed += messages.length;
            }
        }
    } catch (e) {
        console.error(`kafkajs: ${e.message}`);
    }
    failed = count - delivered;
    await producer.disconnect().catch(() => {});
    console.log(`delivered=${delivered} failed=${failed}`);
    process.exit(failed === 0 ? 0 : 1);
}
main();
