// Connection setup: dial -> Noise -> Yamux -> first completed sync, against a peer whose record
// is unknown ('cold', deleted from the peer store before every dial) or known from the last connection.

import { join } from 'node:path'
import { spawnFixture } from '../fixture-ipc.ts'
import type { FixtureProcess } from '../fixture-ipc.ts'
import type { LatencySeries } from '../series.ts'

/**
 * Each sample is a whole connection, and dials are spaced 230 ms apart (libp2p resets more than
 * 5 inbound connections per second from one host): fewer samples keep the run short.
 */
const CONNECT_SAMPLES = 60
const CONNECT_SAMPLES_QUICK = 15

function connectSeries (mode: 'cold' | 'known'): LatencySeries {
  return {
    kind: 'latency',
    name: `connect/${mode}`,
    title: mode === 'cold'
      ? 'connection setup: dial -> Noise -> Yamux -> first completed sync, peer unknown to the peer store'
      : 'connection setup with a known peer (reconnection: peer-store record kept)',
    maxSamples: CONNECT_SAMPLES,
    quickMaxSamples: CONNECT_SAMPLES_QUICK,
    async start (ctx) {
      const started: FixtureProcess[] = []
      const stop = async (): Promise<void> => { for (const p of started.reverse()) await p.stop() }
      try {
        const b = await spawnFixture({ script: join(import.meta.dirname, '../fixtures/dispatch-peer.ts'), args: ['b', 'tcp', 'map-30B'], label: 'connect peer B' })
        started.push(b)
        const bAddr = (b.info.addrs as string[])[0]
        const a = await spawnFixture({ script: join(import.meta.dirname, '../fixtures/connect-peer.ts'), args: ['a', mode, bAddr], label: `connect peer A (${mode})` })
        started.push(a)
        await b.call('allow', a.info.peerId)
        await a.call('connect', undefined, 30_000)
        return {
          info: { transport: 'libp2p tcp + noise (XX) + yamux, direct', processes: 2, samplesCap: ctx.quick ? CONNECT_SAMPLES_QUICK : CONNECT_SAMPLES, dialSpacingMs: 230, ...a.info },
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

/** Yardsticks for setup: bare libp2p's dial + echo stream + 1-byte round trip, and a y-websocket provider's first sync. */
const libp2pDialEcho: LatencySeries = {
  kind: 'latency',
  name: 'connect/libp2p-dial-echo',
  title: 'bare libp2p setup: dial -> Noise -> Yamux -> echo stream -> 1-byte round trip (js-libp2p perf\'s measure)',
  maxSamples: CONNECT_SAMPLES,
  quickMaxSamples: CONNECT_SAMPLES_QUICK,
  async start () {
    const script = join(import.meta.dirname, '../fixtures/libp2p-echo.ts')
    const server = await spawnFixture({ script, args: ['server'], label: 'libp2p echo server (setup)' })
    try {
      const dialer = await spawnFixture({ script, args: ['dialer', String(server.info.multiaddr)], label: 'libp2p dialer' })
      return {
        info: { transport: 'libp2p tcp + noise + yamux, stock', processes: 2, ...dialer.info },
        measure: async count => await dialer.call('measure', count) as number[],
        stop: async () => { await dialer.stop(); await server.stop() }
      }
    } catch (err) {
      await server.stop()
      throw err
    }
  }
}

const yWebsocketConnect: LatencySeries = {
  kind: 'latency',
  name: 'connect/y-websocket',
  title: 'y-websocket setup: new WebsocketProvider -> first completed sync with the relay',
  maxSamples: CONNECT_SAMPLES,
  quickMaxSamples: CONNECT_SAMPLES_QUICK,
  async start () {
    const server = await spawnFixture({ script: join(import.meta.dirname, '../fixtures/y-websocket-server.ts'), label: 'y-websocket server (setup)' })
    try {
      const client = await spawnFixture({ script: join(import.meta.dirname, '../fixtures/y-websocket-connect.ts'), args: [`ws://127.0.0.1:${String(server.info.port)}`, 'setup'], label: 'y-websocket connecting client' })
      return {
        info: { transport: 'websocket relay', processes: 2, ...client.info },
        measure: async count => await client.call('measure', count) as number[],
        stop: async () => { await client.stop(); await server.stop() }
      }
    } catch (err) {
      await server.stop()
      throw err
    }
  }
}

export const connectSeriesList: LatencySeries[] = [connectSeries('cold'), connectSeries('known'), libp2pDialEcho, yWebsocketConnect]
