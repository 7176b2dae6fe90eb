// The signed-membership gate on real Ed25519 keys and real Yjs documents, synced by hand:
// an unsigned or forged edit neither widens admission nor revokes; a dropped revocation stays
// in force (and is written back); rights decide who may admit and revoke; a revoked admin's
// later admissions are refused; what was verified survives a restart through the memory.

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import * as Y from 'yjs'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { PrivateKey } from '@libp2p/interface'
import { TrustGate, TRUST_MAP } from './gate.ts'
import type { TrustMemory, TrustRefusal, Verified } from './gate.ts'
import { signStatement, verifyStatement } from './statement.ts'
import { Members } from '../members.ts'

const SPACE = 'dispatch'

class ArrayMemory implements TrustMemory {
  readonly remembered: Verified[] = []
  remember (v: Verified): void { this.remembered.push(v) }
}

interface Dev { key: PrivateKey, id: string, doc: Y.Doc, gate: TrustGate, members: Members, memory: ArrayMemory, refused: TrustRefusal[] }

async function device (): Promise<Dev> {
  const key = await generateKeyPair('Ed25519')
  const id = peerIdFromPrivateKey(key).toString()
  const doc = new Y.Doc()
  const memory = new ArrayMemory()
  const gate = new TrustGate(doc, SPACE, { key, self: id, memory })
  const refused: TrustRefusal[] = []
  gate.on('refused', r => refused.push(r))
  return { key, id, doc, gate, members: new Members(doc, gate), memory, refused }
}

/** Exchange everything between the docs, as sync sessions would (origin names the sender). */
async function sync (...devs: Dev[]): Promise<void> {
  for (let round = 0; round < 2; round++) {
    for (const a of devs) for (const b of devs) if (a !== b) Y.applyUpdate(b.doc, Y.encodeStateAsUpdate(a.doc, Y.encodeStateVector(b.doc)), { remote: a.id })
    await new Promise(resolve => setTimeout(resolve, 0)) // write-backs run in a microtask
  }
}

test('statements: a signature verifies only its own body, by its author', async () => {
  const a = await device()
  const s = signStatement(a.key, { kind: 'admit', space: SPACE, by: a.id, peer: 'x', role: 'phone', rights: [], at: 1 })
  assert.ok(verifyStatement(s.sig, s.body))
  assert.is(verifyStatement(s.sig, s.body.replace('"phone"', '"desktop"')), null)
  const b = await device()
  const forged = signStatement(b.key, { kind: 'admit', space: SPACE, by: b.id, peer: 'x', role: 'phone', rights: [], at: 1 })
  assert.is(verifyStatement(forged.sig, forged.body.replace(b.id, a.id)), null)
})

test('desktop admits a phone; the phone admits the desktop (admin): both gates admit the other', async () => {
  const desk = await device()
  const phone = await device()
  desk.members.add({ peerId: phone.id, name: 'pocket', role: 'phone', pairedAt: 1, pairedBy: desk.id })
  phone.members.add({ peerId: desk.id, name: 'desk', role: 'desktop', rights: ['admin'], pairedAt: 1, pairedBy: phone.id })
  await sync(desk, phone)
  assert.ok(desk.members.isActive(phone.id))
  assert.ok(phone.members.isActive(desk.id))
  assert.is(desk.members.get(phone.id)?.pairedBy, desk.id)
  assert.equal(desk.members.get(phone.id)?.rights, [])
})

test('unsigned edits: planting a device or deleting a revocation changes nothing; the revocation is written back', async () => {
  const desk = await device()
  const phone = await device()
  const evil = await device()
  desk.members.add({ peerId: phone.id, name: 'pocket', role: 'phone', pairedAt: 1, pairedBy: desk.id })
  desk.members.add({ peerId: evil.id, name: 'evil', role: 'phone', pairedAt: 1, pairedBy: desk.id })
  await sync(desk, evil)
  desk.members.revoke(phone.id, desk.id)
  await sync(desk, evil)
  // Plant: an unsigned devices record, and a forged statement under a made-up signature.
  const planted = new Y.Map<unknown>()
  planted.set('name', 'ghost'); planted.set('role', 'desktop')
  evil.doc.getMap('devices').set('12D3KooWGhostGhostGhostGhostGhostGhostGhostGhostGhos', planted)
  evil.doc.getMap(TRUST_MAP).set('bm90LWEtc2ln', JSON.stringify({ kind: 'admit', space: SPACE, by: desk.id, peer: 'ghost', role: 'desktop', rights: ['admin'], at: 2 }))
  // Un-revoke: drop the signed revocation from the trust map.
  for (const [sig, body] of evil.doc.getMap(TRUST_MAP)) if (String(body).includes('"revoke"')) evil.doc.getMap(TRUST_MAP).delete(sig)
  await sync(evil, desk)
  assert.ok(desk.members.isRevoked(phone.id), 'still revoked')
  assert.not.ok(desk.members.isActive('ghost'))
  assert.not.ok(desk.members.isActive('12D3KooWGhostGhostGhostGhostGhostGhostGhostGhostGhos'))
  assert.ok(desk.refused.some(r => r.from === evil.id && /no valid signature/.test(r.reason)), 'forged statement logged, naming who sent it')
  assert.ok(desk.refused.some(r => r.from === evil.id && /remove a signed revocation/.test(r.reason)), 'removal logged')
  // Written back: the evil device's copy has the revocation again after the next exchange.
  await sync(desk, evil)
  assert.ok([...evil.doc.getMap(TRUST_MAP).values()].some(b => String(b).includes('"revoke"')))
})

