// Three Linux network namespaces for relay scenarios: a desktop side and a phone side that can
// each reach only the relay's namespace (two veth links, no forwarding between them). Needs root
// and `ip netns`; `setUp` says why not otherwise.
//
//   desk 10.77.1.2 <-> 10.77.1.1 relay 10.77.2.1 <-> 10.77.2.2 phone
//
// The relay answers on both of its addresses from either side (each side's default route goes
// to it), so 10.77.1.1 is the relay's address for everyone; nothing is routed across.

import { execFileSync } from 'node:child_process'

export interface RelayNamespaces {
  relay: string
  desk: string
  phone: string
  /** `ip netns exec NAME`: the prefix that runs a command in one of them. */
  exec: (name: string) => string[]
  tearDown: () => void
}

function ip (...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] })
}

/** Builds the namespaces (names start with `tag`), or returns why it cannot. */
export function setUpRelayNamespaces (tag: string): RelayNamespaces | string {
  if (process.platform !== 'linux') return `not Linux (${process.platform})`
  if (process.getuid?.() !== 0) return 'not root'
  const ns = { relay: `${tag}-relay`, desk: `${tag}-desk`, phone: `${tag}-phone` }
  const tearDown = (): void => {
    // A namespace that was never made (set-up failed half way) has nothing to delete.
    for (const name of Object.values(ns)) { try { ip('netns', 'del', name) } catch {} }
  }
  try {
    for (const name of Object.values(ns)) { ip('netns', 'add', name); ip('-n', name, 'link', 'set', 'lo', 'up') }
    for (const [side, net] of [['desk', 1], ['phone', 2]] as const) {
      const a = `${tag}${side[0]}0`
      const b = `${tag}${side[0]}1`
      ip('link', 'add', a, 'netns', ns[side], 'type', 'veth', 'peer', 'name', b, 'netns', ns.relay)
      ip('-n', ns[side], 'addr', 'add', `10.77.${net}.2/24`, 'dev', a)
      ip('-n', ns.relay, 'addr', 'add', `10.77.${net}.1/24`, 'dev', b)
      ip('-n', ns[side], 'link', 'set', a, 'up')
      ip('-n', ns.relay, 'link', 'set', b, 'up')
      ip('-n', ns[side], 'route', 'add', 'default', 'via', `10.77.${net}.1`)
    }
    return { ...ns, exec: name => ['ip', 'netns', 'exec', name], tearDown }
  } catch (err) {
    tearDown()
    return `ip netns unusable: ${((err as { stderr?: Buffer }).stderr?.toString() ?? (err as Error).message).trim()}`
  }
}
