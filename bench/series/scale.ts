// Scale: spaces of 10,000 and 100,000 tasks (half finished). Per size: encoded document size
// before and after prune, cold load from the store (store -> doc -> task board) with RSS and heap,
// and (10,000 only) sustained heartbeat throughput between two peers with the edit round trip's
// p99 while it runs. 100,000 tasks run in the full run only, without the throughput part; their
// prune (50,000 finished tasks) took 101 s with stock Yjs (see patches/); `--quick` skips 100,000.

import { cpSync } from 'node:fs'
import { join } from 'node:path'
import { spawnFixture } from '../fixture-ipc.ts'
import type { FixtureProcess } from '../fixture-ipc.ts'
import type { MetricsRow, MetricsSeries } from '../series.ts'
import { summarize } from '../stats.ts'

const FLOOD_MS = 3000
const FLOOD_MS_QUICK = 1000
const BIG_TIMEOUT_MS = 240_000

interface Built { buildMs: number, pruneMs?: number, pruneStoreMs?: number, docBytes: number, docBytesV2: number, docBytesAfterPrune?: number, docBytesAfterPruneV2?: number }

/** Before the Yjs patch (patches/yjs+*.patch): one prune transaction over 50,000 finished tasks. */
const PRUNE_100K_NOTE = '100,000 tasks: with stock Yjs, deleting the 50,000 finished tasks in one transaction took 101 s (each merged deleted range spliced the whole struct array); patches/yjs+13.6.33.patch merges them in one pass'
interface Loaded { loadMs: number, boardMs: number, rssMB: number, heapMB: number, held: number, addrs: string[], peerId: string }
interface Probe { received: number, elapsedMs: number, samples: number[] }

export const scale: MetricsSeries = {
  kind: 'metrics',
  name: 'scale',
  title: 'space with 10k / 100k tasks (half finished): cold load, RSS/heap, doc size before/after prune, status-update throughput + p99',
  async run (ctx) {
    const script = join(import.meta.dirname, '../fixtures/scale-peer.ts')
    const rows: MetricsRow[] = []
    const notes: string[] = []
    const sizes: Array<{ n: number, throughput: boolean, prune: boolean }> = ctx.quick
      ? [{ n: 10_000, throughput: true, prune: true }]
      : [{ n: 10_000, throughput: true, prune: true }, { n: 100_000, throughput: false, prune: true }]
    if (ctx.quick) notes.push('--quick: 100,000 tasks skipped (build, store and cold load take about a minute here); run without --quick for it')
    else notes.push(PRUNE_100K_NOTE, '100,000 tasks: no throughput part (two peers would each cold-load ~20 s); the 10,000 row has it')
    for (const { n, throughput, prune } of sizes) {
      const label = `${n.toLocaleString('en-US')} tasks`
      ctx.log(`${label}: building`)
      const started: FixtureProcess[] = []
      try {
        const deskDir = join(ctx.tmpDir, `desk-${n}`)
        const builder = await spawnFixture({ script, args: ['build', deskDir, String(n), ...(prune ? [] : ['noprune'])], label: `scale build ${n}`, readyTimeoutMs: BIG_TIMEOUT_MS })
        const built = builder.info as unknown as Built
        await builder.stop()
        const metrics: MetricsRow['metrics'] = {
          docBytes: { value: built.docBytes, unit: 'B' },
          docBytesV2: { value: built.docBytesV2, unit: 'B' }
        }
        if (built.docBytesAfterPrune !== undefined) metrics.docBytesAfterPrune = { value: built.docBytesAfterPrune, unit: 'B' }
        if (built.docBytesAfterPruneV2 !== undefined) metrics.docBytesAfterPruneV2 = { value: built.docBytesAfterPruneV2, unit: 'B' }
        if (built.pruneMs !== undefined) metrics.pruneMs = { value: built.pruneMs, unit: 'ms' }
        if (built.pruneStoreMs !== undefined) metrics.pruneStoreMs = { value: built.pruneStoreMs, unit: 'ms' }
        ctx.log(`${label}: cold load`)
        const phoneDir = join(ctx.tmpDir, `phone-${n}`)
        if (throughput) cpSync(deskDir, phoneDir, { recursive: true })
        const desk = await spawnFixture({ script, args: ['peer', deskDir, String(n), 'desktop'], label: `scale desktop ${n}`, readyTimeoutMs: BIG_TIMEOUT_MS })
        started.push(desk)
        const loaded = desk.info as unknown as Loaded
        metrics.coldLoad = { value: Math.round(loaded.loadMs), unit: 'ms' }
        metrics.coldLoadWithBoard = { value: Math.round(loaded.boardMs), unit: 'ms' }
        metrics.rss = { value: loaded.rssMB, unit: 'MB' }
        metrics.heapUsed = { value: loaded.heapMB, unit: 'MB' }
        if (throughput) {
          ctx.log(`${label}: status-update throughput`)
          const phone = await spawnFixture({ script, args: ['peer', phoneDir, String(n), 'phone', loaded.addrs[0]], label: `scale phone ${n}`, readyTimeoutMs: BIG_TIMEOUT_MS })
          started.push(phone)
          await desk.call('allow', phone.info.peerId)
          await phone.call('connect', undefined, BIG_TIMEOUT_MS)
          const ms = ctx.quick ? FLOOD_MS_QUICK : FLOOD_MS
          const [sent, probe] = await Promise.all([desk.call('flood', ms, ms + 60_000) as Promise<number>, phone.call('probe', ms, ms + 60_000) as Promise<Probe>])
          const lat = summarize(probe.samples)
          metrics.statusUpdates = { value: Math.round(probe.received / (probe.elapsedMs / 1000)), unit: 'updates/s' }
          metrics.sentDuringFlood = { value: sent, unit: 'count' }
          metrics.p50DuringLoad = { value: Math.round(lat.p50), unit: 'µs' }
          metrics.p99DuringLoad = { value: Math.round(lat.p99), unit: 'µs' }
          metrics.probeSamples = { value: lat.n, unit: 'count' }
        }
        rows.push({ label, metrics })
      } finally {
        for (const p of started.reverse()) await p.stop()
      }
    }
    return {
      info: {
        layout: 'the task board\'s: half the tasks done (claimed -> running -> done, two log entries), half running; peer ids as device ids',
        prune: 'pruneMs: TaskBoard.removeTasks of every finished task, one transaction, the board\'s observer included; pruneStoreMs: appending that update to the FileStore (fsync on)',
        docBytes: 'Y.encodeStateAsUpdate (v1) and ...V2 of the whole document',
        coldLoad: 'FileStore snapshot -> Y.Doc (openSpace); coldLoadWithBoard adds the task board\'s first pass over every task',
        memory: 'process RSS and V8 heap after load and a forced GC (the process also runs a libp2p node)',
        throughput: `desktop writes heartbeats (TaskBoard.heartbeat, one transaction each, batches of 20 between event-loop turns) for ${ctx.quick ? FLOOD_MS_QUICK : FLOOD_MS} ms; updates/s = heartbeats the phone's board took in per second; p50/p99DuringLoad = edit round trips (map-30B) timed on the phone meanwhile`,
        notes
      },
      rows
    }
  }
}
