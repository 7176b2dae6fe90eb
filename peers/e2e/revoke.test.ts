// Revocation through the real CLI: while the phone is online its connection closes within
// 1 s and its next sync fails clearly; while it is offline, it is refused at the gate on return.

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { controlClient } from '../home/control.ts'
import { API_INPUTS } from '../app/api.ts'
import type { DispatchApi } from '../app/api.ts'
import { dispatch, ok, startDesktop, openPair, DispatchProcess, makeScratch } from './cli-process.ts'

const { home, running, cleanup } = await makeScratch('drevoke-')
test.after(cleanup)

async function pairPhone (desk: string, name: string): Promise<string> {
  const phone = home()
  const pair = await openPair(desk)
  await ok(phone, ['join', pair.invite, '--yes', '--name', name])
  await pair.proc.waitFor(l => l.event === 'paired')
  return phone
}

test('revoke while the phone is online: closed within 1 s, next sync refused', async () => {
  const desk = home()
  const d = await startDesktop(desk, 'desk')
  running.add(d.proc)
  const phone = await pairPhone(desk, 'pocket')
  const follow = new DispatchProcess(phone, ['sync', '--follow', '--json'])
  running.add(follow)
  await follow.waitFor(l => l.event === 'synced')
  const [revoked] = await ok(desk, ['revoke', 'pocket', '--json'])
  const revokedAt = Date.now()
  assert.is(revoked.name, 'pocket')
  const gone = await follow.waitFor(l => l.event === 'disconnected' || l.event === 'refused')
  const goneAt = follow.times[follow.lines.indexOf(gone)]
  assert.ok(goneAt - revokedAt < 1000, `closed ${goneAt - revokedAt} ms after revoke returned`)
  await follow.stop()
  running.delete(follow)
  const r = await dispatch(phone, ['sync'])
  assert.is(r.code, 1)
  assert.match(r.stderr, /desk refused/)
  const [list] = await ok(desk, ['devices', '--json'])
  assert.equal(list.map((x: any) => [x.name, x.revoked, x.online]), [['pocket', true, false]])
})

test('revoke while the phone is offline: refused at the gate when it comes back', async () => {
  const desk = home()
  const d = await startDesktop(desk, 'desk')
  running.add(d.proc)
  const phone = await pairPhone(desk, 'pocket')
  const other = await pairPhone(desk, 'tablet')
  await ok(desk, ['revoke', 'pocket'])
  const before = (await controlClient<DispatchApi>(desk, API_INPUTS).status({})).refusals
  const r = await dispatch(phone, ['sync'])
  assert.is(r.code, 1)
  assert.match(r.stderr, /desk refused the connection/, r.stderr)
  const after = (await controlClient<DispatchApi>(desk, API_INPUTS).status({})).refusals
  assert.ok(after.connection > before.connection, 'refused at the connection gate')
  assert.is(after.sync, 0)
  // The other phone is unaffected.
  const [synced] = await ok(other, ['sync', '--json'])
  assert.is(synced.synced.length, 1)
})

test.run()
