// Commands without the network grant run without network where the OS allows it: on Linux in a
// new network namespace (`unshare -n` as root, `unshare -rn` through a user namespace
// otherwise), on macOS under a `sandbox-exec` profile that denies network. A probe at start-up
// finds what works here; where nothing does, the desktop says so and nobody claims otherwise.

import { execFile } from 'node:child_process'

/** The macOS profile: everything as usual, except any network. */
const MACOS_PROFILE = '(version 1)(allow default)(deny network*)'
const PROBE_TIMEOUT_MS = 5_000

export type NoNetwork =
  /** Commands are run as `prefix ...argv` (Claude's bash too: bash-hook.ts). */
  | { enforced: true, prefix: string[] }
  | { enforced: false, reason: string }

let probed: Promise<NoNetwork> | undefined

/** Which way of cutting the network works for this process's user here (probed once per process). */
export function probeNoNetwork (): Promise<NoNetwork> {
  probed ??= (async (): Promise<NoNetwork> => {
    const candidates: string[][] = process.platform === 'linux'
      ? (process.getuid?.() === 0 ? [['unshare', '-n'], ['unshare', '-rn']] : [['unshare', '-rn']])
      : process.platform === 'darwin' ? [['sandbox-exec', '-p', MACOS_PROFILE]] : []
    if (candidates.length === 0) return { enforced: false, reason: `no way to cut the network of a command is known on ${process.platform}` }
    let last = ''
    for (const prefix of candidates) {
      last = await tryRun([...prefix, '/bin/sh', '-c', 'exit 0'])
      if (last === '') return { enforced: true, prefix }
    }
    return { enforced: false, reason: `${candidates.at(-1)!.slice(0, 2).join(' ')} is not usable here (${last})` }
  })()
  return probed
}

/** `argv` to run without network, or undefined when that cannot be enforced. */
export function withoutNetwork (noNetwork: NoNetwork | undefined, argv: string[]): string[] | undefined {
  return noNetwork?.enforced === true ? [...noNetwork.prefix, ...argv] : undefined
}

/** The one-line notice for a desktop whose commands keep the network although it is not granted. */
export function notEnforcedNotice (reason: string): string {
  return `network not granted, but it cannot be cut for commands here: ${reason}; \`$\` commands and Claude's bash can still reach the network`
}

/** '' when the command ran and exited 0, else what went wrong. */
function tryRun (argv: string[]): Promise<string> {
  return new Promise((resolve) => {
    execFile(argv[0]!, argv.slice(1), { timeout: PROBE_TIMEOUT_MS }, (err, _stdout, stderr) => {
      resolve(err === null ? '' : (String(stderr).trim().split('\n')[0] || err.message))
    })
  })
}

/** Our own constant words, single-quoted for sh. */
export function shellWord (s: string): string {
  return /^[A-Za-z0-9_./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`
}
