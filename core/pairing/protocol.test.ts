// The pairing protocol between real libp2p nodes on 127.0.0.1: success, each refusal by
// name with no membership change, the gate window, rate limiting, and a declined confirmation.

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { base64url } from 'multiformats/bases/base64'
import { createSyncNode } from '../node.ts'
import type { SyncNode } from '../node.ts'
import type { Space } from '../space.ts'
import { MemoryStore } from '../store/memory-store.ts'
import { PAIR_PROTOCOL } from '../constants.ts'
import { StreamChannel } from '../net/stream-channel.ts'
import { PairingService, acceptInvite, inviteAddrs } from './protocol.ts'
import { decodeInvite, encodeInvite, inviteProof } from './invite.ts'

interface Device { node: SyncNode, space: Space, pairing?: PairingService }
const nodes: SyncNode[] = []

async function desktop (now?: () => number): Promise<Device & { pairing: PairingService }> {
  const node = await createSyncNode()
  nodes.push(node)
  const space = await node.openSpace('dispatch', { storage: new MemoryStore() })
  const pairing = new PairingService(node, space, { name: 'desk', role: 'desktop', peerRole: 'phone', now })
  await pairing.start()
  return { node, space, pairing }
}

async function phone (): Promise<Device> {
  const node = await createSyncNode({ listen: [] })
  nodes.push(node)
  const space = await node.openSpace('dispatch', { storage: new MemoryStore() })
  return { node, space }
}

async function rejectsNamed (p: Promise<unknown>, name: string): Promise<Error> {
  try {
    await p
  } catch (err) {
    assert.is((err as Error).name, name, (err as Error).message)
    return err as Error
  }
  throw new Error(`expected ${name}`)
}

function memberIds (d: Device): string[] {
  return d.space.members.list().map(m => m.peerId).sort()
}

test.after(async () => { await Promise.all(nodes.map(async n => await n.stop())) })

test('pairs: same code on both sides, each records the other, then they sync', async () => {
  const d = await desktop()
  const p = await phone()
  const open = d.pairing.openInvite({ ttlMs: 60_000 })
  assert.ok(open.text.length < 400, `invite is ${open.text.length} chars`)
  let desktopCode = ''
  d.pairing.on('confirm-needed', (_id, prompt) => { desktopCode = prompt.code })
  const accepted = await acceptInvite(p.node, p.space, open.text, { name: 'pocket', confirm: ({ name }) => name === 'desk' })
  const member = await open.paired
  assert.is(member.peerId, p.node.peerId)
  assert.is(member.name, 'pocket')
  assert.is(member.role, 'phone')
  assert.is(accepted.code, desktopCode)
  // The engine has no roles of its own: the inviter's role comes from its PairingService options.
  assert.is(p.space.members.get(d.node.peerId)?.role, 'desktop')
  // Pairing leaves a connection; the phone opens sync on it at once.
  const synced = new Promise<void>(resolve => d.space.on('synced', () => resolve()))
  await synced
  d.space.doc.getMap('m').set('k', 1)
  for (let i = 0; i < 100 && p.space.doc.getMap('m').get('k') !== 1; i++) await new Promise(r => setTimeout(r, 20))
  assert.is(p.space.doc.getMap('m').get('k'), 1)
  // Second use of the same invite by another phone: reused.
  const q = await phone()
  await rejectsNamed(acceptInvite(q.node, q.space, open.text, { name: 'other' }), 'InviteReusedError')
  assert.not.ok(d.space.members.isActive(q.node.peerId))
})

test('refusals: wrong secret, expired (desktop clock), no open invite, secretless and bare multiaddr', async () => {
  let skew = 0
  const d = await desktop(() => Date.now() + skew)
  const p = await phone()
  const open = d.pairing.openInvite({ ttlMs: 60_000 })
  const wrong = { ...open.invite, secret: crypto.getRandomValues(new Uint8Array(16)) }
  await rejectsNamed(acceptInvite(p.node, p.space, wrong, { name: 'x' }), 'WrongSecretError')
  // The phone believes the invite is fresh; the desktop's clock says it expired (still in the refusal window).
  skew = 61_000
  await rejectsNamed(acceptInvite(p.node, p.space, open.text, { name: 'x' }), 'InviteExpiredError')
  await rejectsNamed(acceptInvite(p.node, p.space, wrong, { name: 'x' }), 'NoOpenInviteError')
  // Expired on the phone's own clock: refused before dialing.
  await rejectsNamed(acceptInvite(p.node, p.space, open.text, { name: 'x', now: () => Date.now() + 61_000 }), 'InviteExpiredError')
  await rejectsNamed(acceptInvite(p.node, p.space, encodeInvite({ ...open.invite, secret: new Uint8Array(0) }), { name: 'x' }), 'InviteMissingSecretError')
  await rejectsNamed(acceptInvite(p.node, p.space, open.invite.addrs[0].toString(), { name: 'x' }), 'InviteMissingSecretError')
  assert.equal(memberIds(d), [])
  assert.equal(memberIds(p), [])
})

