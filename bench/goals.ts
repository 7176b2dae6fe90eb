// Issue 16's figures, read from one run's results: each with its goal, whether it is met, and its
// ratio to the bare-libp2p and y-websocket yardsticks measured in the same run (where one exists).

import type { BenchReport, LatencyResult, MetricsResult } from './report.ts'

export interface GoalRow {
  figure: string
  unit: string
  value: number | null
  libp2p?: number | null
  yWebsocket?: number | null
  /** The goal as text, and the test it implies. */
  goal: string
  met: boolean | null
}

type Pick = (r: BenchReport) => number | null

const latency = (name: string, field: 'p50' | 'p99'): Pick => r => {
  const s = r.series.find((x): x is LatencyResult => x.kind === 'latency' && x.name === name)
  return s?.summary?.[field] ?? null
}
const metric = (series: string, label: string, key: string): Pick => r => {
  const s = r.series.find((x): x is MetricsResult => x.kind === 'metrics' && x.name === series)
  return s?.rows?.find(row => row.label === label)?.metrics[key]?.value ?? null
}
const sum = (...picks: Pick[]): Pick => r => {
  const values = picks.map(p => p(r))
  return values.some(v => v === null) ? null : values.reduce<number>((a, v) => a + (v ?? 0), 0)
}

interface GoalSpec { figure: string, unit: string, ours: Pick, libp2p?: Pick, yWebsocket?: Pick, goal: string, test: (v: number, r: BenchReport) => boolean }

const SPECS: GoalSpec[] = [
  { figure: 'connect over a 50 ms link, first connection (p50)', unit: 'RTT', ours: metric('connect-rtt', 'this engine, first connection', 'p50Rtt'), libp2p: metric('connect-rtt', 'bare libp2p: dial + 1-byte echo', 'p50Rtt'), yWebsocket: metric('connect-rtt', 'y-websocket: first sync', 'p50Rtt'), goal: '≤ 4 RTT', test: v => v <= 4 },
  { figure: 'connect over a 50 ms link, reconnection (p50)', unit: 'RTT', ours: metric('connect-rtt', 'this engine, reconnection', 'p50Rtt'), libp2p: metric('connect-rtt', 'bare libp2p: dial + 1-byte echo', 'p50Rtt'), yWebsocket: metric('connect-rtt', 'y-websocket: first sync', 'p50Rtt'), goal: '≤ 4 RTT', test: v => v <= 4 },
  { figure: 'setup on loopback, dial -> first sync (p50)', unit: 'ms', ours: r => (latency('connect/cold', 'p50')(r) ?? NaN) / 1000, libp2p: r => (latency('connect/libp2p-dial-echo', 'p50')(r) ?? NaN) / 1000, yWebsocket: r => (latency('connect/y-websocket', 'p50')(r) ?? NaN) / 1000, goal: '≤ bare libp2p dial + echo', test: (v, r) => v <= (latency('connect/libp2p-dial-echo', 'p50')(r) ?? 0) / 1000 },
  { figure: 'offline catch-up, 1,000 tasks: dial -> all held (warm)', unit: 'ms', ours: metric('offline-sync', 'N=1,000', 'dialToAllHeld'), libp2p: metric('offline-sync', 'N=1,000, bare libp2p + y-protocols', 'dialToAllHeld'), yWebsocket: metric('offline-sync', 'N=1,000, y-websocket', 'dialToAllHeld'), goal: '≤ 60 ms', test: v => v <= 60 },
  { figure: 'offline catch-up, 1,000 tasks: wire bytes / JSON', unit: '×', ours: metric('offline-sync', 'N=1,000', 'wireToJson'), goal: '≤ 1', test: v => v <= 1 },
  { figure: 'edit round trip p99 (map write, TCP)', unit: 'µs', ours: latency('dispatch-tcp/map-30B', 'p99'), libp2p: latency('libp2p-echo', 'p99'), yWebsocket: latency('y-websocket/map-30B', 'p99'), goal: '≤ 1,000 µs', test: v => v <= 1000 },
  { figure: 'edit round trip p50 (map write, TCP)', unit: 'µs', ours: latency('dispatch-tcp/map-30B', 'p50'), libp2p: latency('libp2p-echo', 'p50'), yWebsocket: latency('y-websocket/map-30B', 'p50'), goal: '(no goal; for the ratios)', test: () => true },
  { figure: 'heavy year: live space (Yjs update)', unit: 'B', ours: metric('heavy-year', 'desktop (Node, FileStore)', 'docBytes'), goal: '≤ 2 MB', test: v => v <= 2 * 1024 * 1024 },
  { figure: 'heavy year: cold load, desktop', unit: 'ms', ours: metric('heavy-year', 'desktop (Node, FileStore)', 'coldLoad'), goal: '≤ 200 ms', test: v => v <= 200 },
  { figure: 'heavy year: RSS, desktop, settled (idle)', unit: 'MB', ours: metric('heavy-year', 'desktop (Node, FileStore)', 'rssSettled'), goal: '≤ 150 MB', test: v => v <= 150 },
  { figure: 'heavy year: RSS, desktop, right after the load', unit: 'MB', ours: metric('heavy-year', 'desktop (Node, FileStore)', 'rss'), goal: '(no goal; the peak before V8 gives memory back)', test: () => true },
  { figure: 'heavy year: cold load, browser (IndexedDB)', unit: 'ms', ours: metric('heavy-year', 'browser (Chromium, IndexedDB)', 'coldLoad'), goal: '≤ 200 ms', test: v => v <= 200 },
  { figure: 'heavy year: JS heap, browser', unit: 'MB', ours: metric('heavy-year', 'browser (Chromium, IndexedDB)', 'heapUsed'), goal: '≤ 150 MB', test: v => v <= 150 },
  { figure: 'prune 50,000 of 100,000 tasks (board + store)', unit: 'ms', ours: sum(metric('scale', '100,000 tasks', 'pruneMs'), metric('scale', '100,000 tasks', 'pruneStoreMs')), goal: '< 5,000 ms', test: v => v < 5000 }
]

