// A device in its own process, driven by JSON lines on stdin, for the core's
// multi-process tests. Every command gets one JSON line back on stdout.
//
//   node core/e2e/peer.fixture.ts <dir> [space] [options-json]   (options: SyncNodeOptions subset)
//   -> {"event":"ready","peerId":…,"addrs":[…]}
//   <- {"id":1,"cmd":"set","key":"k","value":1}   -> {"id":1,"ok":true}

import { createInterface } from 'node:readline'
import { join } from 'node:path'
import * as Y from 'yjs'
import { createHash } from 'node:crypto'
import { createSyncNode } from '../node.ts'
import { loadOrCreateIdentity } from '../identity.ts'
import { FileStore } from '../store/file-store.ts'
import { addressBookFile } from '../net/address-book-file.ts'

const [dir, spaceName = 'e2e', optionsJson = '{}'] = process.argv.slice(2)
const extra = JSON.parse(optionsJson) as { listen?: string[], relays?: string[], mdns?: boolean | { interval?: number }, addressBook?: boolean }
const privateKey = await loadOrCreateIdentity(join(dir, 'identity.key'))
const node = await createSyncNode({
  privateKey,
  listen: extra.listen ?? ['/ip4/127.0.0.1/tcp/0', '/ip4/127.0.0.1/tcp/0/ws'],
  reconnect: { minMs: 100, maxMs: 1000 },
  relays: extra.relays,
  mdns: extra.mdns,
  addressBook: extra.addressBook === true ? addressBookFile(join(dir, 'peers.json')) : undefined
})
const space = await node.openSpace(spaceName, { storage: new FileStore({ dir: join(dir, 'store') }), resyncIntervalMs: 1000 })
const map = space.doc.getMap<unknown>('m')
const text = space.doc.getText('t')

function reply (message: object): void {
  process.stdout.write(JSON.stringify(message) + '\n')
}

space.on('synced', (peer) => reply({ event: 'synced', peer }))
space.on('refused', (peer, reason) => reply({ event: 'refused', peer, reason }))
space.on('peer-disconnected', (peer, reason) => reply({ event: 'disconnected', peer, reason: reason ?? null }))

type Handler = (args: Record<string, any>) => Promise<unknown> | unknown

const handlers: Record<string, Handler> = {
  allow: ({ peer }) => { space.allow(peer) },
  disallow: ({ peer }) => { space.disallow(peer) },
  connect: async ({ addrs }) => await node.connect(addrs),
  forget: async ({ peer }) => { await node.forget(peer) },
  set: async ({ key, value }) => { map.set(key, value); await space.flush() },
  setMany: async ({ prefix, count, size }) => {
    space.doc.transact(() => { for (let i = 0; i < count; i++) map.set(`${prefix}${i}`, 'x'.repeat(size)) })
    await space.flush()
  },
  insertText: async ({ text: t }) => { text.insert(text.length, t); await space.flush() },
  get: () => ({ m: map.toJSON(), t: text.toString(), sv: Array.from(Y.encodeStateVector(space.doc)) }),
  stateVector: () => Array.from(Y.encodeStateVector(space.doc)),
  diffSize: ({ sv }) => Y.encodeStateAsUpdate(space.doc, Uint8Array.from(sv)).byteLength,
  stats: ({ peer }) => space.session(peer)?.channel.stats ?? null,
  waitFor: async ({ key, value }) => {
    while (JSON.stringify(map.get(key)) !== JSON.stringify(value)) {
      await new Promise<void>(resolve => map.observe(function once () { map.unobserve(once); resolve() }))
    }
  },
  // A blob written in 64 KiB chunks, one transaction each, as an app would store a big output.
  setBlob: async ({ key, size, seed }) => {
    const blob = new Uint8Array(size)
    for (let i = 0; i < size; i++) blob[i] = (i * 31 + seed) & 0xff
    const chunks = new Y.Array<Uint8Array>()
    map.set(key, chunks)
    for (let at = 0; at < size; at += 64 * 1024) chunks.push([blob.subarray(at, at + 64 * 1024)])
    await space.flush()
    return createHash('sha256').update(blob).digest('hex')
  },
  blobHash: ({ key }) => {
    const chunks = space.doc.getMap<Y.Array<Uint8Array>>('m').get(key)
    if (!(chunks instanceof Y.Array)) return null
    const hash = createHash('sha256')
    let size = 0
    for (const c of chunks) { hash.update(c); size += c.byteLength }
    return { size, sha256: hash.digest('hex') }
  },
  connections: () => node.libp2p.getConnections().map(c => ({ peer: c.remotePeer.toString(), addr: c.remoteAddr.toString(), limited: c.limits !== undefined, direction: c.direction })),
  addrs: () => node.addrs(),
  knownAddrs: ({ peer }) => ({ known: node.knownAddrs(peer), book: node.addressBook.get(peer) }),
  peers: () => ({ sessions: space.connectedPeers(), connections: node.connectedPeers(), refusals: node.refusals }),
  stop: async () => { await node.stop(); setImmediate(() => process.exit(0)) }
}

reply({ event: 'ready', peerId: node.peerId, addrs: node.addrs() })

// Commands run concurrently: a `waitFor` must not hold up the ones after it.
for await (const line of createInterface({ input: process.stdin })) {
  const { id, cmd, ...args } = JSON.parse(line) as { id: number, cmd: string }
  Promise.resolve().then(async () => await handlers[cmd](args)).then(
    result => reply({ id, ok: true, result: result ?? null }),
    err => reply({ id, ok: false, error: (err as Error).message })
  )
}
