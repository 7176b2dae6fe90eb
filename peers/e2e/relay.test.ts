// Issue 6 through the CLI, across real network boundaries: `dispatch relay` in its own network
// namespace, a desktop holding a slot on it (`--relay`, kept in config.json) in a namespace the
// phone cannot reach, and a phone in a third namespace that pairs from the invite and gets a task
// done. The phone is shown it cannot reach the desktop's direct address, so the relay is the only
// way the task can have gone. Needs root and `ip netns`; otherwise skipped, saying why.

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { spawnSync } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { decodeInvite } from '../../core/index.ts'
import { setUpRelayNamespaces } from '../../core/e2e/netns.ts'
import { ok, openPair, DispatchProcess, makeScratch } from './cli-process.ts'

const made = setUpRelayNamespaces(`r${process.pid % 100000}`)
const scratch = await makeScratch('drelay-')
const { root, running } = scratch
test.after(async () => {
  await scratch.cleanup()
  if (typeof made !== 'string') made.tearDown()
})

/** Can a TCP connection from namespace `ns` reach host:port? (A 5 s attempt: unreachable means no answer at all.) */
function reaches (ns: string, host: string, port: number): string {
  const probe = `const s = require('node:net').connect(${port}, '${host}'); s.setTimeout(5000);` +
    `s.on('connect', () => { console.log('reached'); process.exit(0) }); s.on('timeout', () => { console.log('timeout'); process.exit(0) });` +
    `s.on('error', e => { console.log(e.code); process.exit(0) })`
  return spawnSync('ip', ['netns', 'exec', ns, process.execPath, '-e', probe], { encoding: 'utf8' }).stdout.trim()
}

const name = 'a task through `dispatch relay` when only the relay connects the phone\'s and the desktop\'s networks'
if (typeof made === 'string') {
  console.log(`SKIPPED: ${name}: ${made}`)
  test.skip(`${name} (skipped: ${made})`, () => {})
} else {
  const ns = made
  test(name, async () => {
    const env = { ANTHROPIC_API_KEY: '', DISPATCH_MDNS: '0' }
    const relay = new DispatchProcess(join(root, 'relay'), ['relay', '--json', '--listen', '/ip4/0.0.0.0/tcp/4319'], env, ns.exec(ns.relay))
    running.add(relay)
    const ready = await relay.waitFor(l => l.event === 'ready')
    // 10.77.1.1 is the relay's address on the desktop's link; the phone reaches it through its own link.
    const relayAddr = `/ip4/10.77.1.1/tcp/4319/p2p/${ready.peerId as string}`

    const desk = join(root, 'desk')
    const phone = join(root, 'phone')
    const desktop = new DispatchProcess(desk, ['desktop', '--json', '--name', 'studio', '--listen', '/ip4/10.77.1.2/tcp/0', '--allow', root, '--terminal', '--relay', relayAddr], env, ns.exec(ns.desk))
    running.add(desktop)
    const deskReady = await desktop.waitFor(l => l.event === 'ready')
    const config = JSON.parse(await readFile(join(desk, 'config.json'), 'utf8'))
    assert.equal(config.relays, [relayAddr])

    // The phone cannot reach the desktop directly: nothing routes between the two namespaces.
    const direct = (deskReady.addrs as string[]).find(a => a.startsWith('/ip4/10.77.1.2/tcp/'))!
    const port = Number(/\/tcp\/(\d+)/.exec(direct)![1])
    assert.not.equal(reaches(ns.phone, '10.77.1.2', port), 'reached', 'the phone must not reach the desktop directly')
    assert.is(reaches(ns.phone, '10.77.1.1', 4319), 'reached', 'the phone reaches the relay')

    // Wait for the reservation to show in an invite; the invite keeps its direct address too.
    let paired = false
    for (let i = 0; i < 60 && !paired; i++) {
      const pair = await openPair(desk)
      running.add(pair.proc)
      const addrs = decodeInvite(pair.invite).addrs.map(a => a.toString())
      if (addrs.some(a => a.includes('/p2p-circuit'))) {
        assert.ok(addrs.some(a => a.startsWith('/ip4/10.77.1.2/')), `the invite also holds the unreachable direct address: ${addrs.join(' ')}`)
        await ok(phone, ['join', pair.invite, '--yes', '--name', 'pocket'], ns.exec(ns.phone))
        await pair.proc.waitFor(l => l.event === 'paired')
        paired = true
      } else {
        await pair.proc.stop()
        await new Promise(resolve => setTimeout(resolve, 250))
      }
    }
    assert.ok(paired, 'the desktop never listed a relay address in its invite')

    const watch = new DispatchProcess(phone, ['watch', '--json'], env, ns.exec(ns.phone))
    running.add(watch)
    await watch.waitFor(l => l.event === 'watching')
    const [ack] = await ok(phone, ['add', '--json', '--to', 'studio', '$ echo through the relay'], ns.exec(ns.phone))
    await watch.waitFor(l => l.event === 'status' && l.id === ack.id && l.status === 'done', 90_000)
    const [task] = await ok(phone, ['show', ack.id, '--json'], ns.exec(ns.phone))
    assert.is(task.status, 'done')
    assert.match(task.result, /through the relay/)
  })
}

test.run()
