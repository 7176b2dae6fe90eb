// 1,000 connection attempts from an unpaired peer: none reaches the sync protocol, and the
// desktop keeps serving its member (its session stays up and it syncs afterwards).

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { join } from 'node:path'
import { multiaddr } from '@multiformats/multiaddr'
import { createSyncNode, constants } from '../../core/index.ts'
import { controlClient } from '../home/control.ts'
import { API_INPUTS } from '../app/api.ts'
import type { DispatchApi } from '../app/api.ts'
import { ok, freePort, startDesktop, openPair, DispatchProcess, makeScratch } from './cli-process.ts'

const { root, running, cleanup } = await makeScratch('dstrange-')
test.after(cleanup)

test('1,000 attempts by an unpaired peer: none reaches sync; the member keeps syncing', async () => {
  const [desk, phone] = [join(root, 'd'), join(root, 'p')]
  // Paired earlier (by `pair` holding the home itself); the desktop then starts with no invite open.
  const port = await freePort()
  const pair = await openPair(desk, ['--listen', `/ip4/127.0.0.1/tcp/${port}`])
  await ok(phone, ['join', pair.invite, '--yes', '--name', 'pocket'])
  await pair.proc.exited
  const d = await startDesktop(desk, 'desk', port)
  running.add(d.proc)
  const follow = new DispatchProcess(phone, ['sync', '--follow', '--json'])
  running.add(follow)
  const synced = await follow.waitFor(l => l.event === 'synced')

  const stranger = await createSyncNode({ listen: [] })
  const target = multiaddr(d.ready.addrs[0])
  let reachedSync = 0
  let attempts = 0
  try {
    const worker = async (): Promise<void> => {
      while (attempts < 1000) {
        attempts++
        try {
          const connection = await stranger.libp2p.dial(target, { force: true } as any)
          const stream = await connection.newStream(constants.SYNC_PROTOCOL)
          reachedSync++
          stream.abort(new Error('done'))
        } catch {}
      }
    }
    await Promise.all(Array.from({ length: 10 }, worker))
  } finally {
    await stranger.stop()
  }
  assert.is(attempts, 1000)
  assert.is(reachedSync, 0)
  const status = await controlClient<DispatchApi>(desk, API_INPUTS).status({})
  assert.is(status.refusals.sync, 0)
  assert.ok(status.refusals.connection > 0)
  // The member's session never dropped, and a fresh sync works.
  assert.is(synced.peerId, d.ready.peerId)
  const [members] = await ok(desk, ['devices', '--json'])
  assert.equal(members.map((m: any) => [m.name, m.online]), [['pocket', true]])
  assert.ok(status.connected.includes(members[0].peerId))
  assert.not.ok(follow.lines.some(l => l.event === 'disconnected'))
  await follow.stop()
  running.delete(follow)
  const [again] = await ok(phone, ['sync', '--json'])
  assert.is(again.synced.length, 1)
})

test.run()
