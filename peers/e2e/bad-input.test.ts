// Bad input to the real `dispatch` command that needs no paired device: a non-zero exit and
// exactly one line on stderr that says what happened and what to do, never a stack trace. Also:
// a closed stdout pipe ends a listing quietly, and the read-only verbs work on a read-only home.
// (The cases that need a paired desktop are in bad-input-paired.test.ts.)

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { spawn, spawnSync } from 'node:child_process'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { dispatch, makeScratch } from './cli-process.ts'
import type { RunResult } from './cli-process.ts'
import { expectOneLine } from './one-line-error.ts'

const BIN = join(import.meta.dirname, '..', 'cli', 'bin.js')
const scratch = await makeScratch('dbadin-')
const { home, root } = scratch
test.after(scratch.cleanup)

/** One bad input: how to run it, its exit code, and what its one line must say. */
interface Case { name: string, run: () => Promise<RunResult>, code: number, says: RegExp }

const cases: Case[] = [
  {
    name: 'desktop --listen on an address this machine does not have',
    run: async () => await dispatch(home(), ['desktop', '--listen', '/ip4/192.0.2.1/tcp/0']),
    code: 1,
    says: /--listen/
  },
  {
    name: 'desktop --listen with a port above 65535',
    run: async () => await dispatch(home(), ['desktop', '--listen', '/ip4/127.0.0.1/tcp/70000']),
    code: 1,
    says: /--listen/
  },
  {
    name: '--home is a file',
    run: async () => {
      const file = join(root, 'a-file')
      await writeFile(file, 'not a folder')
      return await dispatch(file, ['tasks'])
    },
    code: 1,
    says: /not a folder/
  },
  ...[['relays', 5], ['relays', [5]], ['name', 5], ['role', 'tablet'], ['peers', { x: { addrs: 'nope' } }]].map(([key, value]): Case => ({
    name: `config.json with ${key}: ${JSON.stringify(value)}`,
    run: async () => {
      const h = home()
      await mkdir(h, { recursive: true })
      await writeFile(join(h, 'config.json'), JSON.stringify({ [key as string]: value }))
      return await dispatch(h, ['tasks'])
    },
    code: 1,
    says: new RegExp(`config\\.json.*${key as string}`)
  })),
  {
    name: 'add \'$ \' (an empty command)',
    run: async () => await dispatch(home(), ['add', '$ ']),
    code: 2,
    says: /empty/
  }
]

for (const c of cases) {
  test(c.name, async () => { expectOneLine(await c.run(), c.code, c.says) })
}

test('tasks --archived | head -1: the closed pipe ends it quietly', async () => {
  const phone = home()
  await mkdir(phone, { recursive: true })
  const now = Date.now()
  const archived = Array.from({ length: 4000 }, (_, i) => JSON.stringify({ id: `01ARCHIVED${String(i).padStart(16, '0')}`, text: `$ echo old task number ${i} with some words to make the line longer`, status: 'done', target: 'x', createdBy: 'x', createdAt: now, finishedAt: now, attempt: 1, outputs: [], log: [], archivedAt: now }))
  await writeFile(join(phone, 'archive.jsonl'), archived.join('\n') + '\n')
  const child = spawn(process.execPath, [BIN, '--home', phone, 'tasks', '--archived'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, DISPATCH_HOME: '' } })
  let stderr = ''
  child.stderr.on('data', d => { stderr += d })
  // Like `head -1`: read the first chunk, then close the reading end.
  child.stdout.once('data', () => child.stdout.destroy())
  const code = await new Promise<number | null>(resolve => child.on('exit', resolve))
  assert.is(stderr, '')
  assert.is(code, 0)
})

/** Runs `dispatch` with HOME mounted read-only for that process alone (a private mount namespace). */
async function dispatchReadOnly (dir: string, args: string[]): Promise<RunResult> {
  const script = 'mount --bind "$0" "$0" && mount -o remount,ro,bind "$0" "$0" && exec "$@"'
  const child = spawn('unshare', ['-m', 'sh', '-c', script, dir, process.execPath, BIN, '--home', dir, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, DISPATCH_HOME: '' } })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', d => { stdout += d })
  child.stderr.on('data', d => { stderr += d })
  const code = await new Promise<number | null>(resolve => child.on('exit', resolve))
  return { code, stdout, stderr, json: stdout.split('\n').filter(l => l.startsWith('{') || l.startsWith('[')).map(l => JSON.parse(l)) }
}

/** Why a read-only mount cannot be made here, or null. */
function readOnlyMountUnavailable (): string | null {
  if (process.platform !== 'linux') return `not Linux (${process.platform})`
  const probe = spawnSync('unshare', ['-m', 'sh', '-c', 'mount --bind "$0" "$0" && mount -o remount,ro,bind "$0" "$0"', root], { encoding: 'utf8' })
  if (probe.error !== undefined) return `unshare unavailable (${probe.error.message})`
  return probe.status === 0 ? null : `cannot mount in a new mount namespace (${probe.stderr.trim().split('\n')[0]})`
}

const readOnlySkipped = readOnlyMountUnavailable()
const readOnlyName = 'tasks, show and devices work on a read-only home, and leave it as it was'
if (readOnlySkipped !== null) {
  console.log(`SKIPPED: ${readOnlyName}: ${readOnlySkipped}`)
  test.skip(`${readOnlyName} (skipped: ${readOnlySkipped})`, () => {})
} else {
  test(readOnlyName, async () => {
    const h = home()
    // A home with an archived task, so `show` has something to find without a paired desktop.
    await mkdir(h, { recursive: true })
    const now = Date.now()
    await writeFile(join(h, 'archive.jsonl'), JSON.stringify({ id: '01READONLY0000000000000000', text: '$ echo kept', status: 'done', target: 'x', createdBy: 'x', createdAt: now, finishedAt: now, attempt: 1, outputs: [], log: [], archivedAt: now }) + '\n')
    const first = await dispatch(h, ['devices', '--json'])
    assert.is(first.code, 0, first.stderr)
    const before = spawnSync('ls', ['-laR', '--time-style=full-iso', h], { encoding: 'utf8' }).stdout
    for (const args of [['tasks', '--all'], ['tasks', '--archived'], ['show', '01READONLY'], ['devices']]) {
      const r = await dispatchReadOnly(h, args)
      assert.is(r.code, 0, `${args.join(' ')}: ${r.stderr}`)
      assert.is(r.stderr, '', args.join(' '))
    }
    assert.match((await dispatchReadOnly(h, ['show', '01READONLY'])).stdout, /echo kept/)
    assert.is(spawnSync('ls', ['-laR', '--time-style=full-iso', h], { encoding: 'utf8' }).stdout, before, 'the home is unchanged')
  })
}

test.run()
