// The Yjs provider between real libp2p nodes on 127.0.0.1: two devices pair with an always-on
// one (FileStore) and edit through it; presence crosses; status/synced follow the connection;
// edits made while disconnected merge on reconnect; a disconnected provider turns a paired
// device away; the always-on device reopens its document from disk; a revoked device is told
// and stops redialling; destroy is final.

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import * as Y from 'yjs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createProvider, ProviderDestroyedError, NotListeningError } from './provider.ts'
import type { SpaceProvider, ProviderStatus } from './provider.ts'
import { FileStore } from './store/file-store.ts'
import { MemoryStore } from './store/memory-store.ts'
import { loadOrCreateIdentity } from './identity.ts'
import { createSyncNode } from './node.ts'
import { PairingService } from './pairing/protocol.ts'

const dir = await mkdtemp(join(tmpdir(), 'dispatch-provider-'))
const providers: SpaceProvider[] = []

async function hub (): Promise<SpaceProvider> {
  const provider = await createProvider('notes', {
    storage: new FileStore({ dir: join(dir, 'hub-store') }),
    node: { privateKey: await loadOrCreateIdentity(join(dir, 'hub.key')) },
    name: 'hub',
    closeStorage: true
  })
  providers.push(provider)
  return provider
}

async function device (name: string): Promise<SpaceProvider> {
  // Listening nowhere, like a browser page: it only dials.
  const provider = await createProvider('notes', { storage: new MemoryStore(), node: { listen: [], reconnect: { maxMs: 1_000 } }, name })
  providers.push(provider)
  return provider
}

/** Resolves once `check()` holds, re-checking on every `event` of `target` (and at once); fails after `ms`. */
async function until (target: { on: (e: any, f: () => void) => void, off: (e: any, f: () => void) => void }, event: string, check: () => boolean, what: string, ms = 20_000): Promise<void> {
  if (check()) return
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => { target.off(event, listener); reject(new Error(`timed out waiting for ${what}`)) }, ms)
    const listener = (): void => { if (check()) { clearTimeout(timer); target.off(event, listener); resolve() } }
    target.on(event, listener)
  })
}

const text = (p: SpaceProvider): string => p.doc.getText('body').toString()
const textIs = async (p: SpaceProvider, want: string): Promise<void> => { await until(p.doc, 'update', () => text(p) === want, `${p.name} to read ${JSON.stringify(want)} (has ${JSON.stringify(text(p))})`) }
const cursorOf = (p: SpaceProvider, name: string): unknown => Array.from(p.awareness.getStates().values()).find(s => s.user?.name === name)?.cursor

test.after(async () => {
  await Promise.all(providers.map(async p => await p.destroy()))
  await rm(dir, { recursive: true, force: true })
})

let h: SpaceProvider, a: SpaceProvider, b: SpaceProvider

test('two devices pair with the always-on one; text and presence cross through it', async () => {
  h = await hub()
  a = await device('a')
  b = await device('b')
  const statuses: ProviderStatus[] = []
  const synced: boolean[] = []
  a.on('status', ({ status }) => statuses.push(status))
  a.on('synced', s => synced.push(s))
  assert.is(a.status, 'connecting', 'connect() is the default; no device known yet')
  h.doc.getText('body').insert(0, 'hub;')

  const inviteA = await h.openInvite()
  const paired: string[] = []
  h.on('paired', m => paired.push(m.name))
  const accepted = await a.pair(inviteA.text)
  assert.is(accepted.name, 'hub')
  assert.is((await inviteA.paired).name, 'a')
  await b.pair((await h.openInvite()).text)
  assert.equal(paired, ['a', 'b'])

  await until(a, 'synced', () => a.synced, 'a synced')
  await textIs(a, 'hub;')
  assert.equal(statuses, ['connected'])
  assert.equal(synced, [true])
  a.doc.getText('body').insert(4, 'a;')
  await textIs(b, 'hub;a;')
  b.doc.getText('body').insert(6, 'b;')
  await textIs(a, 'hub;a;b;')
  await textIs(h, 'hub;a;b;')
  assert.equal(a.peers(), [h.node.peerId])
  assert.ok(a.knownAddrs().some(addr => addr.endsWith(`/p2p/${h.node.peerId}`)))

  // Presence: each sees the other's cursor, relayed by the hub (the two never connect directly).
  a.awareness.setLocalStateField('user', { name: 'a' })
  a.awareness.setLocalStateField('cursor', 2)
  b.awareness.setLocalStateField('user', { name: 'b' })
  b.awareness.setLocalStateField('cursor', 5)
  await until(b.awareness, 'change', () => cursorOf(b, 'a') === 2, 'b to see a\'s cursor')
  await until(a.awareness, 'change', () => cursorOf(a, 'b') === 5, 'a to see b\'s cursor')
  assert.not.ok(a.node.connectedPeers().includes(b.node.peerId), 'a and b reach each other only through the hub')
})

