// SyncSession.confirm: resolved only once the remote has read what this side sent before it,
// over a link whose deliveries the test drives one message at a time.

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import * as Y from 'yjs'
import { SessionClosedError, SyncSession } from './session.ts'
import { MemoryLink } from './memory-channel.ts'

/** Two docs with a session each over a manual link; `before` writes to a before the sessions start. */
function pair (before: (a: Y.Doc) => void = () => {}): { link: MemoryLink, a: Y.Doc, b: Y.Doc, sa: SyncSession, sb: SyncSession } {
  const link = new MemoryLink({ delivery: 'manual' })
  const a = new Y.Doc()
  const b = new Y.Doc()
  before(a)
  const sa = new SyncSession(a, link.a, { remote: 'b' })
  const sb = new SyncSession(b, link.b, { remote: 'a' })
  return { link, a, b, sa, sb }
}

/** Settles pending promise callbacks, so a resolved confirmation is visible. */
const turn = async (): Promise<void> => { await new Promise(resolve => setImmediate(resolve)) }

test('synced is not confirmed: our diff can still be in flight when the remote answered us', async () => {
  // Written offline, then connected: the write leaves in a's answer to b's state vector.
  const { link, b, sa, sb } = pair(a => { a.getMap('m').set('k', 'from a') })
  // b reads a's state vector and answers it; a reads b's state vector (and answers it with the
  // write), then b's answer to its own: synced.
  assert.ok(link.b.deliverOne())
  while (link.a.deliverOne());
  assert.ok(sa.synced, 'a holds what b had')
  let confirmed = false
  const confirming = sa.confirm().then(() => { confirmed = true })
  // Nothing has reached b yet.
  await turn()
  assert.is(confirmed, false)
  assert.is(b.getMap('m').get('k'), undefined)
  // b reads a's messages in order: the write, then a's new state vector, which b answers.
  while (link.b.deliverOne());
  assert.is(b.getMap('m').get('k'), 'from a')
  await turn()
  assert.is(confirmed, false, 'b has answered, but a has not read the answer')
  while (link.a.deliverOne());
  await confirming
  assert.ok(confirmed)
  sa.destroy(); sb.destroy()
})

test('each confirmation waits for the answer to its own state vector', async () => {
  const { link, a, b, sa, sb } = pair()
  link.deliver()
  const first = sa.confirm()
  a.getMap('m').set('later', 1)
  const second = sa.confirm()
  let firstDone = false
  let secondDone = false
  void first.then(() => { firstDone = true })
  void second.then(() => { secondDone = true })
  // b reads a's first step 1 and answers it; a reads that answer only.
  assert.ok(link.b.deliverOne())
  assert.ok(link.a.deliverOne())
  await turn()
  assert.ok(firstDone)
  assert.is(secondDone, false)
  link.deliver()
  await second
  assert.is(b.getMap('m').get('later'), 1)
  sa.destroy(); sb.destroy()
})

test('a session closed before the answer rejects its confirmations, and later ones at once', async () => {
  const { link, a, sa, sb } = pair()
  a.getMap('m').set('k', 1)
  const pending = sa.confirm()
  link.close('gone')
  const err = await pending.then(() => null, (e: Error) => e)
  assert.instance(err, SessionClosedError)
  assert.match(err?.message ?? '', /closed before it confirmed: gone/)
  const after = await sa.confirm().then(() => null, (e: Error) => e)
  assert.instance(after, SessionClosedError)
  sb.destroy()
})

test.run()
