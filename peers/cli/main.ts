// The `dispatch` command: global options, picking the verb, exit codes, and turning any
// error into one line on stderr (0 success, 1 failure, 2 usage error).

import { parseArgs } from 'node:util'
import { sep } from 'node:path'
import type { ParseArgsOptionsConfig } from 'node:util'
import { resolveHomeDir } from '../home/layout.ts'
import { releaseNativeTransports } from '../../core/net/native-transports.ts'
import { DEFAULT_TCP_PORT } from '../../core/constants.ts'
import { BadValueError, UsageError } from './verb.ts'
import type { Verb, VerbContext, OptionValue } from './verb.ts'
import { verbs as defaultVerbs } from './verbs/index.ts'

export interface CliIo {
  stdout: (text: string) => void
  stderr: (text: string) => void
  env: NodeJS.ProcessEnv
  signal: AbortSignal
}

const GLOBAL_OPTIONS: ParseArgsOptionsConfig = {
  home: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' }
}
const GLOBAL_USAGE = '[--home DIR] [--json]'

/** Errors that mean a bug in dispatch rather than a problem the user can act on. */
const INTERNAL_ERRORS = new Set(['TypeError', 'ReferenceError', 'RangeError', 'SyntaxError'])

export async function runCli (argv: string[], io: CliIo, verbs: Verb[] = defaultVerbs): Promise<number> {
  const table = new Map(verbs.map(v => [v.name, v]))
  let verb: Verb | undefined
  let home: string | undefined
  try {
    const { verbName, rest, help } = splitVerb(argv)
    if (verbName === undefined || verbName === 'help') {
      const topic = verbName === 'help' ? rest.find(a => !a.startsWith('-')) : undefined
      if (topic !== undefined) {
        const v = table.get(topic)
        if (v === undefined) throw new UsageError(`unknown verb "${topic}"`)
        io.stdout(`${verbUsage(v)}\n  ${v.summary}\n`)
        return 0
      }
      if (verbName === undefined && help !== true) throw new UsageError('no verb given')
      io.stdout(overview(verbs))
      return 0
    }
    verb = table.get(verbName)
    if (verb === undefined) throw new UsageError(`unknown verb "${verbName}"`)
    const ctx = parseVerbArgs(verb, rest, io)
    if (ctx !== 'help') home = ctx.home
    if (ctx === 'help') {
      io.stdout(`${verbUsage(verb)}\n  ${verb.summary}\n`)
      return 0
    }
    await verb.run(ctx)
    return 0
  } catch (err) {
    if (err instanceof BadValueError) {
      io.stderr(`dispatch: ${oneLine(err.message)}\n`)
      return 2
    }
    if (err instanceof UsageError) {
      io.stderr(`dispatch: ${err.message}\n${verb !== undefined ? verbUsage(verb) : `usage: dispatch <verb> ${GLOBAL_USAGE} ... (see dispatch help)`}\n`)
      return 2
    }
    io.stderr(`dispatch: ${describeError(err, home)}\n`)
    if (io.env.DISPATCH_DEBUG === '1' && err instanceof Error && err.stack !== undefined) io.stderr(err.stack + '\n')
    return 1
  }
}

/** Finds the verb: the first positional, wherever the global options are. */
function splitVerb (argv: string[]): { verbName?: string, rest: string[], help?: boolean } {
  const { tokens, values } = parseArgs({ args: argv, options: GLOBAL_OPTIONS, strict: false, allowPositionals: true, tokens: true })
  const first = tokens.find(t => t.kind === 'positional')
  if (first === undefined) return { rest: argv, help: values.help === true }
  return { verbName: first.value, rest: [...argv.slice(0, first.index), ...argv.slice(first.index + 1)] }
}

function parseVerbArgs (verb: Verb, args: string[], io: CliIo): VerbContext | 'help' {
  let parsed: { values: Record<string, OptionValue>, positionals: string[] }
  try {
    parsed = parseArgs({ args, options: { ...GLOBAL_OPTIONS, ...verb.options }, strict: true, allowPositionals: true })
  } catch (err) {
    if (String((err as NodeJS.ErrnoException).code).startsWith('ERR_PARSE_ARGS')) throw new UsageError((err as Error).message.split('\n')[0])
    throw err
  }
  const { values, positionals } = parsed
  if (values.help === true) return 'help'
  const { min, max } = verb.positionals ?? { min: 0, max: 0 }
  if (positionals.length < min) throw new UsageError(`${verb.name}: missing argument`)
  if (positionals.length > max) throw new UsageError(`${verb.name}: unexpected argument "${positionals[max]}"`)
  return {
    home: resolveHomeDir(typeof values.home === 'string' ? values.home : undefined, io.env),
    json: values.json === true,
    values,
    positionals,
    env: io.env,
    print: line => io.stdout(line + '\n'),
    printJson: value => io.stdout(JSON.stringify(value) + '\n'),
    note: line => io.stderr(line + '\n'),
    signal: io.signal
  }
}

