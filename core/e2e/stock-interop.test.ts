// Our libp2p node (optimistic Noise proposal, joined writes, Yamux patched to send window
// updates at half the window) against a stock libp2p node (stock TCP, stock
// @chainsafe/libp2p-yamux installed as `yamux-stock`), dialing either way: bulk data larger than
// the window and bursts of small messages arrive whole and in order, both directions.

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { createHash } from 'node:crypto'
import { createLibp2p } from 'libp2p'
import type { Libp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux as stockYamux } from 'yamux-stock'
import type { Stream, StreamMessageEvent } from '@libp2p/interface'
import { createLibp2pNode } from '../net/libp2p.ts'

const PROTOCOL = '/dispatch-test/bulk/1.0.0'
const BULK_BYTES = 3 * 1024 * 1024
const CHUNK = 16 * 1024
const SMALL = 2_000
const WAIT_MS = 60_000

/** Deterministic bytes: chunk i of the bulk transfer, then SMALL messages of 30 bytes. */
function payload (): Uint8Array[] {
  const out: Uint8Array[] = []
  for (let i = 0; i < BULK_BYTES / CHUNK; i++) out.push(new Uint8Array(CHUNK).fill(i % 251))
  for (let i = 0; i < SMALL; i++) out.push(new TextEncoder().encode(`small message ${String(i).padStart(12, '0')}`))
  return out
}
const expected = (() => {
  const h = createHash('sha256')
  let bytes = 0
  for (const c of payload()) { h.update(c); bytes += c.byteLength }
  return { bytes, digest: h.digest('hex') }
})()

/** Send the payload on `stream`, respecting back-pressure, then close the writing side. */
async function sendAll (stream: Stream): Promise<void> {
  for (const chunk of payload()) {
    if (!stream.send(chunk)) await new Promise(resolve => stream.addEventListener('drain', resolve, { once: true }))
  }
  await stream.close()
}

/** Everything the remote writes on `stream` until it closes its side: byte count and digest. */
function receiveAll (stream: Stream): Promise<{ bytes: number, digest: string }> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256')
    let bytes = 0
    const timer = setTimeout(() => reject(new Error(`only ${bytes} of ${expected.bytes} bytes within ${WAIT_MS} ms`)), WAIT_MS)
    stream.addEventListener('message', (evt: StreamMessageEvent) => {
      for (const c of evt.data instanceof Uint8Array ? [evt.data] : evt.data) { h.update(c); bytes += c.byteLength }
    })
    stream.addEventListener('remoteCloseWrite', () => { clearTimeout(timer); resolve({ bytes, digest: h.digest('hex') }) })
    stream.addEventListener('close', (evt) => { if (evt.error !== undefined) { clearTimeout(timer); reject(evt.error) } })
  })
}

async function stockNode (): Promise<Libp2p> {
  return await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [stockYamux()],
    connectionMonitor: { enabled: false }
  })
}

/** Both nodes answer the protocol by sending the payload back while reading the other's. */
async function exchange (dialer: Libp2p, listener: Libp2p): Promise<void> {
  const received: Array<Promise<{ bytes: number, digest: string }>> = []
  await listener.handle(PROTOCOL, (stream) => {
    received.push(receiveAll(stream))
    void sendAll(stream)
  })
  const stream = await dialer.dialProtocol(listener.getMultiaddrs()[0], PROTOCOL)
  const back = receiveAll(stream)
  await sendAll(stream)
  assert.equal(await back, expected, 'the dialer got the listener\'s bytes whole and in order')
  while (received.length === 0) await new Promise(resolve => setTimeout(resolve, 10))
  assert.equal(await received[0], expected, 'the listener got the dialer\'s bytes whole and in order')
}

test('our node dials a stock libp2p node: 3 MB and 2,000 small messages each way', async () => {
  const [ours, stock] = [await createLibp2pNode({ listen: ['/ip4/127.0.0.1/tcp/0'] }), await stockNode()]
  try {
    await exchange(ours, stock)
  } finally {
    await Promise.all([ours.stop(), stock.stop()])
  }
})

test('a stock libp2p node dials ours: 3 MB and 2,000 small messages each way', async () => {
  const [ours, stock] = [await createLibp2pNode({ listen: ['/ip4/127.0.0.1/tcp/0'] }), await stockNode()]
  try {
    await exchange(stock, ours)
  } finally {
    await Promise.all([ours.stop(), stock.stop()])
  }
})

test.run()
