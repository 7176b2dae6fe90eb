// Offline sync: N tasks created on a phone that was never connected; time from dial to the
// desktop holding all N, bytes on the sync stream against the JSON of the same tasks, and the
// same N updates replayed one by one (what a provider queueing offline edits would send).

import { join } from 'node:path'
import { spawnFixture } from '../fixture-ipc.ts'
import type { FixtureProcess } from '../fixture-ipc.ts'
import type { MetricsRow, MetricsSeries } from '../series.ts'
import { percentile } from '../stats.ts'

const SIZES = [100, 1000, 10_000]
/** `--quick` runs N = 1,000 only (each N is two fresh processes, ~8 s here) to stay within its budget. */
const QUICK_SIZES = [1000]
const BASELINE_N = 1000
/** Warm syncs per N (each its own phone node and N tasks), reported as their median; one at 10,000, where building the tasks takes seconds. */
const warmSamples = (n: number): number => n <= BASELINE_N ? 5 : 1
/**
 * Before each warm sample: libp2p refuses a host's sixth inbound connection within a second
 * (inboundConnectionThreshold), and every sample is a new connection from 127.0.0.1.
 */
async function pauseForInboundLimit (): Promise<void> {
  await new Promise(resolve => setTimeout(resolve, 1_100))
}

interface SyncResult { ms: number, phases: Record<string, number>, wireBytes: number, sentBytes: number, jsonBytes: number, v1Bytes: number, v2Bytes: number, updates: number }
interface ReplayResult { ms: number, wireBytes: number, messages: number }

