// y-websocket series: @y/websocket-server relaying between two WebsocketProvider
// clients, three processes, edit round trip for each payload.

import { join } from 'node:path'
import { spawnFixture } from '../fixture-ipc.ts'
import type { FixtureProcess } from '../fixture-ipc.ts'
import type { LatencySeries } from '../series.ts'
import { EDIT_PAYLOADS } from '../fixtures/edit-round-trip.ts'
import type { EditPayload } from '../fixtures/edit-round-trip.ts'

function yWebsocket (payload: EditPayload): LatencySeries {
  return {
    kind: 'latency',
    name: `y-websocket/${payload}`,
    title: `y-websocket 3 via @y/websocket-server 0.1.1, edit round trip, ${payload}`,
    async start () {
      const peer = join(import.meta.dirname, '../fixtures/y-websocket-peer.ts')
      const started: FixtureProcess[] = []
      const stop = async (): Promise<void> => { for (const p of started.reverse()) await p.stop() }
      try {
        const server = await spawnFixture({ script: join(import.meta.dirname, '../fixtures/y-websocket-server.ts'), label: 'y-websocket server' })
        started.push(server)
        const args = [String(server.info.port), `bench-${payload}`, payload]
        started.push(await spawnFixture({ script: peer, args: ['b', ...args], label: 'y-websocket peer B' }))
        const a = await spawnFixture({ script: peer, args: ['a', ...args], label: 'y-websocket peer A' })
        started.push(a)
        return {
          info: { transport: 'websocket relay', processes: 3, ...a.info },
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

export const yWebsocketSeries: LatencySeries[] = EDIT_PAYLOADS.map(yWebsocket)
