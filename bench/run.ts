// The benchmark harness (`npm run bench`): starts every series' processes, measures
// them interleaved in rounds, and writes the markdown table, the JSON report and the SVG chart.
//
//   node bench/run.ts                  full run: 5,000 samples per latency series
//   node bench/run.ts --quick          500 samples per series (and smaller metrics workloads)
//   node bench/run.ts --only NAME      only series whose name contains NAME (repeatable, or comma list);
//                                      the floor always runs too, so ratios stay defined
//   --samples N  --rounds N  --warmup N  --out DIR (default bench/results)  --list
//   --cpu-prof DIR                     every fixture process writes a .cpuprofile into DIR (open it in
//                                      Chrome DevTools or speedscope for a flame graph)
//
// How a run goes. Every latency series is started once (its peers are separate processes on
// 127.0.0.1, spawned from bench/fixtures/), then warmed up (`--warmup` round trips, discarded),
// then measured in `--rounds` rounds of samples/rounds round trips each, round-robin over the
// series (the starting series rotates each round), so machine noise hits all alike. Only one
// series is measuring at any moment. Metrics series (offline sync, scale) run after, one by one.
// Outputs: the table on stdout, `<stamp>.json` and `<stamp>.svg` in --out; a full default run also
// refreshes `latest.{json,svg,md}` there (quick or partial runs never do).
//
// ADDING A SERIES (the plug-in point; contract in bench/series.ts)
//   1. Write the processes as fixtures in bench/fixtures/. A fixture calls
//      `serveFixture({ measure: count => samplesInMicroseconds }, info)` from bench/fixture-ipc.ts
//      and times its round trips itself with performance.now(). For a Yjs edit round trip reuse
//      bench/fixtures/edit-round-trip.ts (`answerEdits` on peer B, `createEditProbe` on peer A)
//      so every provider is measured with the same payloads and the same answer.
//   2. Write bench/series/<name>.ts exporting a `LatencySeries` ({ kind: 'latency', name, title,
//      start(ctx) -> { info, measure(count), stop() } }) that spawns the fixtures with
//      `spawnFixture` (bench/series/dispatch.ts drives two core peers; bench/series/y-websocket.ts
//      a relay and two clients; bench/series/y-webrtc.ts a whole group inside `unshare -n`), or a
//      `MetricsSeries` ({ kind: 'metrics', name, title, run(ctx) -> { info, rows } }) for
//      non-latency figures: each row is a workload (`N=1000`, `100,000 tasks`) with named metrics
//      `{ value, unit }` in ms / µs / B / MB / updates/s (see the examples in bench/series.ts).
//   3. Add it to SERIES below and remove its placeholder from bench/series/planned.ts.
//   A series that cannot run here throws `SeriesSkipped(reason)` from start/run: it is reported
//   with the reason in the table and JSON, never dropped. Any other error reports it as failed.

import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, copyFileSync } from 'node:fs'
import { cpus, freemem, loadavg, totalmem, tmpdir, platform, release, arch } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { renderChart } from './chart.ts'
import { CPU_PROF_ENV } from './fixture-ipc.ts'
import { renderMarkdown } from './report.ts'
import { computeGoals } from './goals.ts'
import type { BenchReport, LatencyResult, MetricsResult, SeriesResult } from './report.ts'
import { SeriesSkipped } from './series.ts'
import type { LatencyRunner, LatencySeries, MetricsSeries, Series, SeriesContext } from './series.ts'
import { downsampleCdf, summarize } from './stats.ts'
import type { LatencySummary } from './stats.ts'
import { floor } from './series/floor.ts'
import { dispatchEditSeries } from './series/dispatch.ts'
import { libp2pEcho } from './series/libp2p-echo.ts'
import { yWebsocketSeries } from './series/y-websocket.ts'
import { yWebrtcSeries } from './series/y-webrtc.ts'
import { plannedSeries } from './series/planned.ts'
import { taskSeriesList } from './series/task.ts'
import { connectSeriesList } from './series/connect.ts'
import { offlineSync } from './series/offline.ts'
import { connectRtt } from './series/connect-rtt.ts'
import { scale } from './series/scale.ts'
import { heavyYear } from './series/heavy-year.ts'