test('rights: a phone may neither admit nor revoke others; it may revoke itself', async () => {
  const desk = await device()
  const phone = await device()
  const evil = await device()
  const ghost = await device()
  desk.members.add({ peerId: phone.id, name: 'pocket', role: 'phone', pairedAt: 1, pairedBy: desk.id })
  desk.members.add({ peerId: evil.id, name: 'evil', role: 'phone', pairedAt: 1, pairedBy: desk.id })
  phone.members.add({ peerId: desk.id, name: 'desk', role: 'desktop', rights: ['admin'], pairedAt: 1, pairedBy: phone.id })
  await sync(desk, phone, evil)
  // Signed, but by a device with no right to do it.
  evil.gate.admit(ghost.id, 'desktop', ['admin'])
  evil.gate.revoke(desk.id)
  evil.gate.revoke(phone.id)
  await sync(desk, phone, evil)
  for (const d of [desk, phone]) {
    assert.not.ok(d.members.isActive(ghost.id), 'planted identity refused')
    assert.not.ok(d.members.isRevoked(desk.id), 'desktop not revoked')
    assert.not.ok(d.members.isRevoked(phone.id), 'phone not revoked')
  }
  assert.ok(desk.refused.some(r => r.author === evil.id && /may not revoke/.test(r.reason)))
  // The desktop's revocation of evil counts on the phone too (the phone granted it admin).
  desk.members.revoke(evil.id, desk.id)
  await sync(desk, phone)
  assert.ok(phone.members.isRevoked(evil.id))
  // Self-revocation.
  phone.gate.revoke(phone.id)
  await sync(desk, phone)
  assert.ok(desk.members.isRevoked(phone.id))
})

test('a revoked admin: its admissions after the revocation are refused, earlier ones stand until revoked too', async () => {
  const phone = await device()
  const desk = await device()
  const early = await device()
  const late = await device()
  phone.members.add({ peerId: desk.id, name: 'desk', role: 'desktop', rights: ['admin'], pairedAt: 1, pairedBy: phone.id })
  desk.members.add({ peerId: early.id, name: 'early', role: 'phone', pairedAt: 2, pairedBy: desk.id })
  await sync(phone, desk)
  assert.ok(phone.members.isActive(early.id))
  phone.members.revoke(desk.id, phone.id, 1000)
  await sync(phone)
  // Backdated to before the revocation, but verified after it: refused.
  desk.gate.admit(late.id, 'phone', [], 500)
  await sync(phone, desk)
  assert.not.ok(phone.members.isActive(late.id))
  assert.ok(phone.members.isActive(early.id), 'admitted before the revocation')
  assert.equal(phone.gate.admittedBy(desk.id), [early.id])
  for (const p of phone.gate.admittedBy(desk.id)) phone.members.revoke(p, phone.id)
  assert.not.ok(phone.members.isActive(early.id))
})

test('memory: a restarted gate keeps what it verified, even when the document lost it', async () => {
  const desk = await device()
  const phone = await device()
  desk.members.add({ peerId: phone.id, name: 'pocket', role: 'phone', pairedAt: 1, pairedBy: desk.id })
  desk.members.revoke(phone.id, desk.id)
  // A fresh document (the statements lost) with the same memory.
  const doc = new Y.Doc()
  const gate = new TrustGate(doc, SPACE, { key: desk.key, self: desk.id, memory: desk.memory })
  assert.ok(gate.isRevoked(phone.id))
  await new Promise(resolve => setTimeout(resolve, 0))
  assert.is(doc.getMap(TRUST_MAP).size, 2, 'written back')
})

test.run()
