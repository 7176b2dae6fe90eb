// A stand-in holder for the home tests, run as its own process:
//   node peers/home/holder-fixture.ts HOME
// Locks HOME, serves a few test verbs on its control socket, prints "ready <pid>".

import { lockHome } from './lock.ts'
import { serveControl } from './control.ts'

class FixtureFailureError extends Error {
  name = 'FixtureFailureError'
}

const home = process.argv[2]
const lock = await lockHome(home)
const server = await serveControl(home, {
  echo: async args => args,
  pid: async () => process.pid,
  fail: async args => { throw new FixtureFailureError(String(args.message)) },
  count: async (args, emit) => {
    for (let i = 0; i < Number(args.n); i++) emit({ i })
    return { done: Number(args.n) }
  },
  // Streams forever until the caller goes away: tests kill the holder mid-stream with it.
  forever: async (_args, emit, signal) => {
    emit({ started: true })
    await new Promise(resolve => signal.addEventListener('abort', resolve))
    return null
  },
  stop: async () => {
    setImmediate(() => { void server.close().then(async () => await lock.release()).then(() => process.exit(0)) })
    return 'stopping'
  }
})
// SIGTERM runs the 'exit' handlers (lock file removed); SIGKILL leaves a stale lock behind.
process.on('SIGTERM', () => process.exit(0))
process.stdout.write(`ready ${process.pid}\n`)
