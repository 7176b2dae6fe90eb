// Task board: ids, the status machine, writer rules (local refusal, remote ignore), malformed fields.

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import * as Y from 'yjs'
import { TaskBoard } from './task-board.ts'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { PrivateKey } from '@libp2p/interface'
import { signRecord, verifyRecord } from '../../core/trust/statement.ts'
import { RECEIPT_DOMAIN } from './receipt.ts'
import type { ReceiptKeys } from './receipt.ts'
import type { RuleViolation } from './task-board.ts'
import { newTaskId, taskIdTime, isTaskId } from './task-id.ts'
import { isReachable, canTransition } from './task-rules.ts'

const PHONE = 'phone-1'
const DESK = 'desk-A'
const OTHER = 'desk-B'
const REMOTE = { remote: true }

function addDevice (doc: Y.Doc, id: string, role: 'phone' | 'desktop'): void {
  const m = new Y.Map<unknown>()
  m.set('name', id)
  m.set('role', role)
  m.set('pairedAt', 1)
  doc.getMap('devices').set(id, m)
}

/** Two replicas (phone, desktop) plus a third desktop, synced by hand. */
function setup () {
  const phoneDoc = new Y.Doc()
  addDevice(phoneDoc, PHONE, 'phone')
  addDevice(phoneDoc, DESK, 'desktop')
  addDevice(phoneDoc, OTHER, 'desktop')
  const deskDoc = new Y.Doc()
  const otherDoc = new Y.Doc()
  const logs: string[] = []
  const violations: RuleViolation[] = []
  const mk = (doc: Y.Doc, id: string) => {
    const b = new TaskBoard({ doc, deviceId: id, log: (m) => logs.push(m) })
    b.on('rule-violation', (v) => violations.push(v))
    return b
  }
  const phone = mk(phoneDoc, PHONE)
  const desk = mk(deskDoc, DESK)
  const other = mk(otherDoc, OTHER)
  const sync = (...docs: Y.Doc[]) => {
    for (const a of docs) for (const b of docs) if (a !== b) Y.applyUpdate(b, Y.encodeStateAsUpdate(a, Y.encodeStateVector(b)), REMOTE)
  }
  const all = () => sync(phoneDoc, deskDoc, otherDoc)
  all()
  return { phoneDoc, deskDoc, otherDoc, phone, desk, other, sync, all, logs, violations }
}

function throwsNamed (fn: () => unknown, name: string): void {
  try { fn() } catch (err) {
    assert.is((err as Error).name, name, (err as Error).message)
    return
  }
  assert.unreachable(`expected ${name}`)
}

test('task ids sort by creation time and are monotonic within a millisecond', () => {
  const ids = [newTaskId(1000), newTaskId(1000), newTaskId(1000), newTaskId(2000), newTaskId(1500)]
  assert.ok(ids.every(isTaskId))
  assert.equal(ids.slice().sort(), ids, 'monotonic even when the clock steps back')
  assert.is(taskIdTime(ids[3]!), 2000)
  assert.is(taskIdTime(newTaskId(1_700_000_000_123)), 1_700_000_000_123)
  assert.is(taskIdTime('nope'), undefined)
})

test('status machine: single steps and reachability', () => {
  assert.ok(canTransition('queued', 'claimed'))
  assert.ok(canTransition('queued', 'cancelled'))
  assert.ok(canTransition('interrupted', 'queued'))
  assert.not.ok(canTransition('done', 'running'))
  assert.not.ok(canTransition('queued', 'running'))
  assert.not.ok(canTransition('running', 'claimed'))
  assert.ok(isReachable({ status: 'queued', attempt: 0 }, { status: 'done', attempt: 1 }))
  assert.ok(isReachable({ status: 'running', attempt: 1 }, { status: 'running', attempt: 2 }), 'via interrupted, queued, claimed')
  assert.ok(isReachable({ status: 'running', attempt: 1 }, { status: 'queued', attempt: 1 }), 'via interrupted')
  assert.not.ok(isReachable({ status: 'running', attempt: 1 }, { status: 'claimed', attempt: 1 }))
  assert.not.ok(isReachable({ status: 'done', attempt: 1 }, { status: 'running', attempt: 2 }))
  assert.not.ok(isReachable({ status: 'queued', attempt: 0 }, { status: 'done', attempt: 0 }), 'done needs a claim, which raises attempt')
  assert.not.ok(isReachable({ status: 'claimed', attempt: 2 }, { status: 'running', attempt: 1 }))
  assert.ok(isReachable({ status: 'interrupted', attempt: 1 }, { status: 'failed', attempt: 1 }))
})

