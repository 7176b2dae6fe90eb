// Bad input to the real `dispatch` command that needs a paired space (used invites, revoked
// devices, a missing folder, empty `add` values): a non-zero exit and exactly one line on stderr
// that says what happened and what to do, never a stack trace. One real desktop and phone.

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { join } from 'node:path'
import { dispatch, ok, openPair, freePort, makeScratch } from './cli-process.ts'
import type { RunResult } from './cli-process.ts'
import { startAgentDesktop, pairPhone } from './tasks-fixture.ts'
import { expectOneLine } from './one-line-error.ts'

const scratch = await makeScratch('dbadin-')
const { home, running, root } = scratch
test.after(scratch.cleanup)

/** One bad input: how to run it (given the shared paired world) and what the one line must say. */
interface Case { name: string, run: (w: World) => Promise<RunResult>, code: number, says: RegExp }

interface World { desk: string, phone: string, work: string }

let world: World | undefined
async function shared (): Promise<World> {
  if (world !== undefined) return world
  const desk = home()
  const phone = home()
  const work = join(root, 'work')
  const d = await startAgentDesktop(desk, 'desk', await freePort(), work)
  running.add(d.proc)
  await pairPhone(desk, phone)
  world = { desk, phone, work }
  return world
}

/** A new phone home, joined to the shared desktop as `name`. */
async function joinedPhone (w: World, name: string): Promise<string> {
  const phone = home()
  const pair = await openPair(w.desk)
  running.add(pair.proc)
  await ok(phone, ['join', pair.invite, '--yes', '--name', name])
  await pair.proc.exited
  return phone
}

const cases: Case[] = [
  {
    name: 'join with an invite another device already used',
    run: async w => {
      const pair = await openPair(w.desk)
      running.add(pair.proc)
      await ok(home(), ['join', pair.invite, '--yes', '--name', 'first'])
      await pair.proc.exited
      return await dispatch(home(), ['join', pair.invite, '--yes', '--name', 'second'])
    },
    code: 1,
    says: /already used|no open invite/
  },
  {
    name: 'join again after this device was revoked',
    run: async w => {
      const phone = await joinedPhone(w, 'gone')
      await ok(w.desk, ['revoke', 'gone'])
      const again = await openPair(w.desk)
      running.add(again.proc)
      return await dispatch(phone, ['join', again.invite, '--yes', '--name', 'gone'])
    },
    code: 1,
    says: /revoked/
  },
  {
    name: 'sync on a phone whose only desktop it revoked',
    run: async w => {
      const phone = await joinedPhone(w, 'lonely')
      await ok(phone, ['revoke', 'desk'])
      return await dispatch(phone, ['sync'])
    },
    code: 1,
    says: /revoked/
  },
  {
    name: 'a task whose folder does not exist on the desktop (add --wait --json)',
    run: async w => await dispatch(w.phone, ['add', '$ pwd', '--in', join(w.work, 'missing'), '--wait', '--json']),
    code: 1,
    says: /does not exist/
  },
  {
    name: 'add --to \'\'',
    run: async w => await dispatch(w.phone, ['add', '$ true', '--to', '']),
    code: 2,
    says: /--to/
  },
  {
    name: 'add --in \'\'',
    run: async w => await dispatch(w.phone, ['add', '$ true', '--in', '']),
    code: 2,
    says: /--in/
  }
]

for (const c of cases) {
  test(c.name, async () => { expectOneLine(await c.run(await shared()), c.code, c.says) })
}

test.run()
