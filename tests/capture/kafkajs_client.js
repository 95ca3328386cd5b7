// Drives kafkajs (pinned in tests/interop) against the capture responder: one produce.
// usage: node kafkajs_client.js PORT TOPIC [idempotent]
'use strict'
const path = require('path')
const { Kafka, logLevel } = require(path.join(__dirname, '..', 'interop', 'node_modules', 'kafkajs'))

async function main () {
  const [port, topic, mode] = process.argv.slice(2)
  const idempotent = mode === 'idempotent'
  const kafka = new Kafka({
    brokers: [`127.0.0.1:${port}`],
    logLevel: logLevel.NOTHING,
    retry: { retries: 2 }
  })
  // kafkajs refuses idempotence with more than one request in flight.
  const producer = kafka.producer(idempotent ? { idempotent, maxInFlightRequests: 1 } : {})
  await producer.connect()
  await producer.send({ topic, messages: [{ key: 'key1', value: 'hello' }] })
  await producer.disconnect()
}

main().catch(e => { console.error(e); process.exit(1) })