test('a task goes from the phone to its desktop and back', () => {
  const s = setup()
  const t = s.phone.addTask({ text: 'summarise notes', target: DESK, scope: '/home/me/notes' })
  assert.is(t.status, 'queued')
  assert.is(t.createdBy, PHONE)
  s.all()
  assert.is(s.desk.get(t.id)?.text, 'summarise notes')
  s.desk.claimTask(t.id)
  s.desk.startTask(t.id)
  s.desk.appendLog(t.id, 'tool', 'read notes.md')
  s.desk.heartbeat(t.id)
  s.desk.finishTask(t.id, 'done', { result: 'three notes', outputs: [{ path: '/x', size: 1, sha256: 'a'.repeat(64), text: 'x' }] })
  s.all()
  const seen = s.phone.get(t.id)!
  assert.is(seen.status, 'done')
  assert.is(seen.attempt, 1)
  assert.is(seen.claimedBy, DESK)
  assert.is(seen.result, 'three notes')
  assert.is(seen.outputs[0]?.sha256, 'a'.repeat(64))
  assert.ok(s.phone.log(t.id).some((e) => e.kind === 'tool' && e.text === 'read notes.md'))
  assert.equal(s.violations, [])
})

test('wrong writers and illegal transitions are refused locally', () => {
  const s = setup()
  const t = s.phone.addTask({ text: 'x', target: DESK })
  s.all()
  throwsNamed(() => s.phone.claimTask(t.id), 'WrongWriterError')
  throwsNamed(() => s.other.claimTask(t.id), 'WrongWriterError')
  throwsNamed(() => s.desk.requestCancel(t.id), 'WrongWriterError')
  throwsNamed(() => s.desk.startTask(t.id), 'IllegalTransitionError')
  throwsNamed(() => s.desk.finishTask(t.id, 'done'), 'IllegalTransitionError')
  throwsNamed(() => s.desk.requeue(t.id), 'IllegalTransitionError')
  s.desk.claimTask(t.id)
  throwsNamed(() => s.desk.claimTask(t.id), 'IllegalTransitionError')
  s.desk.startTask(t.id)
  s.desk.finishTask(t.id, 'failed', { error: 'boom' })
  throwsNamed(() => s.desk.startTask(t.id), 'IllegalTransitionError')
  throwsNamed(() => s.desk.appendLog(t.id, 'text', 'late'), 'IllegalTransitionError')
  throwsNamed(() => s.phone.addTask({ text: 'x', target: 'nobody' }), 'UnknownTargetError')
  throwsNamed(() => s.phone.addTask({ text: 'x', target: PHONE }), 'UnknownTargetError')
  throwsNamed(() => s.phone.addTask({ text: 'x', target: DESK, createdBy: DESK }), 'WrongWriterError')
  throwsNamed(() => s.phone.addTask({ text: 'x'.repeat(40_000), target: DESK }), 'InvalidTaskFieldError')
  throwsNamed(() => s.phone.addTask({ text: 'x', target: DESK, scope: 'relative/dir' }), 'InvalidTaskFieldError')
  throwsNamed(() => s.phone.claimTask('01NOPE'), 'TaskNotFoundError')
})

test('cancel before it runs: queued -> cancelled by the desktop', () => {
  const s = setup()
  const t = s.phone.addTask({ text: 'x', target: DESK })
  s.phone.requestCancel(t.id)
  s.all()
  assert.ok(s.desk.get(t.id)!.cancelRequested)
  s.desk.finishTask(t.id, 'cancelled')
  s.all()
  assert.is(s.phone.get(t.id)!.status, 'cancelled')
})

