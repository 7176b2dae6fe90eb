// splitUpdate: pieces stay under the bound, any prefix applies, and prefix + fresh diff converges.

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import * as Y from 'yjs'
import { splitUpdate } from './split-update.ts'

function bigDoc (): Y.Doc {
  const doc = new Y.Doc()
  const chunks = doc.getArray<Uint8Array>('chunks')
  const map = doc.getMap<number>('m')
  const text = doc.getText('t')
  for (let i = 0; i < 80; i++) {
    doc.transact(() => { chunks.push([new Uint8Array(64 * 1024).fill(i)]); map.set(`k${i % 7}`, i); text.insert(0, `ab${i}`) })
  }
  text.delete(3, 20)
  map.delete('k1')
  return doc
}

/** A compact comparable picture of a document (deep-comparing megabytes of bytes is slow). */
function picture (doc: Y.Doc): string {
  const chunks = doc.getArray<Uint8Array>('chunks').toArray().map(c => `${c.byteLength}:${c[0]}`)
  return JSON.stringify({ chunks, m: doc.getMap('m').toJSON(), t: doc.getText('t').toString() })
}

test('a small update is returned whole', () => {
  const doc = new Y.Doc()
  doc.getMap('m').set('a', 1)
  const update = Y.encodeStateAsUpdate(doc)
  assert.equal(splitUpdate(update, 1024), [update])
})

test('pieces are bounded and together equal the whole', () => {
  const a = bigDoc()
  const full = Y.encodeStateAsUpdate(a)
  const pieces = splitUpdate(full, 256 * 1024)
  assert.ok(pieces.length >= 20, `${pieces.length} pieces`)
  for (const p of pieces) assert.ok(p.byteLength <= 256 * 1024 + 1024, `piece of ${p.byteLength} bytes`)
  const b = new Y.Doc()
  for (const p of pieces) Y.applyUpdate(b, p)
  assert.is(picture(b), picture(a))
})

test('a prefix of pieces is progress: the next diff is smaller and completes the document', () => {
  const a = bigDoc()
  const full = Y.encodeStateAsUpdate(a)
  const c = new Y.Doc()
  for (const p of splitUpdate(full, 256 * 1024).slice(0, 7)) Y.applyUpdate(c, p)
  const rest = Y.encodeStateAsUpdate(a, Y.encodeStateVector(c))
  assert.ok(rest.byteLength < full.byteLength - 6 * 200 * 1024, `rest ${rest.byteLength} of ${full.byteLength}`)
  for (const p of splitUpdate(rest, 256 * 1024)) Y.applyUpdate(c, p)
  assert.is(picture(c), picture(a))
})

test.run()
