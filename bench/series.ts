// The plug-in contract of the benchmark harness: what a series is, what it gets
// from the harness, and the shapes of what it reports (see bench/run.ts for how-to).

/** What the harness hands every series. */
export interface SeriesContext {
  /** Absolute path of the repository root (fixtures are resolved from here). */
  root: string
  /** A private temporary directory for this series, removed after the run. */
  tmpDir: string
  /** True under `--quick`; a series may shrink its own workload (e.g. offline N). */
  quick: boolean
  /** Progress line on stderr, prefixed with the series name. */
  log: (message: string) => void
}

/**
 * A latency series: start its processes once, then the harness asks it for
 * `measure(count)` round trips many times, interleaved with the other series.
 * Samples are measured inside the fixture process (never across the IPC hop).
 */
export interface LatencySeries {
  kind: 'latency'
  /** Stable id, used by `--only` and as the JSON key: `group/variant`, e.g. `y-websocket/map-30B`. */
  name: string
  /** One line for the table and the chart legend. */
  title: string
  /** Optional cap on samples (for expensive samples such as cold connection setup). */
  maxSamples?: number
  /** The cap under `--quick`, when lower than `maxSamples`. */
  quickMaxSamples?: number
  /** Spawn processes, connect, and resolve once a round trip works. Throw `SeriesSkipped` if it cannot run here. */
  start: (ctx: SeriesContext) => Promise<LatencyRunner>
}

export interface LatencyRunner {
  /** Facts about the series worth keeping in the JSON (payload bytes, transport, processes...). */
  info: Record<string, unknown>
  /** Perform `count` sequential round trips and return each one's duration in microseconds. */
  measure: (count: number) => Promise<number[]>
  /** Stop every process the series started. Must not throw. */
  stop: () => Promise<void>
}

/**
 * A metrics series: one run after the latency rounds, reporting non-latency
 * figures (offline sync, scale). Each row is one workload size or variant.
 */
export interface MetricsSeries {
  kind: 'metrics'
  name: string
  title: string
  run: (ctx: SeriesContext) => Promise<MetricsReport>
}

export type Series = LatencySeries | MetricsSeries

export type MetricUnit = 'ms' | 'µs' | 'B' | 'updates/s' | 'MB' | 'count' | 'ratio'

export interface Metric {
  value: number
  unit: MetricUnit
}

/**
 * Example rows (offline sync):
 *   { label: 'N=1000', metrics: { dialToSynced: { value: 93, unit: 'ms' }, wireBytes: { value: 227000, unit: 'B' },
 *     jsonBytes: { value: 197000, unit: 'B' }, replayOneByOne: { value: 410, unit: 'ms' } } }
 * Example rows (scale):
 *   { label: '100,000 tasks', metrics: { coldLoad: {..'ms'}, rss: {..'MB'}, heapUsed: {..'MB'}, docBytes: {..'B'},
 *     docBytesAfterPrune: {..'B'}, statusUpdates: {..'updates/s'}, p99DuringLoad: {..'µs'} } }
 */
export interface MetricsRow {
  label: string
  metrics: Record<string, Metric>
}

export interface MetricsReport {
  info: Record<string, unknown>
  rows: MetricsRow[]
}

/** Thrown by `start`/`run` when a series cannot run on this machine; the message is reported as the reason. */
export class SeriesSkipped extends Error {
  name = 'SeriesSkipped'
}
