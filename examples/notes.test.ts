// examples/notes.ts and notes-leveldb.ts: the whole story with two devices (homes) —
// notes added offline, a second device joins by invite, edits, syncs back — asserted on
// what the CLI prints and on what each storage leaves on disk.

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { execFile, spawn } from 'node:child_process'
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { promisify } from 'node:util'
import * as Y from 'yjs'
import { LeveldbPersistence } from 'y-leveldb'

const run = promisify(execFile)

test('notes.ts is under 120 lines and imports only the public entry', async () => {
  const source = await readFile(join(import.meta.dirname, 'notes.ts'), 'utf8')
  assert.ok(source.trimEnd().split('\n').length < 120)
  const imports = new Set(Array.from(source.matchAll(/from '(\.[^']*)'/g), m => m[1]))
  assert.equal([...imports], ['../core/index.ts'])
})

async function story (example: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `dispatch-${example}-`))
  const script = join(import.meta.dirname, `${example}.ts`)
  const notes = async (...args: string[]): Promise<string> => (await run(process.execPath, [script, ...args], { timeout: 60_000 })).stdout
  const a = ['--home', join(dir, 'a'), '--name', 'desk']
  const b = ['--home', join(dir, 'b'), '--name', 'laptop']
  try {
    const milk = /added (\w+)/.exec(await notes('add', 'buy', 'milk', ...a))?.[1]
    assert.ok(milk !== undefined)
    const server = spawn(process.execPath, [script, 'serve', ...a, '--listen', '/ip4/127.0.0.1/tcp/0'], { stdio: ['ignore', 'pipe', 'inherit'] })
    const lines: string[] = []
    const seen = (text: string): Promise<void> => new Promise(resolve => {
      const check = (): void => { if (lines.some(l => l.includes(text))) resolve() }
      rl.on('line', line => { lines.push(line); check() })
      check()
    })
    const rl = createInterface({ input: server.stdout })
    let mom = ''
    try {
      await seen('invite: ')
      const invite = lines.find(l => l.startsWith('invite: '))?.slice('invite: '.length) ?? ''
      const joined = await notes('join', invite, ...b)
      assert.match(joined, /paired with desk \(code \d{6}\)/)
      assert.match(joined, `${milk}  buy milk`)
      await seen('paired with laptop')

      mom = /added (\w+)/.exec(await notes('add', 'call', 'mom', ...b))?.[1] ?? ''
      assert.match(await notes('edit', mom, 'call', 'mom', 'at', '6', ...b), `edited ${mom}`)
      const synced = await notes('sync', ...b)
      assert.match(synced, 'synced with 1 device(s)')
      await seen(`${mom}  call mom at 6`)
      assert.ok(lines.includes('notes changed by a peer:'), lines.join('\n'))
    } finally {
      server.kill('SIGTERM')
      await new Promise(resolve => server.on('exit', resolve))
    }
    // Both lines survived on the serving device's disk, in the order they were written.
    assert.equal((await notes('list', ...a)).trim().split('\n'), [`${milk}  buy milk`, `${mom}  call mom at 6`])
    return dir
  } catch (err) {
    await rm(dir, { recursive: true, force: true })
    throw err
  }
}

// Both stories at once: each is a handful of short processes, mostly waiting on start-up.
test('notes.ts and notes-leveldb.ts: add offline, pair a second device by invite, edit there, sync back', async () => {
  const [fileDir, levelDir] = await Promise.all([story('notes'), story('notes-leveldb')])
  try {
    assert.ok((await readdir(join(fileDir, 'a', 'store'))).length > 0)
    // The LevelDB variant left a LevelDB database that y-leveldb itself reads.
    assert.ok((await readdir(join(levelDir, 'a', 'store'))).includes('CURRENT'), 'a LevelDB directory')
    const persistence = new LeveldbPersistence(join(levelDir, 'a', 'store'))
    const doc: Y.Doc = await persistence.getYDoc('notes')
    const texts = Array.from(doc.getMap<Y.Map<unknown>>('notes').values(), n => String(n.get('text'))).sort()
    assert.equal(texts, ['buy milk', 'call mom at 6'])
    // The document, and beside it what the trust gate verified (core/trust/memory.ts keeps it as `<space>.trust`).
    assert.equal((await persistence.getAllDocNames()).sort(), ['notes', 'notes.trust'])
    await persistence.destroy()
  } finally {
    await Promise.all([fileDir, levelDir].map(async d => await rm(d, { recursive: true, force: true })))
  }
})

test.run()