const SERIES: Series[] = [
  floor,
  libp2pEcho,
  ...dispatchEditSeries,
  ...yWebsocketSeries,
  ...yWebrtcSeries,
  ...taskSeriesList,
  ...connectSeriesList,
  connectRtt,
  offlineSync,
  scale,
  heavyYear,
  ...plannedSeries
]

const FULL_SAMPLES = 5000
const QUICK_SAMPLES = 500
const DEFAULT_ROUNDS = 10
const START_CONCURRENCY = 2
const root = resolve(import.meta.dirname, '..')

const { values: opts } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string', multiple: true },
    samples: { type: 'string' },
    rounds: { type: 'string' },
    warmup: { type: 'string' },
    out: { type: 'string' },
    list: { type: 'boolean', default: false },
    'cpu-prof': { type: 'string' }
  }
})

if (opts.list) {
  for (const s of SERIES) console.log(`${s.name.padEnd(32)} ${s.kind.padEnd(8)} ${s.title}`)
  process.exit(0)
}

const samples = positiveInt(opts.samples, opts.quick ? QUICK_SAMPLES : FULL_SAMPLES, '--samples')
const rounds = Math.min(samples, positiveInt(opts.rounds, DEFAULT_ROUNDS, '--rounds'))
const warmup = positiveInt(opts.warmup, Math.min(500, Math.max(20, Math.round(samples / 10))), '--warmup')
const only = (opts.only ?? []).flatMap(o => o.split(',')).map(o => o.trim()).filter(o => o !== '')
const outDir = resolve(opts.out ?? join(root, 'bench/results'))
const isDefaultFullRun = !opts.quick && only.length === 0 && opts.samples === undefined && opts.rounds === undefined && opts.warmup === undefined && opts.out === undefined

const unknown = only.filter(o => !SERIES.some(s => s.name.includes(o)))
if (unknown.length > 0) {
  process.stderr.write(`--only ${unknown.join(', ')}: no such series (see --list)\n`)
  process.exit(2)
}
const selected = SERIES.filter(s => s.name === 'floor' || only.length === 0 || only.some(o => s.name.includes(o)))
const started = Date.now()
const loadAtStart = loadavg()[0]
const log = (message: string): void => { process.stderr.write(`[bench ${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s] ${message}\n`) }

if (loadAtStart > cpus().length / 2) log(`warning: load average ${loadAtStart.toFixed(1)} on ${cpus().length} cores; other work will show in the figures (recorded in the JSON)`)
if (opts['cpu-prof'] !== undefined) {
  process.env[CPU_PROF_ENV] = resolve(opts['cpu-prof'])
  mkdirSync(process.env[CPU_PROF_ENV], { recursive: true })
}

const tmpRoot = mkdtempSync(join(tmpdir(), 'dispatch-bench-'))
const contextFor = (s: Series): SeriesContext => {
  const dir = join(tmpRoot, s.name.replace(/[^a-zA-Z0-9.-]+/g, '_'))
  mkdirSync(dir, { recursive: true })
  return { root, tmpDir: dir, quick: opts.quick, log: m => log(`${s.name}: ${m}`) }
}

interface Running { series: LatencySeries, runner: LatencyRunner, samples: number[], rounds: number[][], target: number, failed?: string }

const results = new Map<string, SeriesResult>()
const running: Running[] = []

