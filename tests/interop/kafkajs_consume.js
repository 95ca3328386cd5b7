// kafkajs 2.2.4 group consumer against bin/mockbroker, for tests/scripts/consumers.sh.
// Usage: node kafkajs_consume.js --bootstrap B --topic T --group G --expect N --out F
//        [--idle-ms MS] [--client-id C]
// Subscribes from the beginning as a member of group G, collects records until N arrived (or no
// record came for MS milliseconds), writes them as JSON lines ({k, v, p, o}) in arrival order and
// exits 1 if fewer than N came. Offsets are committed to the group as kafkajs does by default.
'use strict';
const fs = require('fs');
const { Kafka, logLevel } = require('kafkajs');

function parseArgs(argv) {
    const a = { expect: 0, 'idle-ms': 15000 };
    for (let i = 0; i < argv.length; i++) a[argv[i].replace(/^--/, '')] = argv[++i];
    a.expect = Number(a.expect);
    a.idle = Number(a['idle-ms']);
    return a;
}

async function main() {
    const a = parseArgs(process.argv.slice(2));
    const kafka = new Kafka({
        clientId: a['client-id'] || 'kwire-consumers',
        brokers: a.bootstrap.split(','),
        logLevel: logLevel.ERROR,
        retry: { retries: 3 },
    });
    const consumer = kafka.consumer({ groupId: a.group, sessionTimeout: 10000,
                                      heartbeatInterval: 1000 });
    const rows = [];
    let crashed = null;
    let wake;
    let last = Date.now();
    const done = new Promise((resolve) => { wake = resolve; });
    // A crash kafkajs recovers from by restarting the consumer (its answer to, say, a dead
    // coordinator) is not the end; one it will not restart from is.
    consumer.on(consumer.events.CRASH, (e) => {
        if (e.payload.restart) return;
        crashed = e.payload.error;
        wake();
    });
    await consumer.connect();
    try {
        await consumer.subscribe({ topic: a.topic, fromBeginning: true });
        await consumer.run({
            eachMessage: async ({ partition, message }) => {
                rows.push({ k: message.key && message.key.toString(),
                            v: message.value && message.value.toString(),
                            p: partition, o: Number(message.offset) });
                last = Date.now();
                if (a.expect && rows.length >= a.expect) wake();
            },
        });
        const timer = setInterval(() => { if (Date.now() - last > a.idle) wake(); }, 100);
        await done;
        clearInterval(timer);
    } finally {
        fs.writeFileSync(a.out, rows.map((r) => JSON.stringify(r) + '\n').join(''));
        await consumer.disconnect();
    }
    if (crashed) throw crashed;
    if (rows.length < a.expect) throw new Error(`read ${rows.length} records of ${a.expect}`);
    console.log(`${rows.length} records`);
}

main().catch((e) => {
    console.error(`kafkajs_consume: ${e.stack || e}`);
    process.exit(1);
});
