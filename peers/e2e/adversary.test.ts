// A malicious but paired member, written only against the public engine API (createSyncNode,
// openSpace, acceptInvite from core/index.ts, and plain Yjs on the space's document), attacks a
// real `dispatch desktop` process with real phones. Each attack is refused or harmless, and the
// desktop says so in a `refused` event (its --json log) naming the member:
// un-revoking a revoked phone, planting a never-paired identity, revoking the desktop, forged
// `done` before and during a run, deleting every task, and 20 MB in a top-level type.

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import * as Y from 'yjs'
import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { createSyncNode, acceptInvite, MemoryStore, TRUST_MAP, signStatement } from '../../core/index.ts'
import type { Space, SyncNode } from '../../core/index.ts'
import { ok, dispatch, freePort, openPair, makeScratch } from './cli-process.ts'
import { startAgentDesktop, pairPhone } from './tasks-fixture.ts'

const { root, home, running, cleanup } = await makeScratch('dadv-')
const nodes: SyncNode[] = []
test.after(async () => {
  await Promise.all(nodes.map(async n => await n.stop()))
  await cleanup()
})

const desk = home()
const work = join(root, 'work')
const pocket = home()
const tablet = home()
let d: Awaited<ReturnType<typeof startAgentDesktop>>
let mallory: { node: SyncNode, space: Space, key: PrivateKey }

/**
 * The attacker: an engine node that pairs with the desktop like any phone, then writes what it
 * likes. It opens its space without an identity, so its own engine's gate does not stand in its
 * way (it would write back the revocations it deletes), and signs with its key by hand.
 */
async function malicious (name: string): Promise<{ node: SyncNode, space: Space, key: PrivateKey }> {
  const key = await generateKeyPair('Ed25519')
  const node = await createSyncNode({ listen: [], privateKey: key })
  nodes.push(node)
  const space = await node.openSpace('dispatch', { storage: new MemoryStore(), identity: undefined })
  const pair = await openPair(desk)
  const accepted = await acceptInvite(node, space, pair.invite, { name, role: 'phone' })
  await pair.proc.waitFor(l => l.event === 'paired')
  await node.connect(accepted.addrs)
  await until(() => space.session(d.ready.peerId)?.synced === true, 'mallory synced with the desktop')
  return { node, space, key }
}

/** Publish a statement signed with mallory's own key (valid signature, no right behind it). */
function signAsMallory (statement: { kind: 'admit', peer: string, role: string, rights: string[] } | { kind: 'revoke', peer: string }): void {
  const signed = signStatement(mallory.key, { ...statement, space: 'dispatch', by: mallory.node.peerId, at: Date.now() } as any)
  mallory.space.doc.getMap(TRUST_MAP).set(signed.sig, signed.body)
}

