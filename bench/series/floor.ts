// The floor: round trip of 32 bytes over raw TCP between two processes, the
// yardstick every other series is divided by.

import { join } from 'node:path'
import { spawnFixture } from '../fixture-ipc.ts'
import type { LatencySeries } from '../series.ts'

export const floor: LatencySeries = {
  kind: 'latency',
  name: 'floor',
  title: 'raw TCP echo, 32 B (node:net, no-delay)',
  async start () {
    const script = join(import.meta.dirname, '../fixtures/tcp-echo.ts')
    const server = await spawnFixture({ script, args: ['server'], label: 'tcp echo server' })
    try {
      const client = await spawnFixture({ script, args: ['client', String(server.info.port)], label: 'tcp echo client' })
      return {
        info: { transport: 'tcp', processes: 2, ...client.info },
        measure: async count => await client.call('measure', count) as number[],
        stop: async () => { await client.stop(); await server.stop() }
      }
    } catch (err) {
      await server.stop()
      throw err
    }
  }
}