test('remote changes that break the rules are ignored and logged', () => {
  const s = setup()
  const t = s.phone.addTask({ text: 'original', target: DESK })
  s.all()
  // a buggy phone writes the desktop's status and a claim for a desktop that is not the target
  const raw = s.phoneDoc.getMap('tasks').get(t.id) as Y.Map<unknown>
  raw.set('status', 'running')
  raw.set('attempt', 0)
  raw.set('claimedBy', OTHER)
  s.all()
  assert.is(s.desk.get(t.id)!.status, 'queued', 'queued -> running at attempt 0 is not reachable')
  assert.is(s.desk.get(t.id)!.claimedBy, undefined)
  assert.ok(s.violations.some((v) => v.taskId === t.id && v.field === 'claimedBy'))
  // the desktop's own claim repairs the raw fields
  s.desk.claimTask(t.id)
  s.all()
  assert.is(s.phone.get(t.id)!.status, 'claimed')
  assert.is(s.phone.get(t.id)!.claimedBy, DESK)
  // a buggy desktop rewrites the creator's text and withdraws a cancel
  s.phone.requestCancel(t.id)
  s.all()
  const deskRaw = s.deskDoc.getMap('tasks').get(t.id) as Y.Map<unknown>
  deskRaw.set('text', 'rm -rf /')
  deskRaw.set('cancelRequested', false)
  s.all()
  assert.is(s.phone.get(t.id)!.text, 'original')
  assert.is(s.phone.get(t.id)!.cancelRequested, true)
  assert.ok(s.violations.some((v) => v.field === 'text'))
  assert.ok(s.violations.some((v) => v.field === 'cancelRequested'))
  assert.ok(s.logs.some((l) => l.includes('ignored change')))
  // backwards status from the target itself is ignored too
  s.desk.startTask(t.id)
  s.all()
  deskRaw.set('status', 'claimed')
  s.all()
  assert.is(s.phone.get(t.id)!.status, 'running')
  // a finished task is frozen
  deskRaw.set('status', 'running')
  s.desk.finishTask(t.id, 'done', { result: 'ok' })
  s.all()
  ;(s.phoneDoc.getMap('tasks').get(t.id) as Y.Map<unknown>).set('result', 'forged')
  s.all()
  assert.is(s.desk.get(t.id)!.result, 'ok')
  assert.is(s.phone.get(t.id)!.result, 'ok')
})

test('several steps merged into one update are accepted (offline replica catches up)', () => {
  const s = setup()
  const t = s.phone.addTask({ text: 'x', target: DESK })
  s.sync(s.phoneDoc, s.deskDoc)
  s.desk.claimTask(t.id)
  s.desk.startTask(t.id)
  s.desk.markInterrupted(t.id)
  s.desk.requeue(t.id)
  s.desk.claimTask(t.id)
  s.desk.startTask(t.id)
  s.desk.finishTask(t.id, 'done', { result: 'second try' })
  // the third replica has never seen this task: it gets everything in one update
  s.sync(s.deskDoc, s.otherDoc)
  const seen = s.other.get(t.id)!
  assert.is(seen.status, 'done')
  assert.is(seen.attempt, 2)
  assert.is(seen.result, 'second try')
  assert.equal(s.violations, [])
})

test('a task first seen with an impossible state keeps the last valid one', () => {
  const doc = new Y.Doc()
  const m = new Y.Map<unknown>()
  const id = newTaskId()
  doc.getMap('tasks').set(id, m)
  m.set('id', id); m.set('text', 'x'); m.set('createdAt', 1); m.set('createdBy', PHONE); m.set('target', DESK)
  m.set('status', 'done') // attempt 0: never claimed
  m.set('result', 'forged')
  const violations: RuleViolation[] = []
  const b = new TaskBoard({ doc, deviceId: DESK, log: () => {} })
  b.on('rule-violation', (v) => violations.push(v))
  assert.is(b.get(id)!.status, 'queued')
  assert.is(b.get(id)!.result, 'forged', 'an unprovable field is taken (authorship is not knowable), a backwards status is not')
})

