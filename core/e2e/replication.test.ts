// Replication between real libp2p nodes in separate processes on 127.0.0.1:
// edits spread, a hub forwards, offline edits converge, and a reconnect sends
// only the missing diff.

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PeerProcess } from './peer-process.ts'

const dirs: string[] = []
const peers: PeerProcess[] = []

async function device (): Promise<PeerProcess> {
  const dir = await mkdtemp(join(tmpdir(), 'dispatch-core-'))
  dirs.push(dir)
  const peer = await PeerProcess.spawn(dir)
  peers.push(peer)
  return peer
}

async function befriend (...group: PeerProcess[]): Promise<void> {
  for (const p of group) for (const q of group) if (p !== q) await p.call('allow', { peer: q.peerId })
}

test.after(async () => {
  await Promise.all(peers.map(async p => await p.stop()))
  await Promise.all(dirs.map(async d => await rm(d, { recursive: true, force: true })))
})

test('two processes: an edit on either side appears on the other', async () => {
  const [a, b] = [await device(), await device()]
  await befriend(a, b)
  await b.call('connect', { addrs: a.addrs })
  await a.call('set', { key: 'from-a', value: 1 })
  await b.call('waitFor', { key: 'from-a', value: 1 })
  await b.call('set', { key: 'from-b', value: 'two' })
  await a.call('waitFor', { key: 'from-b', value: 'two' })
  await Promise.all([a.stop(), b.stop()])
})

test('three processes: a hub forwards edits between two peers that never met', async () => {
  const [hub, left, right] = [await device(), await device(), await device()]
  await befriend(hub, left)
  await befriend(hub, right)
  await left.call('connect', { addrs: hub.addrs })
  await right.call('connect', { addrs: [hub.addrs[1]] }) // over WebSockets
  await left.call('set', { key: 'l', value: 'left' })
  await right.call('waitFor', { key: 'l', value: 'left' })
  await right.call('insertText', { text: 'hello from the right' })
  await hub.call('set', { key: 'h', value: 3 })
  await left.call('waitFor', { key: 'h', value: 3 })
  const [x, y, z] = await Promise.all([hub.call('get'), left.call('get'), right.call('get')])
  assert.equal(y.t, 'hello from the right')
  assert.equal(x, y)
  assert.equal(y, z)
  await Promise.all([hub.stop(), left.stop(), right.stop()])
})

test('edits made on both sides while disconnected converge; the reconnect sends about the missing diff only', async () => {
  const [a, b] = [await device(), await device()]
  await befriend(a, b)
  await b.call('connect', { addrs: a.addrs })
  // A shared history much larger than what will be missing.
  await a.call('setMany', { prefix: 'base', count: 1000, size: 100 })
  await b.call('waitFor', { key: 'base999', value: 'x'.repeat(100) })

  await b.call('forget', { peer: a.peerId })
  await a.call('setMany', { prefix: 'a-offline', count: 20, size: 100 })
  await b.call('setMany', { prefix: 'b-offline', count: 30, size: 100 })
  const [svA, svB] = await Promise.all([a.call('stateVector'), b.call('stateVector')])
  const missingOnA = await b.call<number>('diffSize', { sv: svA })
  const missingOnB = await a.call<number>('diffSize', { sv: svB })
  const whole = await b.call<number>('diffSize', { sv: [0] })

  const syncedBefore = b.events.length
  await b.call('connect', { addrs: a.addrs })
  await b.waitEvent(e => e.event === 'synced' && b.events.indexOf(e) >= syncedBefore)
  await a.call('waitFor', { key: 'b-offline29', value: 'x'.repeat(100) })
  await b.call('waitFor', { key: 'a-offline19', value: 'x'.repeat(100) })
  const sentByB = (await b.call('stats', { peer: a.peerId })).bytesSent
  const sentByA = (await a.call('stats', { peer: b.peerId })).bytesSent
  console.log(`    reconnect: B sent ${sentByB} B for a ${missingOnA} B diff, A sent ${sentByA} B for a ${missingOnB} B diff (whole doc ${whole} B)`)
  assert.ok(sentByB <= 2 * missingOnA, `B sent ${sentByB} bytes for a ${missingOnA}-byte diff`)
  assert.ok(sentByA <= 2 * missingOnB, `A sent ${sentByA} bytes for a ${missingOnB}-byte diff`)
  const [x, y] = await Promise.all([a.call('get'), b.call('get')])
  assert.equal(x, y)
  await Promise.all([a.stop(), b.stop()])
})

test('a peer that was killed reconnects by itself after restart and catches up from its store', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dispatch-core-'))
  dirs.push(dir)
  const a = await device()
  let b = await PeerProcess.spawn(dir)
  await befriend(a, b)
  await b.call('connect', { addrs: a.addrs })
  await b.call('set', { key: 'before-kill', value: true })
  await a.call('waitFor', { key: 'before-kill', value: true })
  await b.kill()
  await a.call('set', { key: 'while-dead', value: 1 })
  b = await PeerProcess.spawn(dir)
  peers.push(b)
  await b.call('allow', { peer: a.peerId })
  const state = await b.call('get')
  assert.is(state.m['before-kill'], true, 'the store kept what was acknowledged')
  await b.call('connect', { addrs: a.addrs })
  await b.call('waitFor', { key: 'while-dead', value: 1 })
  await Promise.all([a.stop(), b.stop()])
})

test.run()
