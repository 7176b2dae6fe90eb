// Space limits: updates checked on their decoded structs before they are applied. A write to a
// top-level type the space does not use, a value over its field's cap, an update past the size
// limits: refused whole, the session closed naming the reason; allowed writes still sync.

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import * as Y from 'yjs'
import { checkUpdate } from './limits.ts'
import type { SpaceLimits } from './limits.ts'
import { openSpace } from '../space.ts'
import { MemoryStore } from '../store/memory-store.ts'
import { MemoryLink } from './memory-channel.ts'

const LIMITS: SpaceLimits = { allowedTypes: ['tasks'], maxValueSize: 64 * 1024, fieldSizes: { text: 100 }, maxUpdateBytes: 1024 * 1024 }

function updateOf (base: Y.Doc, change: (doc: Y.Doc) => void): { doc: Y.Doc, update: Uint8Array } {
  const doc = new Y.Doc()
  Y.applyUpdate(doc, Y.encodeStateAsUpdate(base))
  const before = Y.encodeStateVector(doc)
  change(doc)
  return { doc, update: Y.encodeStateAsUpdate(doc, before) }
}

test('checkUpdate: top-level types, field caps (also on a key set again), value and update sizes', () => {
  const base = new Y.Doc()
  const t = new Y.Map<unknown>()
  base.getMap('tasks').set('t1', t)
  t.set('text', 'short')
  const ok = updateOf(base, d => { (d.getMap('tasks').get('t1') as Y.Map<unknown>).set('text', 'still short') })
  assert.is(checkUpdate(base, ok.update, false, 'update', LIMITS, 0), null)
  const junk = updateOf(base, d => { d.getText('junk').insert(0, 'x') })
  assert.match(checkUpdate(base, junk.update, false, 'update', LIMITS, 0) ?? '', /top-level type "junk"/)
  // Set again: the new item carries no key of its own (it follows the old value), the check finds it.
  const long = updateOf(base, d => { (d.getMap('tasks').get('t1') as Y.Map<unknown>).set('text', 'x'.repeat(101)) })
  assert.match(checkUpdate(base, long.update, false, 'update', LIMITS, 0) ?? '', /"text" of size 101/)
  const v2 = Y.convertUpdateFormatV1ToV2(long.update)
  assert.match(checkUpdate(base, v2, true, 'diff', LIMITS, 0) ?? '', /"text" of size 101/)
  const big = updateOf(base, d => { d.getMap('tasks').set('blob', 'y'.repeat(70 * 1024)) })
  assert.match(checkUpdate(base, big.update, false, 'update', LIMITS, 0) ?? '', /value of size/)
  assert.match(checkUpdate(base, ok.update, false, 'update', { maxSpaceBytes: 100 }, 99) ?? '', /past 100 bytes/)
  assert.match(checkUpdate(base, new Uint8Array(2 * 1024 * 1024), false, 'update', LIMITS, 0) ?? '', /the limit is 1048576/)
  assert.match(checkUpdate(base, new Uint8Array([1, 2, 3]), false, 'update', LIMITS, 0) ?? '', /does not decode/)
})

test('a space refuses an update past its limits whole, closes the session, and keeps syncing what is allowed', async () => {
  const a = await openSpace('s', { storage: new MemoryStore(), limits: LIMITS })
  const b = await openSpace('s', { storage: new MemoryStore() })
  const refused: Array<[string, string]> = []
  a.on('update-refused', (peer, reason) => refused.push([peer, reason]))
  const link = new MemoryLink()
  a.attach(link.a, 'B', 'B')
  b.attach(link.b, 'A', 'B')
  b.doc.getMap('tasks').set('t1', 'fine')
  await new Promise(resolve => setTimeout(resolve, 20))
  assert.is(a.doc.getMap('tasks').get('t1'), 'fine')
  b.doc.transact(() => {
    b.doc.getMap('tasks').set('t2', 'also in this update')
    b.doc.getText('junk').insert(0, 'z'.repeat(1000))
  })
  await new Promise(resolve => setTimeout(resolve, 20))
  assert.equal(refused.map(([p]) => p), ['B'])
  assert.match(refused[0][1], /top-level type "junk"/)
  assert.is(a.doc.getMap('tasks').get('t2'), undefined, 'refused whole')
  assert.is(a.doc.share.has('junk'), false)
  assert.equal(a.connectedPeers(), [])
  await a.close()
  await b.close()
})

test.run()
