// Pairing through the real CLI, every device its own process on 127.0.0.1: pair with --yes,
// both list each other, restart both and they sync again without a QR; pair from a PNG;
// both control-channel paths (a desktop running, or nothing holding the home); both people
// confirming the same code on their terminals, the desktop's through the control socket.

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { dispatch, ok, freePort, startDesktop, openPair, makeScratch, DispatchProcess } from './cli-process.ts'

const { root, home, running, cleanup } = await makeScratch('dpair-')
test.after(cleanup)

test('pair with --yes through a running desktop; both list each other; restart both, they resync', async () => {
  const [desk, phone] = [home(), home()]
  const port = await freePort()
  const d = await startDesktop(desk, 'desk', port)
  running.add(d.proc)
  const pair = await openPair(desk)
  const joined = await ok(phone, ['join', pair.invite, '--yes', '--name', 'pocket', '--json'])
  assert.equal(joined, [{ event: 'paired', peerId: d.ready.peerId, name: 'desk' }])
  const paired = await pair.proc.waitFor(l => l.event === 'paired')
  assert.is(paired.name, 'pocket')
  assert.is(await pair.proc.exited, 0)
  // The secret appears once, in the invite line, and nowhere else.
  const secretFree = JSON.stringify(pair.proc.lines.slice(1)) + pair.proc.stderr + d.proc.stderr + JSON.stringify(d.proc.lines)
  assert.not.ok(secretFree.includes(pair.invite.slice(10)))

  const [deskList] = await ok(desk, ['devices', '--json'])
  assert.equal(deskList.map((x: any) => [x.peerId, x.name, x.role, x.revoked]), [[paired.peerId, 'pocket', 'phone', false]])
  const [phoneList] = await ok(phone, ['devices', '--json'])
  assert.equal(phoneList.map((x: any) => [x.peerId, x.name, x.role, x.revoked]), [[d.ready.peerId, 'desk', 'desktop', false]])
  assert.is((await stat(join(phone, 'identity.key'))).mode & 0o777, 0o600)
  assert.not.ok((await readFile(join(phone, 'config.json'), 'utf8')).includes(pair.invite.slice(10)))

  // Restart both: the desktop comes back on its address, the phone finds it from its config.
  await d.proc.stop()
  running.delete(d.proc)
  const d2 = await startDesktop(desk, 'desk', port)
  running.add(d2.proc)
  assert.is(d2.ready.peerId, d.ready.peerId)
  const [synced] = await ok(phone, ['sync', '--json'])
  assert.equal(synced.synced.map((s: any) => s.peerId), [d.ready.peerId])
  const [online] = await ok(desk, ['devices', '--json'])
  assert.is(online.length, 1)
  await d2.proc.stop()
  running.delete(d2.proc)
})

test('pair with nothing holding the home (pair opens it itself), from a PNG of the QR', async () => {
  const [desk, phone] = [home(), home()]
  const png = join(root, 'invite.png')
  const pair = await openPair(desk, ['--png', png, '--listen', '/ip4/127.0.0.1/tcp/0'])
  running.add(pair.proc)
  // While `pair` holds the home, other verbs go through its control socket.
  assert.equal((await ok(desk, ['devices', '--json']))[0], [])
  const joined = await ok(phone, ['join', '--image', png, '--yes', '--name', 'pocket', '--json'])
  assert.is(joined[0].event, 'paired')
  assert.is((await pair.proc.waitFor(l => l.event === 'paired')).name, 'pocket')
  assert.is(await pair.proc.exited, 0)
  running.delete(pair.proc)
  // Nothing holds either home now: devices opens it itself.
  const [list] = await ok(desk, ['devices', '--json'])
  assert.equal(list.map((x: any) => x.name), ['pocket'])
  assert.is(list[0].online, false)
})

test('join refuses a bare multiaddr and garbage locally, with exit 1 and one line', async () => {
  const r = await dispatch(home(), ['join', '/ip4/127.0.0.1/tcp/4317/p2p/12D3KooWGRUVh2VMEhGbPjcWwuoNKjnGSyKUxwFsQMaLyyJhuLkS'])
  assert.is(r.code, 1)
  assert.match(r.stderr, /bare multiaddr.*no secret/)
  assert.is(r.stderr.trim().split('\n').length, 1)
})

test('without --yes both terminals show the same code and ask; the desktop answers through the running desktop; a "no" pairs nobody', async () => {
  const [desk, phone, other] = [home(), home(), home()]
  const d = await startDesktop(desk, 'desk')
  running.add(d.proc)
  const code = (text: string): string | undefined => /verification code (\d{6})/.exec(text)?.[1]
  // "yes" on both sides.
  const pair = new DispatchProcess(desk, ['pair', '--json'])
  running.add(pair)
  const { invite } = await pair.waitFor(l => l.event === 'invite')
  const joining = dispatch(phone, ['join', invite, '--name', 'pocket'], { input: 'y\n' })
  await pair.waitFor(() => code(pair.stderr) !== undefined)
  pair.child.stdin!.end('y\n')
  const joined = await joining
  assert.is(joined.code, 0, joined.stderr)
  assert.is(code(joined.stderr), code(pair.stderr))
  assert.is((await pair.waitFor(l => l.event === 'paired')).name, 'pocket')
  assert.is(await pair.exited, 0)

  // "no" at the desktop: the phone is told, and nobody is added on either side.
  const again = new DispatchProcess(desk, ['pair', '--json'])
  running.add(again)
  const second = await again.waitFor(l => l.event === 'invite')
  const refused = dispatch(other, ['join', second.invite, '--name', 'stranger'], { input: 'y\n' })
  await again.waitFor(() => code(again.stderr) !== undefined)
  again.child.stdin!.end('n\n')
  const r = await refused
  assert.is(r.code, 1)
  assert.match(r.stderr, /did not confirm/)
  assert.is.not(await again.exited, 0)
  const [list] = await ok(desk, ['devices', '--json'])
  assert.equal(list.map((x: any) => x.name), ['pocket'])
})

test.run()
