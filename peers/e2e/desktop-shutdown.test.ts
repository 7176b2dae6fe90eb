// Stopping a real `dispatch desktop` with SIGTERM, again and again: it exits 0 every time. The
// desktop listens on TCP and WebRTC-direct, which loads node-datachannel's native threads; those
// used to abort the process at exit now and then (`tpp.c: __pthread_tpp_change_priority`).

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { DispatchProcess, makeScratch } from './cli-process.ts'

const { home, running, cleanup } = await makeScratch('dshutdown-')
test.after(cleanup)

const ROUNDS = 20

test(`SIGTERM ${ROUNDS} times: the desktop (TCP + WebRTC-direct) exits 0 each time, nothing on stderr`, async () => {
  const desk = home()
  const codes: Array<number | null> = []
  for (let i = 0; i < ROUNDS; i++) {
    const proc = new DispatchProcess(desk, ['desktop', '--json', '--name', 'desk', '--listen', '/ip4/127.0.0.1/tcp/0', '--listen', '/ip4/127.0.0.1/udp/0/webrtc-direct'], { ANTHROPIC_API_KEY: '' })
    running.add(proc)
    const ready = await proc.waitFor(l => l.event === 'ready', 60_000)
    assert.ok(ready.addrs.some((a: string) => a.includes('/webrtc-direct')), `listening on WebRTC-direct: ${JSON.stringify(ready.addrs)}`)
    const code = await proc.stop()
    running.delete(proc)
    assert.not.match(proc.stderr, /Assertion|Aborted|core dumped/, `round ${i + 1}: ${proc.stderr}`)
    assert.is(proc.child.signalCode, null, `round ${i + 1}: killed by ${String(proc.child.signalCode)}; stderr: ${proc.stderr}`)
    codes.push(code)
  }
  assert.equal(codes, Array(ROUNDS).fill(0))
})

test.run()
