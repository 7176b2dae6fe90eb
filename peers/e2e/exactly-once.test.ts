// Exactly once after kill -9 (issue 13): three rounds of a `dispatch desktop` killed with -9
// while its command runs, then started again. The command writes its start and end times
// (nanoseconds, with its pid) to a file; afterwards each round has one completion line, and
// no two attempts were alive at once (every attempt ended before the next one started).

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtemp, mkdir, readFile, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ok, freePort, DispatchProcess } from './cli-process.ts'
import { startAgentDesktop, pairPhone, startWatch } from './tasks-fixture.ts'

const root = await mkdtemp(join(tmpdir(), 'donce-'))
const [desk, phone, work] = [join(root, 'desk'), join(root, 'phone'), join(root, 'work')]
const port = await freePort()
const running = new Set<DispatchProcess>()
const roundDirs: string[] = []
let desktop: DispatchProcess
let watch: DispatchProcess

const startDesk = async (): Promise<void> => {
  desktop = (await startAgentDesktop(desk, 'alpha', port, work)).proc
  running.add(desktop)
}

/**
 * The first attempt (no `first` file yet) sleeps far longer than the test, so it is surely
 * alive when the desktop comes back; a retry sleeps 1 s. A SIGTERM ends the sleep, and the
 * shell's EXIT trap writes the end time. SIGPIPE is ignored: once the desktop is gone, the
 * shell's "Terminated" on stderr would kill it with SIGPIPE before its trap could write.
 */
const command = (dir: string): string => [
  `R=${dir}`,
  'trap \'\' PIPE',
  'if [ -e "$R/first" ]; then d=1; else : > "$R/first"; d=300; fi',
  'trap \'echo "end $$ $(date +%s%N)" >> "$R/times"\' EXIT',
  'trap \'exit 143\' TERM',
  'echo "start $$ $(date +%s%N)" >> "$R/times"',
  'sleep $d',
  'echo run >> "$R/marker"'
].join('; ')

async function fileText (file: string): Promise<string> {
  return await readFile(file, 'utf8').catch(() => '')
}

async function until (cond: () => Promise<boolean>, what: string, ms = 30_000): Promise<void> {
  const end = Date.now() + ms
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 50))
  }
}

interface Attempt { pid: number, start: bigint, end?: bigint }

function attemptsOf (times: string): Attempt[] {
  const byPid = new Map<number, Attempt>()
  for (const line of times.trim().split('\n').filter(l => l !== '')) {
    const [kind, pid, ns] = line.split(' ')
    const a = byPid.get(Number(pid)) ?? { pid: Number(pid), start: 0n }
    if (kind === 'start') a.start = BigInt(ns!)
    else a.end = BigInt(ns!)
    byPid.set(a.pid, a)
  }
  return [...byPid.values()].sort((x, y) => (x.start < y.start ? -1 : 1))
}

test.before(async () => {
  await startDesk()
  await pairPhone(desk, phone)
  watch = await startWatch(phone)
  running.add(watch)
})

test.after(async () => {
  for (const p of running) p.child.kill('SIGKILL')
  await Promise.all(Array.from(running).map(async p => await p.exited))
  // Whatever a failed round left running (its group) goes too.
  for (const dir of roundDirs) {
    for (const a of attemptsOf(await fileText(join(dir, 'times')))) {
      try { process.kill(-a.pid, 'SIGKILL') } catch {}
    }
  }
  await rm(root, { recursive: true, force: true })
})

test('three rounds of kill -9 mid-command: one completion each, attempts never overlap, no run record left', async () => {
  for (let round = 1; round <= 3; round++) {
    const dir = join(work, `round-${round}`)
    await mkdir(dir, { recursive: true })
    roundDirs.push(dir)
    const [t] = await ok(phone, ['add', '--json', '--to', 'alpha', `$ ${command(dir)}`])
    // The command starts only once its run record is on disk: its start line means it is recorded.
    await until(async () => (await fileText(join(dir, 'times'))).includes('start'), `round ${round}: the first attempt to start`)
    desktop.child.kill('SIGKILL')
    await desktop.exited
    running.delete(desktop)
    await startDesk()
    const done = await watch.waitFor(l => l.event === 'finished' && l.task.id === t.id, 60_000)
    assert.is(done.task.status, 'done', `round ${round}: ${done.task.error}`)
    assert.is(done.task.attempt, 2, `round ${round}: retried once`)

    assert.is(await fileText(join(dir, 'marker')), 'run\n', `round ${round}: exactly one completion line`)
    const attempts = attemptsOf(await fileText(join(dir, 'times')))
    assert.is(attempts.length, 2, `round ${round}: two attempts started`)
    for (const a of attempts) assert.ok(a.end !== undefined, `round ${round}: attempt ${a.pid} has ended`)
    assert.ok(attempts[0]!.end! <= attempts[1]!.start, `round ${round}: the first attempt ended (${attempts[0]!.end}) before the retry started (${attempts[1]!.start})`)
  }
  const records = async (): Promise<string[]> => (await readdir(join(desk, 'runs')).catch(() => [] as string[])).filter(n => n.endsWith('.json'))
  await until(async () => (await records()).length === 0, `every run record removed once its command ended (left: ${(await records()).join(', ')})`, 10_000)
  assert.match(desktop.stderr + JSON.stringify(desktop.lines), /still running \(process group \d+\); ending it before the task is retried/)
})

test.run()
