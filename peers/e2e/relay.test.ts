// Issue 6 through the CLI: `dispatch relay`, a desktop holding a slot on it (`--relay`, kept
// in config.json), a phone paired from an invite that carries only the relay address, and a
// task that runs and comes back.

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { decodeInvite, encodeInvite } from '../../core/index.ts'
import { ok, openPair, freePort, DispatchProcess } from './cli-process.ts'
import { startAgentDesktop, startWatch, addAll, tasksOf } from './tasks-fixture.ts'

const root = await mkdtemp(join(tmpdir(), 'drelay-'))
const running: DispatchProcess[] = []
const track = (p: DispatchProcess): DispatchProcess => { running.push(p); return p }

test.after(async () => {
  for (const p of running) if (p.child.exitCode === null) p.child.kill('SIGKILL')
  await Promise.all(running.map(async p => await p.exited))
  await rm(root, { recursive: true, force: true })
})

test('pairing and a task through `dispatch relay` when the invite holds only the relay address', async () => {
  const relay = track(new DispatchProcess(join(root, 'relay'), ['relay', '--json', '--listen', '/ip4/127.0.0.1/tcp/0']))
  const ready = await relay.waitFor(l => l.event === 'ready')
  assert.ok(ready.addrs.length > 0 && ready.addrs.every((a: string) => a.endsWith(`/p2p/${ready.peerId}`)))

  const desk = join(root, 'desk')
  const phone = join(root, 'phone')
  const work = join(root, 'work')
  const d = await startAgentDesktop(desk, 'studio', await freePort(), work, ['--relay', ready.addrs[0]])
  track(d.proc)
  const config = JSON.parse(await readFile(join(desk, 'config.json'), 'utf8'))
  assert.equal(config.relays, [ready.addrs[0]])

  // Wait for the reservation to show in an invite, then keep only the relay address.
  let invite = ''
  for (let i = 0; i < 40 && invite === ''; i++) {
    const pair = await openPair(desk)
    const decoded = decodeInvite(pair.invite)
    const circuit = decoded.addrs.filter(a => a.toString().includes('/p2p-circuit'))
    if (circuit.length > 0) {
      assert.ok(decoded.addrs.indexOf(circuit[0]) > decoded.addrs.findIndex(a => !a.toString().includes('/p2p-circuit')), 'relay addresses come after the direct ones')
      invite = encodeInvite({ ...decoded, addrs: circuit })
      track(pair.proc)
      await ok(phone, ['join', invite, '--yes', '--name', 'pocket'])
      await pair.proc.waitFor(l => l.event === 'paired')
    } else {
      await pair.proc.stop()
      await new Promise(resolve => setTimeout(resolve, 250))
    }
  }
  assert.ok(invite !== '', 'the desktop never listed a relay address in its invite')

  track(await startWatch(phone))
  const [ack] = await addAll(phone, ['$ echo through the relay'], ['--to', 'studio'])
  const deadline = Date.now() + 60_000
  for (;;) {
    const task = (await tasksOf(phone)).find(t => t.id === ack.id)
    if (task?.status === 'done') { assert.match(task.result, /through the relay/); break }
    if (Date.now() > deadline) throw new Error(`task not done: ${JSON.stringify(task)}`)
    await new Promise(resolve => setTimeout(resolve, 300))
  }
})

test.run()
