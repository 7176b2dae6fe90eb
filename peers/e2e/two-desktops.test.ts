// One phone, two desktops, one shared space: a change made on desktop A (it renames itself)
// reaches desktop B through the phone, and B learns A as a member from the phone.

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { join } from 'node:path'
import { ok, freePort, startDesktop, openPair, makeScratch } from './cli-process.ts'

const { root, running, cleanup } = await makeScratch('dtwo-')
test.after(cleanup)

test('a second desktop pairs with the same phone; a change on A reaches B through the phone', async () => {
  const [deskA, deskB, phone] = [join(root, 'a'), join(root, 'b'), join(root, 'p')]
  const portA = await freePort()
  let a = await startDesktop(deskA, 'alpha', portA)
  running.add(a.proc)
  const b = await startDesktop(deskB, 'beta')
  running.add(b.proc)
  for (const desk of [deskA, deskB]) {
    const pair = await openPair(desk)
    await ok(phone, ['join', pair.invite, '--yes', '--name', 'pocket'])
    await pair.proc.waitFor(l => l.event === 'paired')
  }
  // The phone carries A's record to B (and B's to A): both now count the other as a member.
  await ok(phone, ['sync'])
  const nameOf = async (h: string, peerId: string): Promise<string | undefined> =>
    (await ok(h, ['devices', '--json']))[0].find((x: any) => x.peerId === peerId)?.name
  assert.is(await nameOf(deskB, a.ready.peerId), 'alpha')
  assert.is(await nameOf(deskA, b.ready.peerId), 'beta')

  // A renames itself (a write to its own `devices` record), on the same address.
  await a.proc.stop()
  running.delete(a.proc)
  a = await startDesktop(deskA, 'alpha-renamed', portA)
  running.add(a.proc)
  // A and B never connect to each other; the phone syncs with both.
  for (let i = 0; i < 20 && await nameOf(deskB, a.ready.peerId) !== 'alpha-renamed'; i++) await ok(phone, ['sync'])
  assert.is(await nameOf(deskB, a.ready.peerId), 'alpha-renamed')
  assert.is(await nameOf(phone, a.ready.peerId), 'alpha-renamed')
})

test.run()
