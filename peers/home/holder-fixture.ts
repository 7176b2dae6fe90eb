// A stand-in holder for the home tests, run as its own process:
//   node peers/home/holder-fixture.ts HOME
// Locks HOME, serves a small typed API (`FixtureApi`) on its control socket, prints "ready <pid>".

import { lockHome } from './lock.ts'
import { serveControl } from './control.ts'
import { BadInputError } from '../app/api.ts'
import type { CallOptions, InputParsers, UseCase } from '../app/api.ts'

class FixtureFailureError extends Error {
  name = 'FixtureFailureError'
}

/** What the fixture holder answers: enough to exercise every part of the control protocol. */
export interface FixtureApi {
  echo: UseCase<unknown, unknown>
  pid: UseCase<Record<string, never>, number>
  fail: UseCase<{ message: string }, never>
  count: UseCase<{ n: number }, { done: number }, { i: number }>
  /** Streams until the caller goes away. */
  forever: UseCase<Record<string, never>, null, { started: true }>
  /** Asks the caller to confirm a code, resolves with the answer. */
  ask: UseCase<{ code: string }, boolean>
  stop: UseCase<Record<string, never>, string>
}

const object = (raw: unknown): Record<string, unknown> => {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new BadInputError('input must be an object')
  return raw as Record<string, unknown>
}

export const FIXTURE_INPUTS: InputParsers<FixtureApi> = {
  echo: raw => raw,
  pid: () => ({}),
  fail: raw => ({ message: String(object(raw).message) }),
  count: raw => {
    const n = object(raw).n
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 1000) throw new BadInputError('n must be a whole number from 0 to 1000')
    return { n }
  },
  forever: () => ({}),
  ask: raw => ({ code: String(object(raw).code) }),
  stop: () => ({})
}

if (import.meta.main) {
  const home = process.argv[2]
  const lock = await lockHome(home)
  const api: FixtureApi = {
    echo: async input => input,
    pid: async () => process.pid,
    fail: async input => { throw new FixtureFailureError(input.message) },
    count: async (input, options?: CallOptions<{ i: number }>) => {
      for (let i = 0; i < input.n; i++) options?.onEvent?.({ i })
      return { done: input.n }
    },
    forever: async (_input, options?: CallOptions<{ started: true }>) => {
      options?.onEvent?.({ started: true })
      await new Promise(resolve => options?.signal?.addEventListener('abort', resolve))
      return null
    },
    ask: async (input, options) => await (options?.confirm?.({ peerId: 'fixture', name: 'fixture', code: input.code }) ?? Promise.resolve(true)),
    stop: async () => {
      setImmediate(() => { void server.close().then(async () => await lock.release()).then(() => process.exit(0)) })
      return 'stopping'
    }
  }
  const server = await serveControl(home, api, FIXTURE_INPUTS)
  // SIGTERM runs the 'exit' handlers (lock file removed); SIGKILL leaves a stale lock behind.
  process.on('SIGTERM', () => process.exit(0))
  process.stdout.write(`ready ${process.pid}\n`)
}
