// The home across real processes: lock exclusivity, stale lock after kill -9, the control
// channel (request/response, streaming, errors, permissions), and openOrCall's two paths.

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { mkdtemp, rm, stat, readFile, writeFile } from 'node:fs/promises'
import { createConnection } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { homeLayout, resolveHomeDir, ensureHomeDir } from './layout.ts'
import { lockHome, HomeBusyError } from './lock.ts'
import { serveControl, callControl, controlClient, holderRunning } from './control.ts'
import { openOrCall } from './access.ts'
import { FIXTURE_INPUTS } from './holder-fixture.ts'
import type { FixtureApi } from './holder-fixture.ts'
import type { UseCase } from '../app/api.ts'

/** The fixture holder's API, reached over its control socket. */
const fixture = (home: string): FixtureApi => controlClient<FixtureApi>(home, FIXTURE_INPUTS)

const root = await mkdtemp(join(tmpdir(), 'dispatch-home-'))
let n = 0
const newHome = (): string => join(root, `h${++n}`)
const children = new Set<ChildProcess>()

/** Starts the fixture holder and waits for its "ready" line. */
async function startHolder (home: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [join(import.meta.dirname, 'holder-fixture.ts'), home], { stdio: ['ignore', 'pipe', 'inherit'] })
  children.add(child)
  child.on('exit', () => children.delete(child))
  await new Promise<void>((resolve, reject) => {
    let out = ''
    child.stdout!.on('data', d => { out += d; if (out.includes('ready')) resolve() })
    child.on('exit', code => reject(new Error(`holder exited with ${code} before ready`)))
  })
  return child
}

function exited (child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise(resolve => child.once('exit', () => resolve()))
}

async function rejectsNamed (p: Promise<unknown>, name: string, message?: RegExp): Promise<Error> {
  try {
    await p
  } catch (err) {
    assert.is((err as Error).name, name, (err as Error).message)
    if (message !== undefined) assert.match((err as Error).message, message)
    return err as Error
  }
  assert.unreachable(`expected ${name}`)
  throw new Error('unreachable')
}

test('home dir: --home, then DISPATCH_HOME, then ~/.dispatch; created owner-only', async () => {
  assert.is(resolveHomeDir('/x/y', { DISPATCH_HOME: '/env' }), '/x/y')
  assert.is(resolveHomeDir(undefined, { DISPATCH_HOME: '/env' }), '/env')
  assert.ok(resolveHomeDir(undefined, {}).endsWith('/.dispatch'))
  const home = newHome()
  await ensureHomeDir(home)
  assert.is((await stat(home)).mode & 0o777, 0o700)
  await rejectsNamed(ensureHomeDir(join(root, 'x'.repeat(120))), 'HomePathTooLongError')
})

