// The node owns members' addresses and reconnection: it learns where a member that dialled in
// listens (identify), a restarted node finds a member again from its persisted address book with no connect(), keeps redialling one that is down until it comes
// up, dials on demand with dialMembers off, and drops a revoked member's addresses; the relayed
// addresses of a member that keeps coming back on new ports stay in its capped entry.
// Real libp2p nodes on 127.0.0.1, real files.

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { PrivateKey } from '@libp2p/interface'
import { createSyncNode } from '../node.ts'
import type { SyncNode } from '../node.ts'
import type { Space } from '../space.ts'
import { MemoryStore } from '../store/memory-store.ts'
import { addressBookFile } from './address-book-file.ts'
import { AddressBook, ADDRESS_BOOK_MAX_ADDRS, ADDRESS_BOOK_MAX_RELAYED } from './address-book.ts'
import type { AddressBookEntries } from './address-book.ts'

const nodes = new Set<SyncNode>()
const dirs: string[] = []
test.after(async () => {
  await Promise.all([...nodes].map(async n => await n.stop()))
  await Promise.all(dirs.map(async d => await rm(d, { recursive: true, force: true })))
})

async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer().once('error', reject).listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

/** A node with `key` whose space has `self` and `other` as members (each side records both, as pairing does). */
async function device (key: PrivateKey, other: string, options: Parameters<typeof createSyncNode>[0] = {}): Promise<{ node: SyncNode, space: Space }> {
  const node = await createSyncNode({ privateKey: key, reconnect: { minMs: 100, maxMs: 400 }, ...options })
  nodes.add(node)
  const storage = new MemoryStore()
  const space = await node.openSpace('book', { storage, allow: [other] })
  for (const peerId of [node.peerId, other]) space.members.add({ peerId, name: peerId.slice(-4), role: 'member', pairedAt: 1, pairedBy: node.peerId })
  return { node, space }
}

function synced (space: Space, peer: string): Promise<void> {
  return new Promise(resolve => {
    if (space.session(peer)?.synced === true) { resolve(); return }
    space.on('synced', function done (p) { if (p === peer) { space.off('synced', done); resolve() } })
  })
}

async function stop (node: SyncNode): Promise<void> {
  await node.stop()
  nodes.delete(node)
}

test('a restarted node reconnects to a member from its persisted book, with no connect()', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dispatch-book-'))
  dirs.push(dir)
  const [deskKey, phoneKey] = [await generateKeyPair('Ed25519'), await generateKeyPair('Ed25519')]
  const [deskId, phoneId] = [peerIdFromPrivateKey(deskKey).toString(), peerIdFromPrivateKey(phoneKey).toString()]
  const desk = await device(deskKey, phoneId)
  const book = join(dir, 'peers.json')
  const first = await device(phoneKey, deskId, { listen: [], addressBook: addressBookFile(book) })
  await first.node.connect(desk.node.addrs())
  await synced(first.space, deskId)
  await stop(first.node) // flushes the book
  const saved = JSON.parse(await readFile(book, 'utf8'))
  assert.ok(desk.node.addrs().every(a => saved.peers[deskId].addrs.includes(a)), JSON.stringify(saved))

  desk.space.doc.getMap('m').set('while-away', 1)
  const again = await device(phoneKey, deskId, { listen: [], addressBook: addressBookFile(book) })
  assert.equal(again.node.knownPeers().map(p => p.peerId), [deskId])
  await synced(again.space, deskId)
  assert.is(again.space.doc.getMap('m').get('while-away'), 1)
})