test('disconnect: status and presence follow; edits on both sides merge on connect', async () => {
  const statuses: ProviderStatus[] = []
  a.on('status', ({ status }) => statuses.push(status))
  a.disconnect()
  assert.is(a.status, 'disconnected')
  assert.not.ok(a.synced)
  await until(b.awareness, 'change', () => cursorOf(b, 'a') === undefined, 'a\'s cursor to leave b')
  await until(a, 'peers', () => a.peers().length === 0, 'a to have no session')

  a.doc.getText('body').insert(0, '[a offline]')
  b.doc.getText('body').insert(text(b).length, '[b meanwhile]')
  await textIs(h, 'hub;a;b;[b meanwhile]')
  assert.is(text(a), '[a offline]hub;a;b;')

  a.connect()
  assert.is(a.status, 'connecting')
  await until(a, 'synced', () => a.synced, 'a synced again')
  const merged = '[a offline]hub;a;b;[b meanwhile]'
  await textIs(a, merged)
  await textIs(b, merged)
  await textIs(h, merged)
  assert.equal(statuses, ['disconnected', 'connecting', 'connected'])
  // Well before y-protocols' 15 s renewal, which is what brought a cursor back before.
  await until(b.awareness, 'change', () => cursorOf(b, 'a') === 2, 'a\'s cursor back at b', 10_000)
  await until(a.awareness, 'change', () => cursorOf(a, 'b') === 5, 'b\'s cursor back at a', 10_000)
})

test('presence comes back at once after a reconnection through a hub that is a plain SyncNode', async () => {
  const node = await createSyncNode()
  const space = await node.openSpace('notes', { storage: new MemoryStore() })
  const pairing = new PairingService(node, space, { name: 'plain' })
  await pairing.start()
  const e = await device('e')
  try {
    await e.pair(pairing.openInvite().text)
    e.awareness.setLocalStateField('user', { name: 'e' })
    const seen = (): unknown => Array.from(space.awareness.getStates().values()).find(st => st.user?.name === 'e')
    await until(space.awareness, 'change', () => seen() !== undefined, 'the plain hub to see e')
    e.disconnect()
    await until(space.awareness, 'change', () => seen() === undefined, 'e to leave the plain hub')
    e.connect()
    // The hub keeps e's old clock and ignores the same state at it: e announces with a new clock.
    await until(space.awareness, 'change', () => seen() !== undefined, 'e back at the plain hub', 10_000)
  } finally {
    await pairing.stop()
    await node.stop()
  }
})

test('a disconnected provider turns away a paired device that dials it', async () => {
  // A device that listens, so the hub can dial it.
  const c = await createProvider('notes', { storage: new MemoryStore(), name: 'c' })
  providers.push(c)
  await c.pair((await h.openInvite()).text)
  await textIs(c, text(h))
  c.disconnect()
  await until(c, 'peers', () => c.peers().length === 0, 'c to drop its session')
  c.doc.getText('body').insert(0, 'private;')
  // The hub dials c: the connection is cut before any sync starts, and nothing crosses.
  const closed = new Promise<void>(resolve => {
    h.node.libp2p.addEventListener('connection:close', function onClose (event) {
      if (event.detail.remotePeer.toString() !== c.node.peerId) return
      h.node.libp2p.removeEventListener('connection:close', onClose)
      resolve()
    })
  })
  await h.node.libp2p.dial(c.node.libp2p.getMultiaddrs()).catch(() => {})
  await closed
  assert.equal(c.peers(), [])
  assert.not.ok(text(h).includes('private;'), 'the disconnected device sent nothing')
  assert.is(c.status, 'disconnected')
})

test('the always-on device keeps the document on disk and comes back with the same identity', async () => {
  const before = text(h)
  const id = h.node.peerId
  await h.flush()
  await h.destroy()
  assert.is(h.status, 'disconnected')
  await until(a, 'status', () => a.status === 'connecting', 'a to notice the hub went away')
  h = await hub()
  assert.is(h.node.peerId, id)
  assert.is(text(h), before)
})

test('a revoked device is told why and stops redialling', async () => {
  const f = await device('f')
  await f.pair((await h.openInvite()).text)
  await until(f, 'synced', () => f.synced, 'f synced')
  const refused: string[] = []
  f.on('refused', ({ peer, reason }) => { if (peer === h.node.peerId) refused.push(reason) })
  h.space.members.revoke(f.node.peerId, h.node.peerId)
  await until(f, 'refused', () => refused.length > 0, 'f to be refused')
  assert.match(refused[0], /revoked/)
  assert.ok(f.space.members.isRevoked(f.node.peerId), 'the revocation reached f before the cut')
  await until(f, 'peers', () => f.peers().length === 0, 'f to have no session')
  assert.equal(f.node.knownAddrs(h.node.peerId), [], 'the node no longer redials the hub')
})

test('openInvite needs a node that listens; a destroyed provider refuses work; destroying the doc destroys the provider', async () => {
  try {
    await a.openInvite()
    assert.unreachable('a provider that listens nowhere opened an invite')
  } catch (err) {
    assert.instance(err, NotListeningError)
  }
  const doc = new Y.Doc()
  const d = await createProvider('other', { storage: new MemoryStore(), doc, connect: false })
  assert.is(d.doc, doc)
  assert.is(d.status, 'disconnected')
  doc.destroy()
  assert.ok(d.destroyed)
  await d.destroy() // the teardown doc.destroy() started
  assert.ok(d.node.stopped)
  assert.throws(() => { d.connect() }, (err: Error) => err instanceof ProviderDestroyedError)
})

test.run()
