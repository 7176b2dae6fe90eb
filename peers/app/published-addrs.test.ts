// Published addresses: a desktop writes its own, signed; another member reads them back only when
// the signature holds, never an address for another peer, and an edit by anyone else is ignored.

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import * as Y from 'yjs'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { createSyncNode, openSpace, MemoryStore } from '../../core/index.ts'
import type { Space } from '../../core/index.ts'
import { keepAddrsPublished, publishAddrs, readPublishedAddrs, signedAddrsOf, verifySignedAddrs } from './published-addrs.ts'

const opened: Space[] = []
// Each space runs an awareness timer until it is closed.
test.after(async () => { await Promise.all(opened.map(async s => await s.close())) })

async function device (): Promise<{ id: string, space: Space }> {
  const key = await generateKeyPair('Ed25519')
  const id = peerIdFromPrivateKey(key).toString()
  const space = await openSpace('dispatch', { storage: new MemoryStore(), identity: key })
  space.members.add({ peerId: id, name: 'desk', role: 'desktop', pairedAt: 1, pairedBy: id })
  opened.push(space)
  return { id, space }
}

/** Copy `from`'s document into `to` (what a sync does). */
function sync (from: Space, to: Space): void {
  Y.applyUpdate(to.doc, Y.encodeStateAsUpdate(from.doc))
}

test('published once, read back by another member; unchanged addresses are not written again', async () => {
  const desk = await device()
  const other = await device()
  const addrs = [`/ip4/127.0.0.1/udp/4320/webrtc-direct/certhash/uEiAAAA/p2p/${desk.id}`, `/ip4/127.0.0.1/tcp/4317/p2p/${desk.id}`]
  assert.ok(publishAddrs(desk.space, desk.id, addrs, 1000))
  assert.not.ok(publishAddrs(desk.space, desk.id, addrs, 2000), 'nothing changed')
  sync(desk.space, other.space)
  assert.equal(readPublishedAddrs(other.space, desk.id), { addrs, at: 1000 })
})

test('an address for another peer is dropped; an edit by someone else fails the signature', async () => {
  const desk = await device()
  const mallory = await device()
  const mine = `/ip4/10.0.0.2/tcp/4317/p2p/${desk.id}`
  publishAddrs(desk.space, desk.id, [mine, `/ip4/10.0.0.66/tcp/1/p2p/${mallory.id}`])
  assert.equal(readPublishedAddrs(desk.space, desk.id)?.addrs, [mine], 'only addresses of the publisher')
  sync(desk.space, mallory.space)
  // Mallory rewrites the body in desk's entry (labels are writable by anyone) but cannot sign it as desk.
  const record = mallory.space.members.map.get(desk.id) as Y.Map<unknown>
  record.set('addrs', JSON.stringify({ addrs: [`/ip4/10.0.0.66/tcp/1/p2p/${desk.id}`], at: 9 }))
  assert.is(readPublishedAddrs(mallory.space, desk.id), null)
  assert.is(readPublishedAddrs(mallory.space, mallory.id), null, 'nothing published')
})

test('the record handed out of the space (a web server to its page) verifies only as its publisher\'s', async () => {
  const desk = await device()
  const mallory = await device()
  const mine = `/ip4/127.0.0.1/tcp/40001/ws/p2p/${desk.id}`
  publishAddrs(desk.space, desk.id, [mine], 5)
  const record = signedAddrsOf(desk.space, desk.id)
  assert.ok(record !== null)
  assert.equal(verifySignedAddrs(record), { addrs: [mine], at: 5 })
  // Someone else's origin passing desk's body off as its own, or its own body as desk's: refused.
  assert.is(verifySignedAddrs({ ...record, peerId: mallory.id }), null)
  publishAddrs(mallory.space, mallory.id, [`/ip4/127.0.0.1/tcp/40002/ws/p2p/${mallory.id}`])
  const theirs = signedAddrsOf(mallory.space, mallory.id)!
  assert.is(verifySignedAddrs({ ...theirs, peerId: desk.id }), null)
  assert.is(verifySignedAddrs({ ...record, body: record.body.replace('40001', '40003') }), null, 'a changed body')
  assert.is(verifySignedAddrs({ peerId: 'not a peer id', body: '{}', sig: 'x' }), null, 'garbage')
  assert.is(signedAddrsOf(desk.space, mallory.id), null, 'nothing published there')
})

test('a desktop whose own entry a new phone replaced at pairing (both wrote one before they synced) publishes its addresses again', async () => {
  const node = await createSyncNode({ listen: ['/ip4/127.0.0.1/tcp/0'] })
  try {
    // Of two maps set at one key at once, Yjs keeps the one from the higher client id: the phone's here.
    const deskDoc = new Y.Doc()
    deskDoc.clientID = 1
    const desk = await node.openSpace('dispatch', { storage: new MemoryStore(), doc: deskDoc })
    desk.members.add({ peerId: node.peerId, name: 'desk', role: 'desktop', pairedAt: 1, pairedBy: node.peerId })
    keepAddrsPublished(desk, node)
    assert.equal(readPublishedAddrs(desk, node.peerId)?.addrs, node.addrs())

    const phoneKey = await generateKeyPair('Ed25519')
    const phoneId = peerIdFromPrivateKey(phoneKey).toString()
    const phoneDoc = new Y.Doc()
    phoneDoc.clientID = 2 ** 32 - 1
    const phone = await openSpace('dispatch', { storage: new MemoryStore(), identity: phoneKey, doc: phoneDoc })
    opened.push(phone)
    // What the joining side of pairing writes before the first sync (core/pairing/protocol.ts).
    phone.members.add({ peerId: node.peerId, name: 'desk', role: 'desktop', pairedAt: 2, pairedBy: phoneId })
    Y.applyUpdate(desk.doc, Y.encodeStateAsUpdate(phone.doc))
    assert.is((desk.members.map.get(node.peerId) as Y.Map<unknown>).get('pairedBy'), phoneId, 'the phone\'s entry won')
    assert.equal(readPublishedAddrs(desk, node.peerId)?.addrs, node.addrs(), 'published into the entry that won')
    sync(desk, phone)
    assert.equal(readPublishedAddrs(phone, node.peerId)?.addrs, node.addrs(), 'and the phone reads them')
  } finally {
    await node.stop()
  }
})

test.run()
