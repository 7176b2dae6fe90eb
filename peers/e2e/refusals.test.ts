// Refused pairings through the real CLI, each with its own message and no membership
// change: reused invite, expired invite, wrong secret, multiaddr without secret, and a
// proof replayed by a third identity.

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { base64url } from 'multiformats/bases/base64'
import { createSyncNode, decodeInvite, encodeInvite, inviteProof, constants } from '../../core/index.ts'
import { StreamChannel } from '../../core/net/stream-channel.ts'
import { dispatch, ok, startDesktop, openPair, makeScratch } from './cli-process.ts'

const { home, running, cleanup } = await makeScratch('drefuse-')
test.after(cleanup)

async function names (h: string): Promise<string[]> {
  return (await ok(h, ['devices', '--json']))[0].map((x: any) => x.name).sort()
}

async function refused (h: string, invite: string, message: RegExp): Promise<void> {
  const r = await dispatch(h, ['join', invite, '--yes', '--name', 'intruder'])
  assert.is(r.code, 1, r.stderr)
  assert.match(r.stderr, message)
  assert.is(r.stderr.trim().split('\n').length, 1, r.stderr)
}

test('reused, wrong secret, bare multiaddr, secretless, replayed proof, expired: distinct refusals, no one added', async () => {
  const desk = home()
  const d = await startDesktop(desk, 'desk')
  running.add(d.proc)
  const pair = await openPair(desk)
  await ok(home(), ['join', pair.invite, '--yes', '--name', 'pocket'])
  await pair.proc.waitFor(l => l.event === 'paired')
  assert.equal(await names(desk), ['pocket'])

  await refused(home(), pair.invite, /already used by another device/)

  const second = await openPair(desk)
  const invite = decodeInvite(second.invite)
  await refused(home(), encodeInvite({ ...invite, secret: crypto.getRandomValues(new Uint8Array(16)) }), /wrong invite secret/)
  await refused(home(), d.ready.addrs[0], /bare multiaddr.*no secret/)
  await refused(home(), encodeInvite({ ...invite, secret: new Uint8Array(0) }), /carries no secret/)

  // A third identity replays what it captured from a phone: that phone's id, nonce and proof.
  const thief = await createSyncNode({ listen: [] })
  try {
    const phoneId = (await createSyncNode({ listen: [] }).then(async p => { const id = p.peerId; await p.stop(); return id }))
    const nonce = crypto.getRandomValues(new Uint8Array(16))
    const proof = await inviteProof(invite.secret, phoneId, invite.peerId, nonce)
    const channel = new StreamChannel(await thief.libp2p.dialProtocol(invite.addrs, constants.PAIR_PROTOCOL))
    channel.send(new TextEncoder().encode(JSON.stringify({ type: 'claim', phone: phoneId, nonce: base64url.encode(nonce), proof: base64url.encode(proof), name: 'thief' })))
    const answer = JSON.parse(new TextDecoder().decode(await channel.firstMessage(10_000)))
    assert.equal([answer.type, answer.code], ['refused', 'other-device'])
    assert.match(answer.message, /made for another device/)
  } finally {
    await thief.stop()
  }
  // The invite survived all of that; the pair process still waits. Cancel it.
  await second.proc.stop()

  const short = await openPair(desk, ['--ttl', '1'])
  await new Promise(resolve => setTimeout(resolve, 1500))
  await refused(home(), short.invite, /invite expired at/)
  assert.is(await short.proc.exited, 1)
  assert.match(short.proc.stderr, /expired/)

  assert.equal(await names(desk), ['pocket'])
})

test.run()
