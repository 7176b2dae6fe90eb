// The test command (`npm test`): type-check, then run every `*.test.ts` file in
// its own process (uvu prints each file's totals) and end with `N passed, M failed`.
//
//   npm test                  everything
//   npm test -- core/store    only files whose path contains one of the words
//   TEST_JOBS=1 npm test      one file at a time (default: 2, one per core here)

import { spawn, spawnSync } from 'node:child_process'
import { readdirSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { tmpdir } from 'node:os'

const root = join(import.meta.dirname, '..')
const filters = process.argv.slice(2)
const jobs = Number(process.env.TEST_JOBS ?? 2)
const fileTimeoutMs = Number(process.env.TEST_FILE_TIMEOUT_MS ?? 300_000)

function findTests (dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) continue
    const path = join(dir, name)
    if (statSync(path).isDirectory()) findTests(path, out)
    else if (name.endsWith('.test.ts')) out.push(relative(root, path))
  }
  return out
}

/** SIGKILL every process in the group led by `pid`; a group that is already gone is fine. */
function killGroup (pid: number | undefined): void {
  if (pid === undefined) return
  try { process.kill(-pid, 'SIGKILL') } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err
  }
}

interface FileResult { file: string, passed: number, failed: number, skipped: number, ms: number }

function runFile (file: string): Promise<FileResult> {
  const started = Date.now()
  return new Promise(resolve => {
    const child = spawn(process.execPath, [file], {
      cwd: root,
      // One compile cache for every Node the tests start (test files, and the many `dispatch` processes
      // they run): module loading is most of a short process's time.
      env: { NODE_COMPILE_CACHE: join(tmpdir(), 'dispatch-test-compile-cache'), ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group, so a file that hangs is killed with every process it started
      // (desktops, browsers); leftovers would slow every later file and keep the run alive.
      detached: true
    })
    let out = ''
    let lingering: ReturnType<typeof setTimeout> | undefined
    child.stdout.on('data', d => {
      out += d
      // uvu printed its totals: every test has run. A file still alive 15 s later is held up by
      // something a test left behind (a child process, a socket); its result is already known.
      if (lingering === undefined && /Duration:\s/.test(out)) {
        lingering = setTimeout(() => {
          out += `\n[test runner] ${file} still running 15 s after its tests ended, killed\n`
          killGroup(child.pid)
        }, 15_000)
      }
    })
    child.stderr.on('data', d => { out += d })
    const timer = setTimeout(() => {
      out += `\n[test runner] ${file} timed out after ${fileTimeoutMs} ms, killed\n`
      killGroup(child.pid)
    }, fileTimeoutMs)
    // Whatever the file left running once it ended (a test that failed before its teardown) is
    // killed, also because such a process holds the output pipes open and 'close' would wait for it.
    child.on('exit', () => killGroup(child.pid))
    child.on('close', code => {
      clearTimeout(timer)
      clearTimeout(lingering)
      const text = out.replace(/\x1b\[[0-9;]*m/g, '')
      const total = Number(/Total:\s+(\d+)/.exec(text)?.[1] ?? 0)
      const passed = Number(/Passed:\s+(\d+)/.exec(text)?.[1] ?? 0)
      const skipped = Number(/Skipped:\s+(\d+)/.exec(text)?.[1] ?? 0)
      let failed = Math.max(0, total - passed) // uvu counts skipped tests outside Total
      // A file that crashed, hung or exited non-zero without a failed test still failed.
      if (code !== 0 && failed === 0) failed = 1
      const ms = Date.now() - started
      const status = failed > 0 ? 'FAIL' : 'ok  '
      process.stdout.write(`${status} ${file} (${passed} passed, ${failed} failed, ${(ms / 1000).toFixed(1)} s)\n`)
      if (failed > 0) process.stdout.write(text.split('\n').map(l => `     | ${l}`).join('\n') + '\n')
      resolve({ file, passed, failed, skipped, ms })
    })
  })
}

async function main (): Promise<void> {
  let passed = 0
  let failed = 0
  let skipped = 0
  if (filters.length === 0) {
    const tsc = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', root], { stdio: 'inherit' })
    if (tsc.status === 0) { passed++; console.log('ok   typecheck (tsc)') } else { failed++; console.log('FAIL typecheck (tsc)') }
  }
  const files = findTests(root).filter(f => filters.length === 0 || filters.some(w => f.includes(w))).sort()
  const queue = [...files]
  const workers = Array.from({ length: Math.max(1, jobs) }, async () => {
    for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
      const r = await runFile(file)
      passed += r.passed
      failed += r.failed
      skipped += r.skipped
    }
  })
  await Promise.all(workers)
  console.log(`${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}`)
  process.exitCode = failed > 0 ? 1 : 0
}

await main()