test('malformed creator fields mark the task so its desktop can fail it', () => {
  const s = setup()
  const tasks = s.phoneDoc.getMap('tasks')
  const huge = newTaskId()
  const m1 = new Y.Map<unknown>()
  tasks.set(huge, m1)
  m1.set('id', huge); m1.set('text', 'x'.repeat(2 * 1024 * 1024)); m1.set('createdAt', 1); m1.set('createdBy', PHONE); m1.set('target', DESK)
  const typed = newTaskId()
  const m2 = new Y.Map<unknown>()
  tasks.set(typed, m2)
  m2.set('id', typed); m2.set('text', 42); m2.set('createdAt', 'yesterday'); m2.set('createdBy', PHONE); m2.set('target', DESK); m2.set('cancelRequested', 'yes')
  tasks.set('not-a-map', 'hello')
  s.all()
  const a = s.desk.get(huge)!
  assert.match(a.malformed ?? '', /text: 2097152 characters, more than the limit/)
  assert.is(a.text, '', 'the megabytes are not carried in the view')
  const b = s.desk.get(typed)!
  assert.match(b.malformed ?? '', /text: expected text, got 42/)
  assert.match(b.malformed ?? '', /createdAt/)
  assert.match(b.malformed ?? '', /cancelRequested/)
  assert.is(s.desk.get('not-a-map'), undefined)
  // the desktop can still fail them
  s.desk.claimTask(huge); s.desk.startTask(huge); s.desk.finishTask(huge, 'failed', { error: a.malformed! })
  s.all()
  assert.is(s.phone.get(huge)!.status, 'failed')
})

test('tasks-change fires for remote changes and log appends; listeners that throw do not break it', () => {
  const s = setup()
  const seen: Array<[string[], boolean]> = []
  s.phone.on('tasks-change', () => { throw new Error('bad listener') })
  s.phone.on('tasks-change', (ids, local) => seen.push([ids, local]))
  const t = s.phone.addTask({ text: 'x', target: DESK })
  assert.equal(seen.at(-1), [[t.id], true])
  s.all()
  s.desk.claimTask(t.id)
  s.all()
  assert.equal(seen.at(-1), [[t.id], false])
  const before = seen.length
  s.desk.appendLog(t.id, 'text', 'thinking')
  s.all()
  assert.is(seen.length, before + 1)
  assert.ok(s.logs.some((l) => l.includes('bad listener')))
})

test('removeTask: creator only, finished only; devices are read through core Members', () => {
  const s = setup()
  const t = s.phone.addTask({ text: 'x', target: DESK })
  s.all()
  throwsNamed(() => s.phone.removeTask(t.id), 'IllegalTransitionError')
  s.desk.finishTask(t.id, 'cancelled')
  s.all()
  throwsNamed(() => s.desk.removeTask(t.id), 'WrongWriterError')
  s.phone.removeTask(t.id)
  s.all()
  assert.is(s.desk.get(t.id), undefined)
  assert.equal(s.phone.members.list().map((d) => [d.peerId, d.role]).sort(), [[DESK, 'desktop'], [OTHER, 'desktop'], [PHONE, 'phone']])
  // A revoked desktop receives no task: the board asks Members, the one reader of the devices map.
  s.phone.members.revoke(OTHER, PHONE)
  throwsNamed(() => s.phone.addTask({ text: 'y', target: OTHER }), 'UnknownTargetError')
  throwsNamed(() => s.phone.addTask({ text: 'y', target: PHONE }), 'UnknownTargetError')
})

