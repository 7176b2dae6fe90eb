// Connection setup over an emulated phone link: a delaying TCP proxy (bench/fixtures/delay-proxy.ts,
// 50 ms round trip, the TCP handshake's round trip included) in front of each listener. Reports the
// time from dial to the first completed sync in round trips, for a first connection (peer unknown)
// and a reconnection (peer known), next to bare libp2p's dial + 1-byte echo and a y-websocket
// provider's first sync through the same kind of proxy.

import { join } from 'node:path'
import { spawnFixture } from '../fixture-ipc.ts'
import type { FixtureProcess } from '../fixture-ipc.ts'
import type { MetricsRow, MetricsSeries } from '../series.ts'
import { summarize } from '../stats.ts'

export const LINK_RTT_MS = 50
const SAMPLES = 15
const SAMPLES_QUICK = 6

interface Variant { label: string, start: (started: FixtureProcess[]) => Promise<FixtureProcess> }

const fixtures = join(import.meta.dirname, '../fixtures')

/** A proxy to 127.0.0.1:`port` with the link's round trip; its port. */
async function proxyTo (port: number, started: FixtureProcess[]): Promise<number> {
  const proxy = await spawnFixture({ script: join(fixtures, 'delay-proxy.ts'), args: [String(port), String(LINK_RTT_MS)], label: 'delay proxy' })
  started.push(proxy)
  return Number(proxy.info.port)
}

function dispatchVariant (mode: 'cold' | 'known', label: string): Variant {
  return {
    label,
    async start (started) {
      const b = await spawnFixture({ script: join(fixtures, 'dispatch-peer.ts'), args: ['b', 'tcp', 'map-30B'], label: 'dispatch peer B (link)' })
      started.push(b)
      const bAddr = (b.info.addrs as string[])[0]
      const port = await proxyTo(Number(bAddr.split('/tcp/')[1].split('/')[0]), started)
      const a = await spawnFixture({ script: join(fixtures, 'connect-peer.ts'), args: ['a', mode, `/ip4/127.0.0.1/tcp/${port}/p2p/${bAddr.split('/p2p/')[1]}`], label: `connect peer A (${mode}, link)` })
      started.push(a)
      await b.call('allow', a.info.peerId)
      await a.call('connect', undefined, 30_000)
      return a
    }
  }
}

const VARIANTS: Variant[] = [
  dispatchVariant('cold', 'this engine, first connection'),
  dispatchVariant('known', 'this engine, reconnection'),
  {
    label: 'bare libp2p: dial + 1-byte echo',
    async start (started) {
      const server = await spawnFixture({ script: join(fixtures, 'libp2p-echo.ts'), args: ['server'], label: 'libp2p echo server (link)' })
      started.push(server)
      const addr = String(server.info.multiaddr)
      const port = await proxyTo(Number(addr.split('/tcp/')[1].split('/')[0]), started)
      const dialer = await spawnFixture({ script: join(fixtures, 'libp2p-echo.ts'), args: ['dialer', `/ip4/127.0.0.1/tcp/${port}/p2p/${addr.split('/p2p/')[1]}`], label: 'libp2p dialer (link)' })
      started.push(dialer)
      return dialer
    }
  },
  {
    label: 'y-websocket: first sync',
    async start (started) {
      const server = await spawnFixture({ script: join(fixtures, 'y-websocket-server.ts'), label: 'y-websocket server (link)' })
      started.push(server)
      const port = await proxyTo(Number(server.info.port), started)
      const client = await spawnFixture({ script: join(fixtures, 'y-websocket-connect.ts'), args: [`ws://127.0.0.1:${port}`, 'link'], label: 'y-websocket client (link)' })
      started.push(client)
      return client
    }
  }
]

export const connectRtt: MetricsSeries = {
  kind: 'metrics',
  name: 'connect-rtt',
  title: `dial -> first completed sync over an emulated ${LINK_RTT_MS} ms round-trip link (delaying TCP proxy), in round trips`,
  async run (ctx) {
    const rows: MetricsRow[] = []
    const samples = ctx.quick ? SAMPLES_QUICK : SAMPLES
    for (const variant of VARIANTS) {
      ctx.log(variant.label)
      const started: FixtureProcess[] = []
      try {
        const measurer = await variant.start(started)
        await measurer.call('measure', 2, 60_000) // warm-up, discarded
        const us = await measurer.call('measure', samples, 120_000) as number[]
        const s = summarize(us)
        rows.push({
          label: variant.label,
          metrics: {
            p50: { value: round1(s.p50 / 1000), unit: 'ms' },
            p50Rtt: { value: round2(s.p50 / 1000 / LINK_RTT_MS), unit: 'ratio' },
            minRtt: { value: round2(s.min / 1000 / LINK_RTT_MS), unit: 'ratio' },
            samples: { value: s.n, unit: 'count' }
          }
        })
      } finally {
        for (const p of started.reverse()) await p.stop()
      }
    }
    return {
      info: {
        linkRttMs: LINK_RTT_MS,
        proxy: 'bench/fixtures/delay-proxy.ts: each byte delayed half a round trip each way; the dialer\'s first byte held one round trip more (the TCP handshake a real link would cost)',
        rtt: 'p50Rtt = p50 ms / link round trip; minRtt = the fastest sample: what the protocol costs with the least CPU time on top',
        dispatch: 'first connection: the peer is unknown to the peer store (deleted before every dial); reconnection: its record kept, dialled by peer id',
        samplesEach: samples
      },
      rows
    }
  }
}

function round1 (x: number): number { return Math.round(x * 10) / 10 }
function round2 (x: number): number { return Math.round(x * 100) / 100 }