test('a member that dialled in is remembered at the addresses it listens on (identify, once the first sync is done)', async () => {
  const [deskKey, phoneKey] = [await generateKeyPair('Ed25519'), await generateKeyPair('Ed25519')]
  const [deskId, phoneId] = [peerIdFromPrivateKey(deskKey).toString(), peerIdFromPrivateKey(phoneKey).toString()]
  const desk = await device(deskKey, phoneId)
  const phone = await device(phoneKey, deskId)
  assert.equal(desk.node.knownAddrs(phoneId), [])
  await phone.node.connect(desk.node.addrs())
  await synced(desk.space, phoneId)
  // Only identify tells the desktop where the phone listens: it dialled in from an ephemeral port.
  await new Promise<void>((resolve, reject) => {
    const learnt = (): boolean => phone.node.addrs().every(a => desk.node.knownAddrs(phoneId).includes(a))
    if (learnt()) { resolve(); return }
    const deadline = setTimeout(() => { reject(new Error(`the desktop never learnt the phone's listen addresses: it knows ${JSON.stringify(desk.node.knownAddrs(phoneId))}`)) }, 20_000)
    desk.node.libp2p.addEventListener('peer:identify', function check () {
      if (!learnt()) return
      clearTimeout(deadline)
      desk.node.libp2p.removeEventListener('peer:identify', check)
      resolve()
    })
  })
  const protocols = (await desk.node.libp2p.peerStore.get(phone.node.libp2p.peerId)).protocols
  assert.ok(protocols.some(p => p.startsWith('/dispatch/sync/')), JSON.stringify(protocols))
  await stop(phone.node)
  await stop(desk.node)
})

test('a member that is down is redialled until it comes up; dialMembers off dials only on demand', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dispatch-book-'))
  dirs.push(dir)
  const [deskKey, phoneKey] = [await generateKeyPair('Ed25519'), await generateKeyPair('Ed25519')]
  const [deskId, phoneId] = [peerIdFromPrivateKey(deskKey).toString(), peerIdFromPrivateKey(phoneKey).toString()]
  const port = await freePort()
  const deskAddr = `/ip4/127.0.0.1/tcp/${port}/p2p/${deskId}`
  const book = join(dir, 'peers.json')
  // Learnt once (an invite), while the desktop is off.
  const learn = await createSyncNode({ privateKey: phoneKey, listen: [], addressBook: addressBookFile(book) })
  learn.addressBook.remember(deskId, [deskAddr])
  await learn.stop()

  const phone = await device(phoneKey, deskId, { listen: [], addressBook: addressBookFile(book) })
  const failures: number[] = []
  phone.node.on('reconnect-failed', (peer, _err, delayMs) => { if (peer === deskId) failures.push(delayMs) })
  const tried = new Promise<void>(resolve => phone.node.on('reconnect-failed', () => { if (failures.length >= 2) resolve() }))
  await tried // the node keeps trying on its own, with backoff
  const desk = await device(deskKey, phoneId, { listen: [`/ip4/127.0.0.1/tcp/${port}`] })
  await synced(phone.space, deskId)
  assert.ok(failures.every(ms => ms <= 400), `delays within the bounds: ${failures.join(', ')}`)

  // A one-shot process: nothing dialled by itself, but connectPeer reaches the member from the book.
  await stop(phone.node)
  const oneShot = await device(phoneKey, deskId, { listen: [], addressBook: addressBookFile(book), dialMembers: false })
  assert.equal(oneShot.node.connectedPeers(), [])
  await oneShot.node.connectPeer(deskId)
  await synced(oneShot.space, deskId)
  assert.ok(desk.space.connectedPeers().includes(phoneId))
})

test('revoking a member drops its addresses from the book and stops reconnection', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dispatch-book-'))
  dirs.push(dir)
  const [deskKey, phoneKey] = [await generateKeyPair('Ed25519'), await generateKeyPair('Ed25519')]
  const [deskId, phoneId] = [peerIdFromPrivateKey(deskKey).toString(), peerIdFromPrivateKey(phoneKey).toString()]
  const desk = await device(deskKey, phoneId)
  const book = join(dir, 'peers.json')
  const phone = await device(phoneKey, deskId, { listen: [], addressBook: addressBookFile(book) })
  await phone.node.connect(desk.node.addrs())
  await synced(phone.space, deskId)
  const gone = new Promise<void>(resolve => phone.space.on('peer-disconnected', p => { if (p === deskId) resolve() }))
  phone.space.disallow(deskId)
  phone.space.members.revoke(deskId, phoneId)
  await gone
  assert.equal(phone.node.knownAddrs(deskId), [])
  assert.equal(phone.node.knownPeers(), [])
  await stop(phone.node)
  assert.equal(JSON.parse(await readFile(book, 'utf8')).peers, {})
})