async function signedSetup () {
  const keys = await Promise.all([0, 1, 2].map(async () => await generateKeyPair('Ed25519')))
  const [deskId, phoneId, evilId] = keys.map(k => peerIdFromPrivateKey(k).toString())
  const receiptsOf = (key: PrivateKey): ReceiptKeys => ({ sign: body => signRecord(key, RECEIPT_DOMAIN, body), verify: (peer, body, sig) => verifyRecord(peer, RECEIPT_DOMAIN, body, sig) })
  const docs = [new Y.Doc(), new Y.Doc(), new Y.Doc()]
  addDevice(docs[1], deskId, 'desktop')
  addDevice(docs[1], phoneId, 'phone')
  const violations: RuleViolation[] = []
  const boards = docs.map((doc, i) => new TaskBoard({ doc, deviceId: [deskId, phoneId, evilId][i], receipts: receiptsOf(keys[i]), log: () => {} }))
  boards[0].on('rule-violation', v => violations.push(v))
  const ids = [deskId, phoneId, evilId]
  const sync = async (from: number, to: number): Promise<void> => {
    Y.applyUpdate(docs[to], Y.encodeStateAsUpdate(docs[from], Y.encodeStateVector(docs[to])), { remote: ids[from] })
    await new Promise(resolve => setTimeout(resolve, 0))
  }
  const all = async (): Promise<void> => { for (let i = 0; i < 2; i++) for (const [a, b] of [[1, 0], [2, 0], [0, 1], [0, 2], [1, 2], [2, 1]]) await sync(a, b) }
  return { desk: boards[0], phone: boards[1], evil: boards[2], docs, deskId, violations, sync, all }
}

test('receipts: a result the target signed is verified; a forged done is unverified, ignored by the target, and the real result wins', async () => {
  const s = await signedSetup()
  const t = s.phone.addTask({ text: 'x', target: s.deskId })
  await s.all()
  // Forged before the run: the target keeps it queued, writes its state back, and runs it.
  const raw = s.docs[2].getMap('tasks').get(t.id) as Y.Map<unknown>
  s.docs[2].transact(() => { raw.set('status', 'done'); raw.set('attempt', 1); raw.set('result', 'forged') })
  await s.sync(2, 1)
  assert.is(s.phone.get(t.id)?.status, 'done')
  assert.is(s.phone.get(t.id)?.verified, false, 'no receipt: unverified')
  await s.sync(2, 0)
  assert.is(s.desk.get(t.id)?.status, 'queued', 'the target ignores it')
  assert.ok(s.violations.some(v => v.from !== undefined && /only this desktop writes/.test(v.reason)))
  s.desk.claimTask(t.id)
  s.desk.startTask(t.id)
  await s.all()
  // Forged during the run.
  s.docs[2].transact(() => { (s.docs[2].getMap('tasks').get(t.id) as Y.Map<unknown>).set('status', 'done'); (s.docs[2].getMap('tasks').get(t.id) as Y.Map<unknown>).set('result', 'forged again') })
  await s.sync(2, 0)
  assert.is(s.desk.get(t.id)?.status, 'running')
  s.desk.finishTask(t.id, 'done', { result: 'real' })
  await s.all()
  for (const b of [s.phone, s.evil, s.desk]) {
    assert.is(b.get(t.id)?.result, 'real')
    assert.is(b.get(t.id)?.verified, true)
  }
})

test('deletes: an unfinished task another member deletes is written back by its target; a finished one may be pruned', async () => {
  const s = await signedSetup()
  const t = s.phone.addTask({ text: 'keep me', target: s.deskId })
  await s.all()
  s.desk.claimTask(t.id)
  s.desk.startTask(t.id)
  await s.all()
  s.docs[2].transact(() => { for (const id of [...s.docs[2].getMap('tasks').keys()]) s.docs[2].getMap('tasks').delete(id) })
  await s.sync(2, 0)
  assert.is(s.desk.get(t.id)?.status, 'running', 'kept')
  assert.ok(s.violations.some(v => /delete of an unfinished task/.test(v.reason)))
  await s.all()
  assert.is(s.phone.get(t.id)?.text, 'keep me', 'written back everywhere')
  s.desk.finishTask(t.id, 'done', { result: 'survived' })
  await s.all()
  assert.is(s.phone.get(t.id)?.result, 'survived')
  assert.is(s.phone.get(t.id)?.verified, true)
  s.phone.removeTask(t.id)
  await s.all()
  assert.is(s.desk.get(t.id), undefined, 'a prune of a finished task still works')
})

test.run()
