// This project's edit round trip: two processes running core's sync engine, peer to peer
// over libp2p (TCP or WebSockets, Noise, Yamux), same payloads as the Yjs providers.

import { join } from 'node:path'
import { spawnFixture } from '../fixture-ipc.ts'
import type { FixtureProcess } from '../fixture-ipc.ts'
import type { LatencySeries } from '../series.ts'
import { EDIT_PAYLOADS } from '../fixtures/edit-round-trip.ts'
import type { EditPayload } from '../fixtures/edit-round-trip.ts'

type Transport = 'tcp' | 'ws'

function dispatchSeries (transport: Transport, payload: EditPayload): LatencySeries {
  return {
    kind: 'latency',
    name: `dispatch-${transport}/${payload}`,
    title: `this project over libp2p ${transport === 'tcp' ? 'TCP' : 'WebSockets'} (Noise, Yamux), edit round trip, ${payload}`,
    async start () {
      const script = join(import.meta.dirname, '../fixtures/dispatch-peer.ts')
      const started: FixtureProcess[] = []
      const stop = async (): Promise<void> => { for (const p of started.reverse()) await p.stop() }
      try {
        const b = await spawnFixture({ script, args: ['b', transport, payload], label: `dispatch peer B (${transport})` })
        started.push(b)
        const bAddr = (b.info.addrs as string[])[0]
        const a = await spawnFixture({ script, args: ['a', transport, payload, bAddr], label: `dispatch peer A (${transport})` })
        started.push(a)
        await b.call('allow', a.info.peerId)
        await a.call('connect', undefined, 30_000)
        return {
          info: { transport: `libp2p ${transport} + noise + yamux, direct`, processes: 2, ...a.info },
          measure: async count => await a.call('measure', count) as number[],
          stop
        }
      } catch (err) {
        await stop()
        throw err
      }
    }
  }
}

export const dispatchEditSeries: LatencySeries[] = (['tcp', 'ws'] as const).flatMap(t => EDIT_PAYLOADS.map(p => dispatchSeries(t, p)))