test('lock: one process at a time, across processes', async () => {
  const home = newHome()
  const holder = await startHolder(home)
  const err = await rejectsNamed(lockHome(home), 'HomeBusyError', /in use by process/)
  assert.is((err as HomeBusyError).pid, holder.pid)
  // A second holder process is refused too, and exits with the error.
  const second = spawn(process.execPath, [join(import.meta.dirname, 'holder-fixture.ts'), home], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  second.stderr.on('data', d => { stderr += d })
  const code = await new Promise(resolve => second.on('exit', resolve))
  assert.is.not(code, 0)
  assert.match(stderr, /HomeBusyError/)
  // After a clean exit (SIGTERM), the lock file is gone and the home is free.
  holder.kill('SIGTERM')
  await exited(holder)
  const lock = await lockHome(home)
  await lock.release()
})

test('lock: within one process, and released only by its owner', async () => {
  const home = newHome()
  const lock = await lockHome(home)
  await rejectsNamed(lockHome(home), 'HomeBusyError')
  assert.is(await readFile(homeLayout(home).lock, 'utf8'), `${process.pid}\n`)
  await lock.release()
  const again = await lockHome(home)
  await again.release()
})

test('lock: a stale lock left by kill -9 is taken over', async () => {
  const home = newHome()
  const holder = await startHolder(home)
  assert.ok(await holderRunning(home))
  holder.kill('SIGKILL')
  await exited(holder)
  // Both the lock file and the socket file are left behind by the dead holder.
  assert.is(await readFile(homeLayout(home).lock, 'utf8'), `${holder.pid}\n`)
  assert.ok((await stat(homeLayout(home).controlSocket)).isSocket())
  assert.not.ok(await holderRunning(home))
  const lock = await lockHome(home)
  assert.is(await readFile(homeLayout(home).lock, 'utf8'), `${process.pid}\n`)
  // The new holder serves on the same path, replacing the dead socket file.
  const server = await serveControl<{ ping: UseCase<Record<string, never>, string> }>(home, { ping: async () => 'pong' }, { ping: () => ({}) })
  assert.is(await callControl<{ ping: UseCase<Record<string, never>, string> }, 'ping'>(home, 'ping', {}), 'pong')
  await server.close()
  await lock.release()
})

test('lock: an empty or garbage lock file is stale', async () => {
  const home = newHome()
  await ensureHomeDir(home)
  await writeFile(homeLayout(home).lock, 'not a pid')
  const lock = await lockHome(home)
  await lock.release()
  await writeFile(homeLayout(home).lock, '')
  const again = await lockHome(home)
  await again.release()
})

test('control: request/response with a holder process', async () => {
  const home = newHome()
  const holder = await startHolder(home)
  assert.equal(await fixture(home).echo({ a: 1, b: ['x'] }), { a: 1, b: ['x'] })
  assert.is(await fixture(home).pid({}), holder.pid)
  // Concurrent calls each get their own answer.
  const many = await Promise.all([1, 2, 3, 4, 5].map(async i => await fixture(home).echo({ i })))
  assert.equal(many, [1, 2, 3, 4, 5].map(i => ({ i })))
  holder.kill('SIGTERM')
  await exited(holder)
})

test('control: streaming events, then the result', async () => {
  const home = newHome()
  const holder = await startHolder(home)
  const events: Array<{ i: number }> = []
  const result = await fixture(home).count({ n: 3 }, { onEvent: e => events.push(e) })
  assert.equal(events, [{ i: 0 }, { i: 1 }, { i: 2 }])
  assert.equal(result, { done: 3 })
  holder.kill('SIGTERM')
  await exited(holder)
})

test('control: errors come back by name; unknown methods and bad inputs are refused before anything runs', async () => {
  const home = newHome()
  const holder = await startHolder(home)
  await rejectsNamed(fixture(home).fail({ message: 'it broke' }), 'FixtureFailureError', /^it broke$/)
  // The compiler refuses both of these; the holder must too, for callers that are not compiled with it.
  const untyped = callControl as unknown as (home: string, method: string, input: unknown) => Promise<unknown>
  await rejectsNamed(untyped(home, 'nope', {}), 'UnknownMethodError', /nope/)
  await rejectsNamed(untyped(home, 'count', { n: 'three' }), 'BadInputError', /whole number/)
  await rejectsNamed(untyped(home, 'toString', {}), 'UnknownMethodError')
  // The holder is still fine.
  assert.is(await fixture(home).echo('still here'), 'still here')
  holder.kill('SIGTERM')
  await exited(holder)
})

test('control: malformed lines are answered and dropped; the connection keeps working', async () => {
  const home = newHome()
  const holder = await startHolder(home)
  const socket = createConnection(homeLayout(home).controlSocket)
  const lines: any[] = []
  let buffered = ''
  const got = (count: number): Promise<void> => new Promise(resolve => {
    const check = (): void => { if (lines.length >= count) { socket.off('data', onData); resolve() } }
    const onData = (d: Buffer): void => {
      buffered += d.toString()
      const parts = buffered.split('\n')
      buffered = parts.pop()!
      for (const p of parts) lines.push(JSON.parse(p))
      check()
    }
    socket.on('data', onData)
    check()
  })
  socket.write('this is not json\n{"no":"method"}\n{"id":7,"method":"echo","input":"ok"}\n')
  await got(3)
  assert.is(lines[0].error.name, 'BadRequestError')
  assert.is(lines[1].error.name, 'BadRequestError')
  assert.equal(lines[2], { id: 7, ok: true, result: 'ok' })
  socket.destroy()
  holder.kill('SIGTERM')
  await exited(holder)
})

test('control: a holder killed mid-stream is a HolderGoneError', async () => {
  const home = newHome()
  const holder = await startHolder(home)
  let started!: () => void
  const startedP = new Promise<void>(resolve => { started = resolve })
  const call = fixture(home).forever({}, { onEvent: () => started() })
  await startedP
  holder.kill('SIGKILL')
  await rejectsNamed(call, 'HolderGoneError')
  await exited(holder)
})

test('control: the caller going away aborts the handler', async () => {
  const home = newHome()
  const lock = await lockHome(home)
  let aborted!: () => void
  const abortedP = new Promise<void>(resolve => { aborted = resolve })
  type WatchApi = { watch: UseCase<Record<string, never>, null, string> }
  const server = await serveControl<WatchApi>(home, {
    watch: async (_input, options) => {
      options?.onEvent?.('hello')
      await new Promise(resolve => options?.signal?.addEventListener('abort', resolve))
      aborted()
      return null
    }
  }, { watch: () => ({}) })
  const stop = new AbortController()
  const call = callControl<WatchApi, 'watch'>(home, 'watch', {}, { onEvent: () => stop.abort(new Error('enough')), signal: stop.signal })
  await rejectsNamed(call, 'Error', /enough/)
  await abortedP
  await server.close()
  await lock.release()
})

test('control: a use case asks the caller to confirm, over the same connection', async () => {
  const home = newHome()
  const holder = await startHolder(home)
  const asked: string[] = []
  assert.is(await fixture(home).ask({ code: '123456' }, { confirm: async prompt => { asked.push(prompt.code); return false } }), false)
  assert.is(await fixture(home).ask({ code: '654321' }, { confirm: async prompt => { asked.push(prompt.code); return true } }), true)
  assert.equal(asked, ['123456', '654321'])
  // A caller that gives no confirm is never asked: the use case sees no confirm at all (--yes).
  assert.is(await fixture(home).ask({ code: '000000' }), true)
  holder.kill('SIGTERM')
  await exited(holder)
})

test('control: socket is owner-only (0600) inside an owner-only home (0700)', async () => {
  const home = newHome()
  const holder = await startHolder(home)
  assert.is((await stat(homeLayout(home).controlSocket)).mode & 0o777, 0o600)
  assert.is((await stat(home)).mode & 0o777, 0o700)
  holder.kill('SIGTERM')
  await exited(holder)
})

test('openOrCall: the holder when one runs, else the lock', async () => {
  const home = newHome()
  const holder = await startHolder(home)
  const viaHolder = await openOrCall(home)
  assert.is(viaHolder.kind, 'holder')
  assert.is(await fixture(home).stop({}), 'stopping')
  await exited(holder)
  const direct = await openOrCall(home)
  assert.is(direct.kind, 'lock')
  // While we hold it without serving, another caller waits, then gives up busy.
  await rejectsNamed(openOrCall(home, { waitMs: 100 }), 'HomeBusyError')
  if (direct.kind === 'lock') await direct.lock.release()
})

test('openOrCall: waits for a short-lived holder to let go', async () => {
  const home = newHome()
  const lock = await lockHome(home)
  const waiting = openOrCall(home, { waitMs: 10_000 })
  setTimeout(() => { void lock.release() }, 100)
  const access = await waiting
  assert.is(access.kind, 'lock')
  if (access.kind === 'lock') await access.lock.release()
})

test('openOrCall: says once which process holds the home (and its command, where /proc shows it), then waits', async () => {
  const home = newHome()
  const lock = await lockHome(home)
  const said: string[] = []
  const waiting = openOrCall(home, { waitMs: 60_000, onWait: line => said.push(line) })
  for (let i = 0; i < 600 && said.length === 0; i++) await new Promise(resolve => setTimeout(resolve, 50))
  assert.is(said.length, 1)
  assert.match(said[0], `is in use by process ${process.pid}`)
  assert.match(said[0], /waiting for it \(up to 60 s\)/)
  if (process.platform === 'linux') assert.match(said[0], /home\.test\.ts/)
  await lock.release()
  const access = await waiting
  assert.is(access.kind, 'lock')
  assert.is(said.length, 1)
  if (access.kind === 'lock') await access.lock.release()
})

test.after(async () => {
  for (const child of children) child.kill('SIGKILL')
  await rm(root, { recursive: true, force: true })
})
test.run()