try {
  // Start (and warm up) a few series at a time: process start-up dominates a quick run, and
  // nothing measured here is kept. Series keep their registry order for the rounds.
  const toStart = selected.filter((s): s is LatencySeries => s.kind === 'latency')
  const startedRunners = new Map<LatencySeries, LatencyRunner>()
  const queue = [...toStart]
  await Promise.all(Array.from({ length: START_CONCURRENCY }, async () => {
    for (let s = queue.shift(); s !== undefined; s = queue.shift()) {
      log(`starting ${s.name}`)
      try {
        const runner = await s.start(contextFor(s))
        startedRunners.set(s, runner)
        // Capped series (whole connections per sample) warm up in proportion.
        await runner.measure(Math.min(warmup, Math.max(2, Math.ceil(capOf(s) / 10))))
      } catch (err) {
        await startedRunners.get(s)?.stop()
        startedRunners.delete(s)
        results.set(s.name, notRun(s, err))
        log(`${s.name} ${results.get(s.name)?.status}: ${results.get(s.name)?.reason}`)
      }
    }
  }))
  for (const s of toStart) {
    const runner = startedRunners.get(s)
    if (runner !== undefined) running.push({ series: s, runner, samples: [], rounds: [], target: capOf(s) })
  }
  log(`${running.length} latency series running, measuring`)

  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < running.length; k++) {
      const r = running[(k + round) % running.length]
      if (r.failed !== undefined) continue
      const want = Math.ceil(r.target * (round + 1) / rounds) - r.samples.length
      if (want <= 0) continue
      try {
        const got = await r.runner.measure(want)
        r.samples.push(...got)
        r.rounds.push(got)
      } catch (err) {
        r.failed = err instanceof Error ? err.message : String(err)
        log(`${r.series.name} failed in round ${round + 1}: ${r.failed}`)
      }
    }
    log(`round ${round + 1}/${rounds} done`)
  }
} finally {
  await Promise.all(running.map(r => r.runner.stop()))
}

const floorRun = running.find(r => r.series.name === 'floor' && r.samples.length > 0)
const floorSummary = floorRun === undefined ? undefined : summarize(floorRun.samples)
for (const r of running) {
  const summary = roundSummary(summarize(r.samples))
  const perRound = r.rounds.map(samplesOfRound => roundSummary(summarize(samplesOfRound)))
  const result: LatencyResult = {
    kind: 'latency',
    name: r.series.name,
    title: r.series.title,
    status: r.failed === undefined ? 'ok' : 'failed',
    info: r.runner.info,
    summary,
    // Drift between rounds shows how much machine noise there was.
    perRound: { p50: perRound.map(p => p.p50), p99: perRound.map(p => p.p99) },
    cdf: downsampleCdf(r.samples)
  }
  if (r.failed !== undefined) result.reason = r.failed
  if (floorSummary !== undefined) result.ratioToFloor = { p50: round2(summary.p50 / floorSummary.p50), p99: round2(summary.p99 / floorSummary.p99) }
  results.set(r.series.name, result)
}

for (const s of selected) {
  if (s.kind !== 'metrics') continue
  log(`running ${s.name}`)
  results.set(s.name, await runMetrics(s))
}

const report: BenchReport = {
  schema: 1,
  command: ['npm run bench', ...(process.argv.length > 2 ? ['--', ...process.argv.slice(2)] : [])].join(' '),
  date: new Date(started).toISOString(),
  durationMs: Date.now() - started,
  git: gitState(),
  node: process.version,
  machine: {
    cpus: cpus().length, model: cpus()[0]?.model ?? 'unknown', memMB: Math.round(totalmem() / 2 ** 20), platform: platform(), release: release(), arch: arch(),
    loadavg1m: { start: round2(loadAtStart), end: round2(loadavg()[0]) }
  },
  options: { samples, rounds, warmup, quick: opts.quick, only },
  floor: 'floor',
  series: selected.map(s => results.get(s.name) ?? { kind: s.kind, name: s.name, title: s.title, status: 'failed', reason: 'no result recorded' } as SeriesResult)
}