test('a proof replayed by a third identity is refused as made for another device', async () => {
  const d = await desktop()
  const p = await phone()
  const thief = await phone()
  const open = d.pairing.openInvite({ ttlMs: 60_000 })
  // What the thief captured: the phone's claim, with its nonce and proof.
  const nonce = crypto.getRandomValues(new Uint8Array(16))
  const proof = await inviteProof(open.invite.secret, p.node.peerId, d.node.peerId, nonce)
  const stream = await thief.node.libp2p.dialProtocol(decodeInvite(open.text).addrs, PAIR_PROTOCOL)
  const channel = new StreamChannel(stream)
  channel.send(new TextEncoder().encode(JSON.stringify({ type: 'claim', phone: p.node.peerId, nonce: base64url.encode(nonce), proof: base64url.encode(proof), name: 'thief' })))
  const answer = JSON.parse(new TextDecoder().decode(await channel.firstMessage(5000)))
  assert.is(answer.type, 'refused')
  assert.is(answer.code, 'other-device')
  assert.equal(memberIds(d), [])
  // The invite is still good for the real phone.
  await acceptInvite(p.node, p.space, open.text, { name: 'pocket' })
  assert.ok(d.space.members.isActive(p.node.peerId))
  assert.not.ok(d.space.members.isActive(thief.node.peerId))
})

test('failed attempts are rate-limited per peer; declined confirmation adds no one', async () => {
  const d = await desktop()
  const p = await phone()
  const open = d.pairing.openInvite({ ttlMs: 60_000 })
  const wrong = { ...open.invite, secret: crypto.getRandomValues(new Uint8Array(16)) }
  for (let i = 0; i < 5; i++) await rejectsNamed(acceptInvite(p.node, p.space, wrong, { name: 'x' }), 'WrongSecretError')
  await rejectsNamed(acceptInvite(p.node, p.space, open.text, { name: 'x' }), 'PairingRateLimitedError')
  const q = await phone()
  const open2 = d.pairing.openInvite({ ttlMs: 60_000, confirm: () => false })
  await rejectsNamed(acceptInvite(q.node, q.space, open2.text, { name: 'y' }), 'PairingDeclinedError')
  await rejectsNamed(open2.paired, 'PairingDeclinedError')
  assert.equal(memberIds(d), [])
  assert.equal(memberIds(q), [])
})

test('the gate admits strangers only while an invite window is open', async () => {
  let skew = 0
  const d = await desktop(() => Date.now() + skew)
  const p = await phone()
  assert.not.ok(d.pairing.admitsStranger())
  let reached = false
  try {
    const connection = await p.node.libp2p.dial(d.node.libp2p.getMultiaddrs())
    await connection.newStream(PAIR_PROTOCOL)
    reached = true
  } catch {}
  assert.not.ok(reached)
  for (let i = 0; i < 50 && d.node.refusals.connection === 0; i++) await new Promise(r => setTimeout(r, 20))
  assert.is(d.node.refusals.connection, 1)
  const open = d.pairing.openInvite({ ttlMs: 1000 })
  assert.ok(d.pairing.admitsStranger())
  skew = 2000 + 60_000
  assert.not.ok(d.pairing.admitsStranger())
  open.cancel()
})

const DESK = '12D3KooWRBy97UB99e3J6hiPesre1MZeuNQvfan4gBziswrRJsNK'
const RELAY = '12D3KooWEyoppNCUx8Yx66oV9fJnriXwCcXwDDUA2kj6vnc6iDEp'
const direct = `/ip4/192.168.1.5/tcp/4317/p2p/${DESK}`

test('inviteAddrs keeps a place for each transport to the relay, the relay\'s loopback last', () => {
  const hash = 'uEiDFE951uSTt5GqTTDdmaSVlQKscgNq7sBKU-UI8Knzzbw'
  const via = (relayAddr: string): string => `${relayAddr}/p2p/${RELAY}/p2p-circuit/p2p/${DESK}`
  // What a relay on all interfaces reports: each transport on loopback and on its public address.
  const circuits = [
    via('/ip4/127.0.0.1/tcp/4319'), via('/ip4/203.0.113.7/tcp/4319'), via('/ip4/127.0.0.1/tcp/4321/ws'), via('/ip4/203.0.113.7/tcp/4321/ws'),
    via(`/ip4/127.0.0.1/udp/4319/webrtc-direct/certhash/${hash}`), via(`/ip4/203.0.113.7/udp/4319/webrtc-direct/certhash/${hash}`)
  ]
  const out = inviteAddrs([direct, `/ip4/127.0.0.1/tcp/4317/p2p/${DESK}`, ...circuits])
  assert.equal(out, [direct, `/ip4/127.0.0.1/tcp/4317/p2p/${DESK}`, circuits[1], circuits[3], circuits[5]])
})

test.run()