/** What to do about a named error whose message (written where it happened) cannot know the command line. */
const NEXT_STEP: Record<string, string> = {
  ListenError: `give --listen an address of this machine, e.g. /ip4/0.0.0.0/tcp/${DEFAULT_TCP_PORT}`
}

/** File-system errors on the home, by code: what happened, in words. */
const HOME_ERRORS: Record<string, string> = {
  EEXIST: 'is a file, not a folder',
  ENOTDIR: 'is inside a file, not a folder',
  EROFS: 'is on a read-only file system',
  EACCES: 'is not writable by this user',
  EPERM: 'is not writable by this user',
  ENOSPC: 'is on a full disk'
}

/** One line, whatever was thrown. Named errors carry messages written for the user. */
export function describeError (err: unknown, home?: string): string {
  if (!(err instanceof Error)) return oneLine(String(err))
  const message = oneLine(err.message !== '' ? err.message : err.name)
  if (INTERNAL_ERRORS.has(err.name)) return `internal error (${err.name}): ${message} (DISPATCH_DEBUG=1 shows where)`
  const { code, path } = err as NodeJS.ErrnoException
  if (home !== undefined && code !== undefined && Object.hasOwn(HOME_ERRORS, code) && typeof path === 'string' && (path === home || path.startsWith(home + sep))) {
    return `${path} ${HOME_ERRORS[code]} (${code}); use another --home, or fix this one`
  }
  const next = Object.hasOwn(NEXT_STEP, err.name) ? NEXT_STEP[err.name] : undefined
  return next !== undefined ? `${message}; ${next}` : message
}

function oneLine (text: string): string {
  return text.split('\n').map(l => l.trim()).filter(l => l !== '').join(' ')
}

function verbUsage (verb: Verb): string {
  return `usage: dispatch ${verb.name}${verb.usage !== '' ? ' ' + verb.usage : ''} ${GLOBAL_USAGE}`
}

function overview (verbs: Verb[]): string {
  const width = Math.max(4, ...verbs.map(v => v.name.length))
  const lines = verbs.map(v => `  ${v.name.padEnd(width)}  ${v.summary}`)
  return [
    `usage: dispatch <verb> ${GLOBAL_USAGE} [options]`,
    '',
    'verbs:',
    ...lines,
    `  ${'help'.padEnd(width)}  show this, or one verb's usage (dispatch help VERB)`,
    '',
    'global options:',
    '  --home DIR  the home directory (default: $DISPATCH_HOME, else ~/.dispatch)',
    '  --json      machine-readable output: one JSON value, or one object per line for streams',
    ''
  ].join('\n')
}

/** The process entry point used by bin.js: real stdio, signals, exit code. */
export async function main (argv: string[] = process.argv.slice(2)): Promise<void> {
  const abort = new AbortController()
  const onSignal = (): void => {
    // First signal: let the verb wind down (and release the home). Second: leave now.
    if (abort.signal.aborted) process.exit(130)
    abort.abort()
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  // The reader went away (`dispatch tasks | head -1`): what is left has no one to read it.
  // Stop writing and wind down like on a signal; a closed pipe is not an error of this command.
  let readerGone = false
  const onStdoutError = (err: NodeJS.ErrnoException): void => {
    if (err.code !== 'EPIPE') throw err
    readerGone = true
    if (!abort.signal.aborted) abort.abort()
  }
  process.stdout.on('error', onStdoutError)
  const code = await runCli(argv, {
    stdout: text => { if (!readerGone) process.stdout.write(text) },
    stderr: text => { process.stderr.write(text) },
    env: process.env,
    signal: abort.signal
  })
  // Every node is stopped by now (verbs close their device before returning): let native
  // transport threads end before Node tears the process down.
  await releaseNativeTransports()
  process.off('SIGINT', onSignal)
  process.off('SIGTERM', onSignal)
  process.exitCode = code
}
