// What a `dispatch` verb is: its name, usage line, options, and what it runs. Each verb
// lives in its own module under verbs/ and is listed in verbs/index.ts.

import type { ParseArgsOptionsConfig } from 'node:util'

export interface Verb {
  name: string
  /** Arguments after the verb, as shown in usage: `[--ttl SECONDS] [--png FILE] [--yes]`. */
  usage: string
  /** One line for `dispatch help`. */
  summary: string
  /** The verb's own options, besides the global --home, --json and --help. */
  options?: ParseArgsOptionsConfig
  /** How many positionals it takes (default none). */
  positionals?: { min: number, max: number }
  run (ctx: VerbContext): Promise<void>
}

export type OptionValue = string | boolean | Array<string | boolean> | undefined

export interface VerbContext {
  /** Absolute home directory: --home, else DISPATCH_HOME, else ~/.dispatch. */
  home: string
  json: boolean
  values: Record<string, OptionValue>
  positionals: string[]
  env: NodeJS.ProcessEnv
  /** Writes one line to stdout. */
  print (line: string): void
  /** Writes one value as one line of JSON to stdout (for --json; one per line for streams). */
  printJson (value: unknown): void
  /** Writes one line to stderr (notices, prompts' context). */
  note (line: string): void
  /** Aborted on SIGINT / SIGTERM: long-running verbs wind down and return. */
  signal: AbortSignal
}

/** Wrong arguments: the CLI prints the message and the verb's usage line, exit code 2. */
export class UsageError extends Error {
  name = 'UsageError'
}

/**
 * A value an option or argument cannot take (an empty `--to`): exit code 2 like a usage error,
 * but only the one line that names it, since the usage line would not say what to change.
 */
export class BadValueError extends UsageError {
  override name = 'BadValueError'
}