async function until (check: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!await check()) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`)
    await new Promise(resolve => setTimeout(resolve, 50))
  }
}

/** The desktop's `refused` event naming `peer` whose reason matches. */
async function refusedBy (peer: string, reason: RegExp, timeoutMs = 30_000): Promise<any> {
  return await d.proc.waitFor(l => l.event === 'refused' && l.peer === peer && reason.test(l.reason), timeoutMs)
}

const taskMap = (id: string): Y.Map<unknown> => mallory.space.doc.getMap('tasks').get(id) as Y.Map<unknown>

test.before(async () => {
  d = await startAgentDesktop(desk, 'desk', await freePort(), work)
  running.add(d.proc)
  await pairPhone(desk, pocket, 'pocket')
  await pairPhone(desk, tablet, 'tablet')
  mallory = await malicious('mallory')
})

test('un-revoke: deleting the revocation (and the devices fields) leaves the phone revoked, and is written back', async () => {
  await ok(desk, ['revoke', 'pocket'])
  const pocketId = (await ok(desk, ['devices', '--json']))[0].find((x: any) => x.name === 'pocket').peerId
  const trust = mallory.space.doc.getMap(TRUST_MAP)
  const revocationsOfPocket = (): string[] => [...trust.entries()].filter(([, body]) => String(body).includes('"revoke"') && String(body).includes(pocketId)).map(([sig]) => sig)
  await until(() => revocationsOfPocket().length > 0, 'mallory has the revocation')
  const revocations = revocationsOfPocket()
  mallory.space.doc.transact(() => {
    for (const sig of revocations) trust.delete(sig)
    const record = mallory.space.doc.getMap('devices').get(pocketId) as Y.Map<unknown> | undefined
    record?.delete('revokedAt')
    record?.delete('revokedBy')
  })
  const line = await refusedBy(mallory.node.peerId, /remove a signed revocation/)
  assert.match(line.name, /mallory/)
  // And re-admit it, signed with mallory's own key: no right to admit, and nothing un-revokes anyway.
  signAsMallory({ kind: 'admit', peer: pocketId, role: 'phone', rights: [] })
  await until(() => revocations.every(sig => trust.has(sig)), 'the desktop wrote the revocation back')
  const r = await dispatch(pocket, ['sync'])
  assert.is(r.code, 1, 'the revoked phone stays out')
  assert.match(r.stderr, /refused/)
  const list = (await ok(desk, ['devices', '--json']))[0]
  assert.is(list.find((x: any) => x.name === 'pocket').revoked, true)
  assert.ok(list.find((x: any) => x.name === 'mallory').warnings > 0, 'a warning counted against mallory')
})

test('plant: an identity mallory admits (signed, but without the right) or writes unsigned is refused at the gate', async () => {
  const ghost = await createSyncNode({ listen: [] })
  nodes.push(ghost)
  // The ghost believes in its admission: it syncs the space with the desktop as soon as it connects.
  const ghostSpace = await ghost.openSpace('dispatch', { storage: new MemoryStore(), allow: [d.ready.peerId] })
  // Signed by mallory (its own key), and an unsigned record besides.
  signAsMallory({ kind: 'admit', peer: ghost.peerId, role: 'desktop', rights: ['admin'] })
  const planted = new Y.Map<unknown>()
  mallory.space.doc.transact(() => {
    mallory.space.doc.getMap('devices').set(ghost.peerId, planted)
    planted.set('name', 'ghost'); planted.set('role', 'desktop'); planted.set('pairedBy', d.ready.peerId)
  })
  // The desktop notes the admission it does not count (a line on stderr; not a warning: a phone may vouch for a second desktop).
  await until(() => /admission signed by a device without the admin right/.test(d.proc.stderr), 'the desktop has the planted admission')
  await until(async () => (await ok(desk, ['devices', '--json']))[0].some((x: any) => x.peerId === ghost.peerId), 'the desktop has the planted record')
  const seen = (await ok(desk, ['devices', '--json']))[0].find((x: any) => x.peerId === ghost.peerId)
  assert.is(seen.verified, false, 'listed, but not admitted here')
  // Refused at the connection (no invite open) or, within an invite's window, at the sync stream.
  await ghost.connect(d.ready.addrs).then(() => {}, () => {})
  await refusedBy(ghost.peerId, /not a member/)
  assert.is(ghostSpace.connectedPeers().length, 0)
  assert.is(ghostSpace.doc.getMap('tasks').size, 0, 'the ghost received no task')
  // Nor does a phone send it tasks: the planted record reached the tablet, the admission did not count.
  await ok(tablet, ['sync'])
  const toGhost = await dispatch(tablet, ['add', '--to', ghost.peerId, '$ echo x'])
  assert.is(toGhost.code, 1)
  assert.match(toGhost.stderr, /not admitted by this device/)
})

test('revoke the desktop: a revocation signed by a phone is ignored everywhere that matters', async () => {
  signAsMallory({ kind: 'revoke', peer: d.ready.peerId })
  await refusedBy(mallory.node.peerId, /may not revoke this device/)
  const [synced] = await ok(tablet, ['sync', '--json'])
  assert.is(synced.synced.length, 1, 'the other phone still syncs with the desktop')
  const fromTablet = (await ok(tablet, ['devices', '--json']))[0].find((x: any) => x.name === 'desk')
  assert.is(fromTablet.revoked, false)
})

test('forged done before the run: a task created already "done" still runs, and its signed result arrives', async () => {
  // Mallory creates the task itself (a paired phone may send tasks) with a forged outcome in the same update.
  const id = taskId(Date.now())
  mallory.space.doc.transact(() => {
    const t = new Y.Map<unknown>()
    mallory.space.doc.getMap('tasks').set(id, t)
    for (const [k, v] of Object.entries({ id, text: '$ echo real-before', createdAt: Date.now(), createdBy: mallory.node.peerId, target: d.ready.peerId, cancelRequested: false, status: 'done', attempt: 1, result: 'forged', finishedAt: Date.now() })) t.set(k, v)
  })
  await refusedBy(mallory.node.peerId, /only this desktop writes the progress/)
  await d.proc.waitFor(l => l.event === 'task-end' && l.id === id, 60_000)
  const done = (await ok(desk, ['show', id, '--json']))[0]
  assert.is(done.result.trim(), 'real-before')
  assert.is(done.verified, true)
  await until(() => String(taskMap(id)?.get('result')).trim() === 'real-before', 'the real result reached mallory too')
  await ok(tablet, ['sync'])
  const onTablet = (await ok(tablet, ['show', id, '--json']))[0]
  assert.is(onTablet.result.trim(), 'real-before')
  assert.is(onTablet.verified, true)
})

/** A task id as the app mints them (10 characters of time, 16 random, Crockford base 32). */
function taskId (now: number): string {
  const alphabet = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'
  let time = ''
  for (let i = 0, ms = now; i < 10; i++, ms = Math.floor(ms / 32)) time = alphabet[ms % 32] + time
  return time + Array.from(crypto.getRandomValues(new Uint8Array(16)), b => alphabet[b & 31]).join('')
}

test('forged done during the run: ignored by the desktop; the real result wins on every device', async () => {
  const [added] = await ok(tablet, ['add', '--json', '--to', 'desk', '$ sleep 3; echo real-during'])
  await until(() => taskMap(added.id)?.get('status') === 'running', 'mallory sees it running')
  mallory.space.doc.transact(() => { const t = taskMap(added.id); t.set('status', 'done'); t.set('result', 'forged-during') })
  await refusedBy(mallory.node.peerId, /only this desktop writes the progress/)
  await until(() => taskMap(added.id)?.get('result') === 'real-during\n' || String(taskMap(added.id)?.get('result')).trim() === 'real-during', 'the real result reached mallory too', 30_000)
  await ok(tablet, ['sync'])
  const onTablet = (await ok(tablet, ['show', added.id, '--json']))[0]
  assert.is(onTablet.result.trim(), 'real-during')
  assert.is(onTablet.verified, true)
})

test('delete every task: unfinished ones are kept and written back by the desktop; the running one finishes', async () => {
  const [added] = await ok(tablet, ['add', '--json', '--to', 'desk', '$ sleep 3; echo survived'])
  await until(() => taskMap(added.id)?.get('status') === 'running', 'mallory sees it running')
  mallory.space.doc.transact(() => { for (const id of [...mallory.space.doc.getMap('tasks').keys()]) mallory.space.doc.getMap('tasks').delete(id) })
  await refusedBy(mallory.node.peerId, /delete of an unfinished task/)
  await d.proc.waitFor(l => l.event === 'task-end' && l.id === added.id, 60_000)
  await ok(tablet, ['sync'])
  const onTablet = (await ok(tablet, ['show', added.id, '--json']))[0]
  assert.is(onTablet.result.trim(), 'survived')
  assert.is(onTablet.verified, true)
})

test('20 MB in a new top-level type: refused whole, the session closed, the desktop store stays small', async () => {
  const before = await dirBytes(join(desk, 'store'))
  mallory.space.doc.getText('junk').insert(0, 'x'.repeat(20 * 1024 * 1024 + 1))
  // 20 MB cross the loopback in well under a second on an idle machine; a loaded one gets time.
  await refusedBy(mallory.node.peerId, /top-level type "junk"/, 120_000)
  const after = await dirBytes(join(desk, 'store'))
  assert.ok(after - before < 1024 * 1024, `the store grew by ${after - before} bytes`)
  // The desktop works on: the tablet's next task runs.
  const [added] = await ok(tablet, ['add', '--json', '--wait', '--to', 'desk', '$ echo still-here'])
  assert.is(added.task.result.trim(), 'still-here')
  assert.is(added.task.verified, true)
})

async function dirBytes (dir: string): Promise<number> {
  let total = 0
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name)
    total += entry.isDirectory() ? await dirBytes(p) : (await stat(p)).size
  }
  return total
}

test.run()