test('new direct addresses never push a relayed one out of the book (a member back on new ports, again and again)', () => {
  const peer = '12D3KooWDesk'
  const book = new AddressBook()
  const relayed = (i: number): string => `/ip4/203.0.113.7/tcp/4319/p2p/12D3KooWRelay${i}/p2p-circuit/p2p/${peer}`
  book.remember(peer, [`/ip4/192.168.1.2/tcp/4000/ws/p2p/${peer}`, relayed(0)])
  for (let run = 1; run <= 20; run++) book.remember(peer, [`/ip4/192.168.1.2/tcp/${4000 + run}/ws/p2p/${peer}`, `/ip4/192.168.1.2/udp/${5000 + run}/webrtc-direct/p2p/${peer}`])
  let addrs = book.get(peer)
  assert.is(addrs.length, ADDRESS_BOOK_MAX_ADDRS)
  assert.equal(addrs.filter(a => a.includes('/p2p-circuit')), [relayed(0)], 'the relayed address is kept')
  assert.ok(addrs[0].includes('/tcp/4020/'), 'newest direct first')
  for (let i = 1; i <= 10; i++) book.remember(peer, [relayed(i)])
  addrs = book.get(peer)
  assert.is(addrs.length, ADDRESS_BOOK_MAX_ADDRS)
  assert.equal(addrs.filter(a => a.includes('/p2p-circuit')), [10, 9, 8, 7].map(relayed).slice(0, ADDRESS_BOOK_MAX_RELAYED), 'the newest relayed ones, capped')
})

test('a peer met for the first time is written at once (a page closed right after pairing still finds its desktop); known peers are batched', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dispatch-book-'))
  dirs.push(dir)
  const file = addressBookFile(join(dir, 'peers.json'))
  const saves: AddressBookEntries[] = []
  const book = new AddressBook({ load: async () => await file.load(), save: async entries => { saves.push(entries); await file.save(entries) } })
  await book.load()
  const peer = '12D3KooWDesk'
  const addr = `/ip4/127.0.0.1/tcp/4317/p2p/${peer}`
  book.remember(peer, [addr])
  // Microtasks only: a batched (timer) save cannot have started yet.
  for (let i = 0; i < 10; i++) await Promise.resolve()
  assert.equal(saves.map(e => e[peer]?.addrs), [[addr]], 'saved without waiting for the batch')
  book.remember(peer, [`/ip4/127.0.0.1/tcp/4318/p2p/${peer}`])
  for (let i = 0; i < 10; i++) await Promise.resolve()
  assert.is(saves.length, 1, 'a change to a known peer waits for the batch')
  await book.flush()
  const again = new AddressBook(file)
  await again.load()
  assert.equal(again.get(peer), [`/ip4/127.0.0.1/tcp/4318/p2p/${peer}`, addr])
})

test('retainDirect drops the direct addresses a peer no longer listens on and keeps its relayed ones', () => {
  const peer = '12D3KooWDesk'
  const book = new AddressBook()
  const relayed = `/ip4/203.0.113.7/tcp/4319/p2p/12D3KooWRelay/p2p-circuit/p2p/${peer}`
  const old = `/ip4/192.168.1.2/tcp/4000/ws/p2p/${peer}`
  const now = `/ip4/192.168.1.2/tcp/4001/ws/p2p/${peer}`
  book.remember(peer, [old, now, relayed])
  book.retainDirect(peer, [now])
  assert.equal(book.get(peer), [now, relayed])
  book.retainDirect(peer, [])
  assert.equal(book.get(peer), [relayed], 'a relayed address outlives the ports')
  book.retainDirect('12D3KooWNobody', [now])
  assert.equal(book.get('12D3KooWNobody'), [])
})

test.run()