report.goals = computeGoals(report)
const markdown = renderMarkdown(report)
// Quick and partial runs are marked in the name (and ignored by git: bench/results/.gitignore).
const partial = only.length > 0 || opts.samples !== undefined || opts.rounds !== undefined
const stamp = report.date.replace(/[:.]/g, '-').replace(/-\d+Z$/, 'Z') + (opts.quick ? '-quick' : '') + (partial ? '-partial' : '')
mkdirSync(outDir, { recursive: true })
const jsonPath = join(outDir, `${stamp}.json`)
const svgPath = join(outDir, `${stamp}.svg`)
// One CDF point per line keeps the file readable and diffable.
writeFileSync(jsonPath, JSON.stringify(report, null, 1).replace(/\[\s+((?:-?[\d.e+]+,\s+)*-?[\d.e+]+)\s+\]/g, (_, inner: string) => `[${inner.replace(/\s+/g, ' ')}]`) + '\n')
writeFileSync(svgPath, renderChart(report.series.filter((s): s is LatencyResult => s.kind === 'latency'),
  `Round-trip latency, ${report.machine.cpus} × ${report.machine.model}, Node ${report.node}, ${report.date.slice(0, 10)}`))
if (isDefaultFullRun) {
  copyFileSync(jsonPath, join(outDir, 'latest.json'))
  copyFileSync(svgPath, join(outDir, 'latest.svg'))
  writeFileSync(join(outDir, 'latest.md'), `\`${report.command}\`\n\n${markdown}\n![latency CDF](latest.svg)\n`)
}
rmSync(tmpRoot, { recursive: true, force: true })

process.stdout.write(markdown)
process.stdout.write(`\nwrote ${jsonPath}\nwrote ${svgPath}\n`)
log(`done (free memory ${Math.round(freemem() / 2 ** 20)} MB)`)
// Providers and libp2p leave timers behind in this process only through fixtures; exit explicitly.
process.exit(0)

async function runMetrics (s: MetricsSeries): Promise<MetricsResult> {
  try {
    const out = await s.run(contextFor(s))
    return { kind: 'metrics', name: s.name, title: s.title, status: 'ok', info: out.info, rows: out.rows }
  } catch (err) {
    const nr = notRun(s, err)
    log(`${s.name} ${nr.status}: ${nr.reason}`)
    return { kind: 'metrics', name: s.name, title: s.title, status: nr.status, reason: nr.reason }
  }
}

function notRun (s: Series, err: unknown): SeriesResult {
  const reason = err instanceof Error ? err.message : String(err)
  const status = err instanceof SeriesSkipped ? 'skipped' : 'failed'
  return s.kind === 'latency'
    ? { kind: 'latency', name: s.name, title: s.title, status, reason }
    : { kind: 'metrics', name: s.name, title: s.title, status, reason }
}

function gitState (): { commit: string, dirty: boolean } {
  try {
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim()
    const dirty = execFileSync('git', ['status', '--porcelain'], { cwd: root, encoding: 'utf8' }).trim() !== ''
    return { commit, dirty }
  } catch {
    return { commit: 'unknown', dirty: true }
  }
}

function capOf (s: LatencySeries): number {
  return Math.min(samples, (opts.quick ? s.quickMaxSamples : undefined) ?? s.maxSamples ?? samples)
}

function positiveInt (text: string | undefined, fallback: number, flag: string): number {
  if (text === undefined) return fallback
  const n = Number(text)
  if (!Number.isInteger(n) || n < 1) {
    process.stderr.write(`${flag} needs a positive integer, got '${text}'\n`)
    process.exit(2)
  }
  return n
}

function roundSummary (s: LatencySummary): LatencySummary {
  const r = (x: number): number => Math.round(x * 10) / 10
  return { n: s.n, min: r(s.min), p50: r(s.p50), p90: r(s.p90), p99: r(s.p99), p999: r(s.p999), max: r(s.max), mean: r(s.mean) }
}

function round2 (x: number): number {
  return Math.round(x * 100) / 100
}
