// Mixed protocol revisions: a node that speaks /dispatch/sync/1.1.0 (Yjs v2 diffs) and one that
// speaks only 1.0.0 sync both ways, whichever of them dials; two new nodes agree on 1.1.0 and
// send their first diff in v2; `Space.confirm` works on either revision. Real libp2p nodes on 127.0.0.1; the old node is the engine with
// its revisions narrowed to 1.0.0 (what an older release registers and proposes).

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import * as Y from 'yjs'
import { createSyncNode, MemoryStore, constants } from '../index.ts'
import type { Space, SyncNode } from '../index.ts'
import type { StreamChannel } from '../net/stream-channel.ts'

const WAIT_MS = 20_000
const nodes: SyncNode[] = []

async function device (protocols?: readonly string[]): Promise<{ node: SyncNode, space: Space }> {
  const node = await createSyncNode({ listen: ['/ip4/127.0.0.1/tcp/0'], syncProtocols: protocols })
  nodes.push(node)
  const space = await node.openSpace('versions', { storage: new MemoryStore() })
  return { node, space }
}

function until (what: string, check: () => boolean, doc: Y.Doc): Promise<void> {
  return new Promise((resolve, reject) => {
    if (check()) { resolve(); return }
    const timer = setTimeout(() => { doc.off('update', on); reject(new Error(`${what} within ${WAIT_MS} ms`)) }, WAIT_MS)
    const on = (): void => { if (check()) { clearTimeout(timer); doc.off('update', on); resolve() } }
    doc.on('update', on)
  })
}

/** Each side writes before and after connecting; both must end with all four writes. */
async function syncBothWays (dialer: { node: SyncNode, space: Space }, listener: { node: SyncNode, space: Space }): Promise<string> {
  dialer.space.allow(listener.node.peerId)
  listener.space.allow(dialer.node.peerId)
  // A large first diff from each side, so step 2 is a real payload in whatever encoding.
  dialer.space.doc.getText('t').insert(0, 'dialer offline '.repeat(2000))
  listener.space.doc.getMap('m').set('listener-offline', 'x'.repeat(10_000))
  await dialer.node.connect(listener.node.addrs()[0])
  await until('the dialer holds the listener\'s offline write', () => dialer.space.doc.getMap('m').get('listener-offline') !== undefined, dialer.space.doc)
  // Holding the listener's state says nothing of ours there; a confirmation does, on either revision.
  await dialer.space.confirm(listener.node.peerId, AbortSignal.timeout(WAIT_MS))
  assert.is(listener.space.doc.getText('t').length, 'dialer offline '.length * 2000, 'confirmed: the listener holds the dialer\'s offline text')
  dialer.space.doc.getMap('m').set('dialer-online', 1)
  listener.space.doc.getMap('m').set('listener-online', 2)
  await until('the listener gets the dialer\'s live edit', () => listener.space.doc.getMap('m').get('dialer-online') === 1, listener.space.doc)
  await until('the dialer gets the listener\'s live edit', () => dialer.space.doc.getMap('m').get('listener-online') === 2, dialer.space.doc)
  assert.equal(Y.encodeStateVector(dialer.space.doc), Y.encodeStateVector(listener.space.doc))
  for (const s of [dialer.space, listener.space]) {
    for (const peer of s.connectedPeers()) assert.is(s.session(peer)?.badMessages, 0, 'no message either side could not read')
  }
  const a = (dialer.space.session(listener.node.peerId)?.channel as StreamChannel).protocol
  const b = (listener.space.session(dialer.node.peerId)?.channel as StreamChannel).protocol
  assert.is(a, b, 'both ends of the stream name the same revision')
  const v2 = a === constants.SYNC_PROTOCOL
  for (const [s, peer] of [[dialer.space, listener.node.peerId], [listener.space, dialer.node.peerId]] as const) {
    const diffs = s.session(peer)?.diffsReceived
    assert.ok(diffs !== undefined && diffs.v1 + diffs.v2 > 0, 'a first diff arrived')
    if (v2) assert.is(diffs.v1, 0, 'no v1 diff on 1.1.0')
    else assert.is(diffs.v2, 0, 'no v2 diff on 1.0.0')
  }
  return a
}

test.after(async () => { await Promise.all(nodes.map(async n => await n.stop())) })

test('a 1.1.0 node dialing a 1.0.0-only node: refused optimistically, falls back to 1.0.0, syncs both ways', async () => {
  const listener = await device([constants.SYNC_PROTOCOL_1_0])
  const dialer = await device()
  assert.is(await syncBothWays(dialer, listener), constants.SYNC_PROTOCOL_1_0)
})

test('a 1.0.0-only node dialing a 1.1.0 node: 1.0.0 is accepted, syncs both ways', async () => {
  const listener = await device()
  const dialer = await device([constants.SYNC_PROTOCOL_1_0])
  assert.is(await syncBothWays(dialer, listener), constants.SYNC_PROTOCOL_1_0)
})

test('two 1.1.0 nodes speak 1.1.0, and their first diffs go in Yjs v2', async () => {
  const listener = await device()
  const dialer = await device()
  assert.is(await syncBothWays(dialer, listener), constants.SYNC_PROTOCOL)
})

test.run()
