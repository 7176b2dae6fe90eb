// The dispatcher: verb lookup, global options anywhere, exit codes 0/1/2, one-line errors;
// and bin.js as a real process.

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { spawnSync } from 'node:child_process'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { runCli } from './main.ts'
import type { Verb, VerbContext } from './verb.ts'

class ThingMissingError extends Error {
  name = 'ThingMissingError'
}

let seen: VerbContext | undefined
const verbs: Verb[] = [
  {
    name: 'greet',
    usage: 'NAME [--loud]',
    summary: 'say hello',
    options: { loud: { type: 'boolean' } },
    positionals: { min: 1, max: 1 },
    async run (ctx) {
      seen = ctx
      if (ctx.json) ctx.printJson({ hello: ctx.positionals[0] })
      else ctx.print(`hello ${ctx.positionals[0]}${ctx.values.loud === true ? '!' : ''}`)
    }
  },
  { name: 'missing', usage: '', summary: 'fails politely', async run () { throw new ThingMissingError('no such thing: x\n  (more detail)') } },
  { name: 'buggy', usage: '', summary: 'has a bug', async run () { (undefined as any).x() } }
]

async function run (argv: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number, out: string, err: string }> {
  let out = ''
  let err = ''
  const code = await runCli(argv, { stdout: t => { out += t }, stderr: t => { err += t }, env, signal: new AbortController().signal }, verbs)
  return { code, out, err }
}

test('a verb runs with its options and positionals; exit 0', async () => {
  const r = await run(['greet', 'ana', '--loud'])
  assert.equal(r, { code: 0, out: 'hello ana!\n', err: '' })
})

test('global options before or after the verb; --json prints one JSON value', async () => {
  const r = await run(['--home', '/tmp/h1', 'greet', '--json', 'ana'])
  assert.is(r.code, 0)
  assert.equal(JSON.parse(r.out), { hello: 'ana' })
  assert.is(seen?.home, '/tmp/h1')
  assert.is(seen?.json, true)
  await run(['greet', 'ana', '--home=/tmp/h2'])
  assert.is(seen?.home, '/tmp/h2')
})

test('home: --home, else DISPATCH_HOME, else ~/.dispatch', async () => {
  await run(['greet', 'ana'], { DISPATCH_HOME: '/tmp/from-env' })
  assert.is(seen?.home, '/tmp/from-env')
  await run(['greet', 'ana', '--home', '/tmp/flag'], { DISPATCH_HOME: '/tmp/from-env' })
  assert.is(seen?.home, '/tmp/flag')
  await run(['greet', 'ana'])
  assert.is(seen?.home, join(homedir(), '.dispatch'))
})

test('help: overview on stdout, exit 0; per verb too', async () => {
  for (const argv of [['help'], ['--help'], ['-h']]) {
    const r = await run(argv)
    assert.is(r.code, 0)
    assert.match(r.out, /usage: dispatch <verb>/)
    assert.match(r.out, /greet\s+say hello/)
  }
  const one = await run(['help', 'greet'])
  assert.is(one.code, 0)
  assert.match(one.out, /usage: dispatch greet NAME \[--loud\]/)
  assert.match((await run(['greet', '--help'])).out, /usage: dispatch greet/)
})

test('usage errors: exit 2, the problem and a usage line on stderr', async () => {
  const cases: Array<[string[], RegExp]> = [
    [[], /no verb given/],
    [['frobnicate'], /unknown verb "frobnicate"/],
    [['help', 'frobnicate'], /unknown verb "frobnicate"/],
    [['greet'], /missing argument/],
    [['greet', 'a', 'b'], /unexpected argument "b"/],
    [['greet', 'a', '--colour'], /Unknown option '--colour'/],
    [['greet', 'a', '--home'], /--home/]
  ]
  for (const [argv, message] of cases) {
    const r = await run(argv)
    assert.is(r.code, 2, argv.join(' '))
    assert.is(r.out, '')
    const lines = r.err.trimEnd().split('\n')
    assert.is(lines.length, 2, r.err)
    assert.match(lines[0], message)
    assert.match(lines[1], /^usage: dispatch /)
  }
})

test('failures: exit 1, one line, no stack trace', async () => {
  const named = await run(['missing'])
  assert.equal(named, { code: 1, out: '', err: 'dispatch: no such thing: x (more detail)\n' })
  const bug = await run(['buggy'])
  assert.is(bug.code, 1)
  assert.is(bug.err.trimEnd().split('\n').length, 1)
  assert.match(bug.err, /^dispatch: internal error \(TypeError\)/)
  assert.not.match(bug.err, /\n\s+at /)
  // DISPATCH_DEBUG=1 adds the stack for whoever is debugging.
  assert.match((await run(['buggy'], { DISPATCH_DEBUG: '1' })).err, /\n\s+at /)
})

test('bin.js runs as a process: help exits 0, an unknown verb exits 2', () => {
  const bin = join(import.meta.dirname, 'bin.js')
  const help = spawnSync(process.execPath, [bin, 'help'], { encoding: 'utf8' })
  assert.is(help.status, 0, help.stderr)
  assert.match(help.stdout, /usage: dispatch <verb>/)
  const bad = spawnSync(process.execPath, [bin, 'frobnicate'], { encoding: 'utf8' })
  assert.is(bad.status, 2)
  assert.match(bad.stderr, /^dispatch: unknown verb "frobnicate"\nusage: dispatch/)
})

test.run()
