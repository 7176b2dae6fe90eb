// `dispatch desktop` without --network says at start-up when it cannot cut the network of
// commands (here: no `unshare` on its PATH), as a notice event with --json; where it can, it
// says nothing of the kind.

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort, DispatchProcess } from './cli-process.ts'
import { startAgentDesktop } from './tasks-fixture.ts'
import { probeNoNetwork } from '../agent/sandbox.ts'

const root = await mkdtemp(join(tmpdir(), 'dnet-'))
const running = new Set<DispatchProcess>()

test.after(async () => {
  for (const p of running) p.child.kill('SIGKILL')
  await Promise.all(Array.from(running).map(async p => await p.exited))
  await rm(root, { recursive: true, force: true })
})

const notEnforced = (l: any): boolean => l.event === 'notice' && /network not granted, but it cannot be cut for commands here/.test(l.message)

test('no way to cut the network: one notice at start-up, naming why', async () => {
  const { proc } = await startAgentDesktop(join(root, 'a'), 'alpha', await freePort(), join(root, 'wa'), [], { PATH: join(root, 'no-such-bin') })
  running.add(proc)
  const notice = await proc.waitFor(notEnforced)
  assert.match(notice.message, /`\$` commands and Claude's bash can still reach the network/)
  await proc.stop()
  running.delete(proc)
  assert.is(proc.lines.filter(notEnforced).length, 1)
})

const probe = await probeNoNetwork()
if (!probe.enforced) {
  console.log(`SKIPPED network grant notice, enforced case: ${probe.reason}`)
  test.skip(`where the network can be cut: no such notice (skipped: ${probe.reason})`, () => {})
} else {
  test('where the network can be cut: no such notice', async () => {
    const { proc } = await startAgentDesktop(join(root, 'b'), 'beta', await freePort(), join(root, 'wb'))
    running.add(proc)
    await proc.waitFor(l => l.event === 'notice')
    await proc.stop()
    running.delete(proc)
    assert.is(proc.lines.filter(notEnforced).length, 0)
  })
}

test.run()
