// kafkajs 2.2.4 producer against bin/mockbroker, for tests/scripts/interop.sh.
// Usage: node kafkajs_produce.js --bootstrap B --topic T --n N --partitions P --out F
//        [--tag S] [--pad N] [--sends K] [--idempotent]
// Sends N keyed records in K send() calls and writes them as JSON lines ({k, v, p, o}) in send
// order, with the partition kafkajs chose and the offset the broker acknowledged. Exits 1 if a
// send fails or an acknowledgement is missing. The records are the ones iop.py gen makes.
'use strict';
const fs = require('fs');
const { Kafka, Partitioners, logLevel } = require('kafkajs');

function parseArgs(argv) {
    const a = { tag: 'v', pad: 0, sends: 10, idempotent: false };
    for (let i = 0; i < argv.length; i++) {
        const name = argv[i].replace(/^--/, '');
        if (name === 'idempotent') a.idempotent = true;
        else a[name] = argv[++i];
    }
    for (const k of ['n', 'pad', 'sends', 'partitions']) a[k] = Number(a[k]);
    return a;
}

function makeRecords(n, tag, pad) {
    const filler = 'abcdefgh'.repeat(Math.ceil(pad / 8)).slice(0, pad);
    const out = [];
    for (let i = 0; i < n; i++) {
        const id = String(i).padStart(5, '0');
        out.push({ key: 'k' + id, value: `${tag}-${id}-${filler}` });
    }
    return out;
}

async function main() {
    const a = parseArgs(process.argv.slice(2));
    const kafka = new Kafka({
        clientId: 'kwire-interop',
        brokers: a.bootstrap.split(','),
        logLevel: logLevel.ERROR,
        retry: { retries: 3 },
    });
    const producer = kafka.producer({
        createPartitioner: Partitioners.DefaultPartitioner,
        idempotent: a.idempotent,
        // Sends are awaited one by one anyway; one request in flight keeps retries in order.
        maxInFlightRequests: a.idempotent ? 1 : undefined,
        allowAutoTopicCreation: false,
    });
    // The partitioner the producer uses, asked again per record to know where each one went.
    const partitionOf = Partitioners.DefaultPartitioner();
    const meta = [...Array(a.partitions).keys()].map((p) => ({ partitionId: p, leader: 1 }));
    const records = makeRecords(a.n, a.tag, a.pad);
    const rows = [];
    await producer.connect();
    try {
        const per = Math.ceil(records.length / a.sends);
        for (let at = 0; at < records.length; at += per) {
            const chunk = records.slice(at, at + per);
            const acks = await producer.send({ topic: a.topic, messages: chunk });
            for (const r of acks) {
                if (r.errorCode !== 0)
                    throw new Error(`partition ${r.partition}: error code ${r.errorCode}`);
            }
            const base = new Map(acks.map((r) => [r.partition, BigInt(r.baseOffset)]));
            const used = new Map();
            for (const m of chunk) {
                const p = partitionOf({ topic: a.topic, partitionMetadata: meta, message: m });
                const i = used.get(p) || 0n;
                used.set(p, i + 1n);
                if (!base.has(p)) throw new Error(`no acknowledgement for partition ${p}`);
                rows.push({ k: m.key, v: m.value, p, o: Number(base.get(p) + i) });
            }
        }
    } finally {
        fs.writeFileSync(a.out, rows.map((r) => JSON.stringify(r) + '\n').join(''));
        await producer.disconnect();
    }
}

main().catch((e) => {
    console.error(`kafkajs_produce: ${e.stack || e}`);
    process.exit(1);
});
