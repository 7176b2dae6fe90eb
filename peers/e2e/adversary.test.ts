// A malicious but paired member (adversary-fixture.ts: written only against the public engine API)
// attacks membership on a real `dispatch desktop` with real phones: un-revoking a revoked phone
// (and re-admitting it), planting a never-paired identity, revoking the desktop. Each is refused
// or harmless, and the desktop says so in a `refused` event naming the member.
// Task attacks (forged results, deletes, 20 MB) are in adversary-tasks.test.ts.

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import * as Y from 'yjs'
import { createSyncNode, MemoryStore, TRUST_MAP } from '../../core/index.ts'
import { ok, dispatch } from './cli-process.ts'
import { startScene, until, refusedBy, signAsMallory } from './adversary-fixture.ts'
import type { Scene } from './adversary-fixture.ts'

let scene: Scene
let d: Scene['d']
let mallory: Scene['mallory']
let desk: string, pocket: string, tablet: string
test.before(async () => {
  scene = await startScene('dadv-', ['pocket', 'tablet'])
  ;({ d, mallory, desk } = scene)
  ;({ pocket, tablet } = scene.phones)
})
test.after(async () => { await scene.cleanup() })

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
  const line = await refusedBy(scene, mallory.node.peerId, /remove a signed revocation/)
  assert.match(line.name, /mallory/)
  // And re-admit it, signed with mallory's own key: no right to admit, and nothing un-revokes anyway.
  signAsMallory(mallory, { kind: 'admit', peer: pocketId, role: 'phone', rights: [] })
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
  scene.nodes.push(ghost)
  // The ghost believes in its admission: it syncs the space with the desktop as soon as it connects.
  const ghostSpace = await ghost.openSpace('dispatch', { storage: new MemoryStore(), allow: [d.ready.peerId] })
  // Signed by mallory (its own key), and an unsigned record besides.
  signAsMallory(mallory, { kind: 'admit', peer: ghost.peerId, role: 'desktop', rights: ['admin'] })
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
  await refusedBy(scene, ghost.peerId, /not a member/)
  // The ghost's own session ends when the refusal reaches it.
  await until(() => ghostSpace.connectedPeers().length === 0, "the ghost's session ended")
  assert.is(ghostSpace.doc.getMap('tasks').size, 0, 'the ghost received no task')
  // Nor does a phone send it tasks: the planted record reached the tablet, the admission did not count.
  await ok(tablet, ['sync'])
  const toGhost = await dispatch(tablet, ['add', '--to', ghost.peerId, '$ echo x'])
  assert.is(toGhost.code, 1)
  assert.match(toGhost.stderr, /not admitted by this device/)
})

test('revoke the desktop: a revocation signed by a phone is ignored everywhere that matters', async () => {
  signAsMallory(mallory, { kind: 'revoke', peer: d.ready.peerId })
  await refusedBy(scene, mallory.node.peerId, /may not revoke this device/)
  const [synced] = await ok(tablet, ['sync', '--json'])
  assert.is(synced.synced.length, 1, 'the other phone still syncs with the desktop')
  const fromTablet = (await ok(tablet, ['devices', '--json']))[0].find((x: any) => x.name === 'desk')
  assert.is(fromTablet.revoked, false)
})

test.run()
