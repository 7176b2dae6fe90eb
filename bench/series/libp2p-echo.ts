// Second yardstick: a raw libp2p 3 stream echo (TCP + Noise + Yamux) between two
// processes, i.e. what libp2p costs before any sync protocol runs on top.

import { join } from 'node:path'
import { spawnFixture } from '../fixture-ipc.ts'
import type { LatencySeries } from '../series.ts'

export const libp2pEcho: LatencySeries = {
  kind: 'latency',
  name: 'libp2p-echo',
  title: 'libp2p 3 stream echo, 32 B (TCP + Noise + Yamux)',
  async start () {
    const script = join(import.meta.dirname, '../fixtures/libp2p-echo.ts')
    const server = await spawnFixture({ script, args: ['server'], label: 'libp2p echo server' })
    try {
      const client = await spawnFixture({ script, args: ['client', String(server.info.multiaddr)], label: 'libp2p echo client' })
      return {
        info: { transport: 'libp2p tcp+noise+yamux', processes: 2, ...client.info },
        measure: async count => await client.call('measure', count) as number[],
        stop: async () => { await client.stop(); await server.stop() }
      }
    } catch (err) {
      await server.stop()
      throw err
    }
  }
}