export function computeGoals (report: BenchReport): GoalRow[] {
  const clean = (v: number | null | undefined): number | null => v === null || v === undefined || !Number.isFinite(v) ? null : v
  return SPECS.map(spec => {
    const value = clean(spec.ours(report))
    const row: GoalRow = { figure: spec.figure, unit: spec.unit, value, goal: spec.goal, met: value === null ? null : spec.test(value, report) }
    if (spec.libp2p !== undefined) row.libp2p = clean(spec.libp2p(report))
    if (spec.yWebsocket !== undefined) row.yWebsocket = clean(spec.yWebsocket(report))
    return row
  })
}

const fmt = (v: number | null | undefined): string => v === null || v === undefined ? '–' : v >= 1000 ? Math.round(v).toLocaleString('en-US') : v >= 10 ? String(Math.round(v * 10) / 10) : v.toFixed(2)
const ratio = (a: number | null, b: number | null | undefined): string => a === null || b === null || b === undefined || b === 0 ? '–' : `${(a / b).toFixed(2)}×`

export function renderGoals (rows: GoalRow[]): string {
  const lines = [
    'Issue 16 figures (this run): value, the yardsticks from the same run and our ratio to them',
    '',
    '| figure | unit | this engine | bare libp2p | ÷ libp2p | y-websocket | ÷ y-websocket | goal | met |',
    '|---|---|--:|--:|--:|--:|--:|---|---|'
  ]
  for (const r of rows) {
    lines.push(`| ${r.figure} | ${r.unit} | ${fmt(r.value)} | ${fmt(r.libp2p)} | ${ratio(r.value, r.libp2p)} | ${fmt(r.yWebsocket)} | ${ratio(r.value, r.yWebsocket)} | ${r.goal} | ${r.met === null ? 'not measured' : r.met ? 'yes' : '**no**'} |`)
  }
  return lines.join('\n') + '\n'
}
