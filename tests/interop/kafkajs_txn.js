// kafkajs 2.2.4 transactions against bin/mockbroker, for tests/scripts/transactions.sh.
// Usage: node kafkajs_txn.js --bootstrap B --topic T --n N --m M
// A transactional producer commits N keyed records, aborts M, commits N more; then a consumer
// (kafkajs reads read_committed by default) of a new group must read exactly the 2N committed
// records, none of the aborted ones, each partition in send order. Exits 1 otherwise.
'use strict';
const { Kafka, Partitioners, logLevel } = require('kafkajs');

function parseArgs(argv) {
    const a = {};
    for (let i = 0; i < argv.length; i++) a[argv[i].replace(/^--/, '')] = argv[++i];
    a.n = Number(a.n);
    a.m = Number(a.m);
    return a;
}

function keys(tag, n) {
    const out = [];
    for (let i = 0; i < n; i++) out.push(`${tag}-${String(i).padStart(5, '0')}`);
    return out;
}

async function inTransaction(producer, topic, list, commit) {
    const txn = await producer.transaction();
    try {
        for (let i = 0; i < list.length; i += 10)
            await txn.send({ topic, messages: list.slice(i, i + 10).map((k) => ({ key: k,
                                                                                  value: k })) });
    } catch (e) {
        await txn.abort();
        throw e;
    }
    if (commit) await txn.commit();
    else await txn.abort();
}

async function main() {
    const a = parseArgs(process.argv.slice(2));
    const kafka = new Kafka({
        clientId: 'kwire-txn',
        brokers: a.bootstrap.split(','),
        logLevel: logLevel.ERROR,
        retry: { retries: 5 },
    });
    const producer = kafka.producer({
        transactionalId: 'kafkajs-txn', idempotent: true, maxInFlightRequests: 1,
        createPartitioner: Partitioners.DefaultPartitioner,
    });
    await producer.connect();
    const c1 = keys('c1', a.n), ab = keys('ab', a.m), c2 = keys('c2', a.n);
    await inTransaction(producer, a.topic, c1, true);
    await inTransaction(producer, a.topic, ab, false);
    await inTransaction(producer, a.topic, c2, true);
    await producer.disconnect();

    const consumer = kafka.consumer({ groupId: 'kafkajs-txn-reader', sessionTimeout: 10000,
                                      heartbeatInterval: 1000 });
    const rows = [];
    let wake;
    let last = Date.now();
    const done = new Promise((resolve) => { wake = resolve; });
    await consumer.connect();
    await consumer.subscribe({ topic: a.topic, fromBeginning: true });
    await consumer.run({
        eachMessage: async ({ partition, message }) => {
            rows.push({ k: message.key.toString(), p: partition, o: Number(message.offset) });
            last = Date.now();
        },
    });
    // Read until every committed record came and nothing more arrived for 3 s.
    const timer = setInterval(() => {
        if ((rows.length >= 2 * a.n && Date.now() - last > 3000) || Date.now() - last > 20000)
            wake();
    }, 100);
    await done;
    clearInterval(timer);
    await consumer.disconnect();

    const want = new Set(c1.concat(c2));
    const got = rows.map((r) => r.k);
    const aborted = got.filter((k) => k.startsWith('ab-')).length;
    if (got.length !== want.size || new Set(got).size !== got.length ||
        !got.every((k) => want.has(k)))
        throw new Error(`read ${got.length} records (${aborted} aborted), expected ${want.size}`);
    const rank = new Map(c1.concat(c2).map((k, i) => [k, i]));
    const byPart = new Map();
    for (const r of rows.sort((x, y) => x.p - y.p || x.o - y.o)) {
        if (!byPart.has(r.p)) byPart.set(r.p, []);
        byPart.get(r.p).push(rank.get(r.k));
    }
    for (const v of byPart.values())
        for (let i = 1; i < v.length; i++)
            if (v[i] < v[i - 1]) throw new Error('a partition read out of send order');
    console.log(`${got.length} committed records read, none of the ${a.m} aborted`);
}

main().catch((e) => {
    console.error(`kafkajs_txn: ${e.stack || e}`);
    process.exit(1);
});