export const offlineSync: MetricsSeries = {
  kind: 'metrics',
  name: 'offline-sync',
  title: 'N tasks created offline: dial-to-all-held, sync-stream bytes vs JSON, one-by-one replay',
  async run (ctx) {
    const script = join(import.meta.dirname, '../fixtures/offline-peer.ts')
    const rows: MetricsRow[] = []
    for (const n of ctx.quick ? QUICK_SIZES : SIZES) {
      ctx.log(`N=${n}`)
      const started: FixtureProcess[] = []
      try {
        const k = warmSamples(n)
        const desk = await spawnFixture({ script, args: ['desktop', join(ctx.tmpDir, `desk-${n}`), String(n), String(k)], label: `offline desktop N=${n}` })
        started.push(desk)
        const phone = await spawnFixture({ script, args: ['phone', join(ctx.tmpDir, `phone-${n}`), String(n), String(k), (desk.info.addrs as string[])[0]], label: `offline phone N=${n}`, readyTimeoutMs: 120_000 })
        started.push(phone)
        await desk.call('allow', phone.info.peerId)
        const warmPeers = phone.info.warmPeerIds as string[]
        for (const [i, peerId] of warmPeers.entries()) await desk.call('allowWarm', [i, peerId])
        const sync = await phone.call('sync', undefined, 90_000) as SyncResult
        const phases = { ...sync.phases, ...await desk.call('phases') as Record<string, number> }
        ctx.log(`N=${n}: ${describePhases(phases)}`)
        const warm: Array<{ ms: number, phases: Record<string, number>, cpuMs: number, deskCpuMs: number }> = []
        for (let i = 0; i < k; i++) {
          await pauseForInboundLimit()
          const deskCpu0 = await desk.call('cpuMs') as number
          const sample = await phone.call('syncWarm', i, 90_000) as { ms: number, phases: Record<string, number>, cpuMs: number }
          warm.push({ ...sample, deskCpuMs: await desk.call('cpuMs') as number - deskCpu0 })
          ctx.log(`N=${n}, warm ${i + 1}/${k}: ${describePhases({ ...sample.phases, ...await desk.call('warmPhases', i) as Record<string, number> })}`)
        }
        const replay = await phone.call('replay', undefined, 120_000) as ReplayResult
        rows.push({
          label: `N=${n.toLocaleString('en-US')}`,
          metrics: {
            dialToAllHeld: { value: round1(median(warm.map(w => w.ms))), unit: 'ms' },
            warmSamples: { value: k, unit: 'count' },
            dialToAllHeldCold: { value: round1(sync.ms), unit: 'ms' },
            warmCpuPhone: { value: round1(median(warm.map(w => w.cpuMs))), unit: 'ms' },
            warmCpuDesktop: { value: round1(median(warm.map(w => w.deskCpuMs))), unit: 'ms' },
            wireBytes: { value: sync.wireBytes, unit: 'B' },
            jsonBytes: { value: sync.jsonBytes, unit: 'B' },
            wireToJson: { value: round2(sync.wireBytes / sync.jsonBytes), unit: 'ratio' },
            docBytesV1: { value: sync.v1Bytes, unit: 'B' },
            docBytesV2: { value: sync.v2Bytes, unit: 'B' },
            replayOneByOne: { value: round1(replay.ms), unit: 'ms' },
            replayWireBytes: { value: replay.wireBytes, unit: 'B' }
          }
        })
      } finally {
        for (const p of started.reverse()) await p.stop()
      }
    }
    // Yardsticks at N = 1,000: the same tasks by a plain y-protocols exchange over bare libp2p, and by y-websocket.
    const baseline = join(import.meta.dirname, '../fixtures/offline-baseline.ts')
    const n = BASELINE_N
    for (const kind of ['libp2p', 'y-websocket'] as const) {
      ctx.log(`N=${n}, ${kind}`)
      const started: FixtureProcess[] = []
      try {
        let phone: FixtureProcess
        if (kind === 'libp2p') {
          const desk = await spawnFixture({ script: baseline, args: ['libp2p-desktop', String(n), String(warmSamples(n))], label: 'y-protocols desktop (bare libp2p)' })
          started.push(desk)
          phone = await spawnFixture({ script: baseline, args: ['libp2p-phone', String(n), String(warmSamples(n)), String(desk.info.multiaddr)], label: 'y-protocols phone (bare libp2p)', readyTimeoutMs: 120_000 })
        } else {
          const server = await spawnFixture({ script: join(import.meta.dirname, '../fixtures/y-websocket-server.ts'), label: 'y-websocket server (offline)' })
          started.push(server)
          const url = `ws://127.0.0.1:${String(server.info.port)}`
          started.push(await spawnFixture({ script: baseline, args: ['ws-desktop', String(n), String(warmSamples(n)), url], label: 'y-websocket desktop' }))
          phone = await spawnFixture({ script: baseline, args: ['ws-phone', String(n), String(warmSamples(n)), url], label: 'y-websocket phone', readyTimeoutMs: 120_000 })
        }
        started.push(phone)
        const cold = await phone.call('sync', 'cold', 90_000) as number
        const warm: number[] = []
        for (let i = 0; i < warmSamples(n); i++) {
          await pauseForInboundLimit()
          warm.push(await phone.call('sync', `warm-${i}`, 90_000) as number)
        }
        rows.push({
          label: `N=${n.toLocaleString('en-US')}, ${kind === 'libp2p' ? 'bare libp2p + y-protocols' : 'y-websocket'}`,
          metrics: { dialToAllHeld: { value: round1(median(warm)), unit: 'ms' }, warmSamples: { value: warm.length, unit: 'count' }, dialToAllHeldCold: { value: round1(cold), unit: 'ms' } }
        })
      } finally {
        for (const p of started.reverse()) await p.stop()
      }
    }
    return {
      info: {
        transport: 'libp2p tcp + noise + yamux, direct; FileStore (fsync on) on both sides; task board on both',
        yardsticks: `N=${BASELINE_N}: the same tasks by a plain y-protocols exchange over a bare libp2p stream (no store, no board; bench/fixtures/offline-baseline.ts) and by two y-websocket providers through the relay; same ack, cold then warm`,
        wireBytes: 'sync-stream frames both ways (hello, state vectors, sync step 2, awareness, the ack); Noise adds 18 B and Yamux 12 B per frame on top',
        dialToAllHeld: 'from dial to the phone seeing the desktop\'s ack (written once its board holds N tasks): includes the ack\'s one-way trip; warm: the median of warmSamples syncs, each by another phone node in the same process with its own N tasks, after one sync had run in both processes (what a running desktop sees); dialToAllHeldCold: the first sync of two fresh processes',
        warmCpu: 'CPU time (user + system) each process spent per warm sync (median over the samples): what the sync costs whatever the machine\'s load',
        jsonBytes: 'JSON.stringify of the phone\'s board.list() (the same N tasks)',
        docBytes: 'Y.encodeStateAsUpdate (v1, what goes on the wire) and Y.encodeStateAsUpdateV2 of the phone\'s document',
        replayOneByOne: 'the N stored updates applied one by one to a fresh space: one sync message each',
        ...(ctx.quick ? { quick: '--quick: N = 1,000 only (100 and 10,000 in the full run)' } : {})
      },
      rows
    }
  }
}

/** Each step's offset from the dial, in ms, in the order they happened. */
function describePhases (phases: Record<string, number>): string {
  const t0 = phases.phoneDial
  return Object.entries(phases).sort((a, b) => a[1] - b[1]).map(([k, t]) => `${k} +${(t - t0).toFixed(1)}`).join(', ')
}

function median (xs: readonly number[]): number {
  return percentile([...xs].sort((a, b) => a - b), 0.5)
}

function round1 (x: number): number { return Math.round(x * 10) / 10 }
function round2 (x: number): number { return Math.round(x * 100) / 100 }
