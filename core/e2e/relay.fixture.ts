// A circuit relay in its own process for the core's multi-process tests.
//   node core/e2e/relay.fixture.ts <key-file> [options-json]  -> {"event":"ready","peerId":…,"addrs":[…]}
// Options: { listen?: string[], limits?: RelayLimits }. Stops on SIGTERM or when stdin closes.

import { createRelayNode } from '../net/relay.ts'
import type { RelayLimits } from '../net/relay.ts'
import { loadOrCreateIdentity } from '../identity.ts'

const [keyFile, optionsJson = '{}'] = process.argv.slice(2)
const options = JSON.parse(optionsJson) as { listen?: string[], limits?: RelayLimits }
const relay = await createRelayNode({
  privateKey: await loadOrCreateIdentity(keyFile),
  listen: options.listen ?? ['/ip4/127.0.0.1/tcp/0'],
  limits: options.limits
})
process.stdout.write(JSON.stringify({ event: 'ready', peerId: relay.peerId, addrs: relay.addrs() }) + '\n')
const stop = (): void => { void relay.stop().finally(() => process.exit(0)) }
process.on('SIGTERM', stop)
process.stdin.on('end', stop)
process.stdin.resume()
