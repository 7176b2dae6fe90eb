// Web Push from the desktop against a push service on 127.0.0.1 that checks what a real one
// checks: the VAPID token (ES256 over the desktop's public key, aud = the endpoint's origin,
// exp in the next 24 h) and the aes128gcm payload, which it decrypts (http_ece) with the
// page's keys. Then TaskPush: a task the phone sent finishes / asks → a push naming it.

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as Y from 'yjs'
import { sendPush, PushRejectedError } from './push-sender.ts'
import { loadOrCreateVapidKeys } from './vapid-keys.ts'
import { PushSubscriptions } from './push-subscriptions.ts'
import { TaskPush } from './task-push.ts'
import type { PushPayload } from './task-push.ts'
import { TaskBoard } from '../tasks/task-board.ts'
import { pushService } from './local-push-service.ts'

/** Live two-way replication between two docs (what a sync session does). */
function connect (a: Y.Doc, b: Y.Doc): void {
  const fromA = { remote: 'a' }
  const fromB = { remote: 'b' }
  Y.applyUpdate(b, Y.encodeStateAsUpdate(a), fromA)
  Y.applyUpdate(a, Y.encodeStateAsUpdate(b), fromB)
  a.on('update', (u: Uint8Array, o: unknown) => { if (o !== fromB) Y.applyUpdate(b, u, fromA) })
  b.on('update', (u: Uint8Array, o: unknown) => { if (o !== fromA) Y.applyUpdate(a, u, fromB) })
}

function addDevice (doc: Y.Doc, id: string, role: 'phone' | 'desktop'): void {
  const m = new Y.Map<unknown>()
  m.set('name', id)
  m.set('role', role)
  doc.getMap('devices').set(id, m)
}

let home: string
test.before(async () => { home = await mkdtemp(join(tmpdir(), 'dispatch-push-')) })
test.after(async () => { await rm(home, { recursive: true, force: true }) })

test('VAPID keys are made once and kept in the home, owner-only', async () => {
  const a = await loadOrCreateVapidKeys(home)
  const b = await loadOrCreateVapidKeys(home)
  assert.equal(a, b)
  assert.is(Buffer.from(a.publicKey, 'base64url').length, 65)
  assert.is((await stat(join(home, 'vapid.json'))).mode & 0o777, 0o600)
})

test('the sender passes the push service\'s VAPID check and the service decrypts the payload', async () => {
  const vapid = await loadOrCreateVapidKeys(home)
  const service = await pushService(vapid.publicKey)
  try {
    await sendPush(service.subscription, JSON.stringify({ taskId: '01TASK', title: 'Task done: $ echo hi' }), vapid)
    await service.until(1)
    assert.equal(service.rejected, [])
    assert.equal(JSON.parse(service.received[0]!.payload), { taskId: '01TASK', title: 'Task done: $ echo hi' })
    assert.is(service.received[0]!.path, '/push/phone-1')
  } finally { await service.close() }
})

test('another key than the one the page subscribed with is refused (the check is real)', async () => {
  const vapid = await loadOrCreateVapidKeys(home)
  const service = await pushService(vapid.publicKey)
  const other = await loadOrCreateVapidKeys(join(home, 'other'))
  try {
    const err = await sendPush(service.subscription, 'x', other).then(() => null, (e: Error) => e)
    assert.instance(err, PushRejectedError)
    assert.is((err as PushRejectedError).status, 400)
    assert.match(service.rejected[0]!, /k is the desktop's VAPID public key/)
  } finally { await service.close() }
})

test('TaskPush: a task the phone sent pushes when it asks a question and when it is done; a gone subscription is dropped', async () => {
  const vapid = await loadOrCreateVapidKeys(home)
  const service = await pushService(vapid.publicKey)
  const phoneDoc = new Y.Doc()
  const deskDoc = new Y.Doc()
  connect(phoneDoc, deskDoc)
  addDevice(phoneDoc, 'phone-1', 'phone')
  addDevice(phoneDoc, 'desk-A', 'desktop')
  const phone = new TaskBoard({ doc: phoneDoc, deviceId: 'phone-1', log: () => {} })
  const desk = new TaskBoard({ doc: deskDoc, deviceId: 'desk-A', log: () => {} })
  const subscriptions = await PushSubscriptions.open(home)
  await subscriptions.set('phone-1', service.subscription)
  const logs: string[] = []
  const push = new TaskPush({ board: desk, deviceId: 'desk-A', vapid, subscriptions, log: l => logs.push(l) })
  try {
    const t = phone.addTask({ text: '$ make release', target: 'desk-A' })
    desk.claimTask(t.id)
    desk.startTask(t.id)
    desk.awaitRequest(t.id, { id: 'q1', kind: 'question', question: 'which version?', askedAt: Date.now(), expiresAt: Date.now() + 60_000 })
    desk.resumeTask(t.id, 'answered')
    desk.finishTask(t.id, 'done', { result: 'released 1.2' })
    await push.settled()
    await service.until(2)
    assert.equal(service.rejected, [])
    const payloads = service.received.map(r => JSON.parse(r.payload) as PushPayload)
    assert.equal(payloads.map(p => [p.taskId, p.status]), [[t.id, 'awaiting-answer'], [t.id, 'done']])
    assert.match(payloads[0]!.body, 'which version?')
    assert.match(payloads[1]!.title, 'Task done: $ make release')
    assert.match(payloads[1]!.body, 'released 1.2')
    // Kept on disk for the next start.
    assert.equal((await PushSubscriptions.open(home)).get('phone-1'), service.subscription)
    service.expire()
    const u = phone.addTask({ text: '$ true', target: 'desk-A' })
    desk.claimTask(u.id)
    desk.startTask(u.id)
    desk.finishTask(u.id, 'failed', { error: 'nope' })
    await push.settled()
    assert.is(subscriptions.get('phone-1'), undefined)
    assert.is((await PushSubscriptions.open(home)).get('phone-1'), undefined)
    assert.ok(logs.some(l => l.includes('subscription is gone')), logs.join('\n'))
  } finally {
    push.stop()
    phone.destroy()
    desk.destroy()
    await service.close()
  }
})

test.run()
