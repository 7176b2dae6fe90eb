// The shape of one bench run's report (written as the JSON file) and its markdown
// rendering for stdout: latency table with ratios to the floor, then one table per metrics series.

import type { MetricsRow } from './series.ts'
import type { CdfPoint, LatencySummary } from './stats.ts'
import type { GoalRow } from './goals.ts'
import { renderGoals } from './goals.ts'

export type SeriesStatus = 'ok' | 'skipped' | 'failed'

export interface LatencyResult {
  kind: 'latency'
  name: string
  title: string
  status: SeriesStatus
  /** Why the series did not run (skipped) or stopped early (failed). */
  reason?: string
  info?: Record<string, unknown>
  summary?: LatencySummary
  /** This series' p50 and p99 divided by the floor's. */
  ratioToFloor?: { p50: number, p99: number }
  /** p50 and p99 of each round, in round order. */
  perRound?: { p50: number[], p99: number[] }
  cdf?: CdfPoint[]
}

export interface MetricsResult {
  kind: 'metrics'
  name: string
  title: string
  status: SeriesStatus
  reason?: string
  info?: Record<string, unknown>
  rows?: MetricsRow[]
}

export type SeriesResult = LatencyResult | MetricsResult

export interface BenchReport {
  schema: 1
  command: string
  date: string
  durationMs: number
  git: { commit: string, dirty: boolean }
  node: string
  /** loadavg1m: the 1-minute load average when the run started and ended (noise from other work). */
  machine: { cpus: number, model: string, memMB: number, platform: string, release: string, arch: string, loadavg1m: { start: number, end: number } }
  options: { samples: number, rounds: number, warmup: number, quick: boolean, only: string[] }
  floor: string
  series: SeriesResult[]
  /** Issue 16's figures with goals and ratios (bench/goals.ts). */
  goals?: GoalRow[]
}

const fmtUs = (us: number | undefined): string =>
  us === undefined || Number.isNaN(us) ? '–' : us >= 10_000 ? Math.round(us).toLocaleString('en-US') : us >= 100 ? String(Math.round(us)) : us.toFixed(1)
const fmtRatio = (r: number | undefined): string => r === undefined || !Number.isFinite(r) ? '–' : `${r.toFixed(2)}×`
const fmtValue = (v: number): string => Number.isInteger(v) ? v.toLocaleString('en-US') : v >= 100 ? Math.round(v).toLocaleString('en-US') : v.toPrecision(3)

export function renderMarkdown (report: BenchReport): string {
  const lines: string[] = []
  const latency = report.series.filter((s): s is LatencyResult => s.kind === 'latency')
  lines.push(`Latency (µs per round trip; ${report.options.samples.toLocaleString('en-US')} samples/series in ${report.options.rounds} interleaved rounds, ${report.options.warmup} warm-up discarded)`)
  lines.push('')
  lines.push('| series | n | p50 | p90 | p99 | p99.9 | max | mean | p50 / floor | p99 / floor |')
  lines.push('|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|')
  for (const s of latency) {
    if (s.summary === undefined) {
      lines.push(`| ${s.name} | – | ${s.status}: ${escapeCell(s.reason ?? '')} | | | | | | | |`)
      continue
    }
    const m = s.summary
    const note = s.status === 'failed' ? ` (failed: ${escapeCell(s.reason ?? '')})` : ''
    lines.push(`| ${s.name}${note} | ${m.n} | ${fmtUs(m.p50)} | ${fmtUs(m.p90)} | ${fmtUs(m.p99)} | ${fmtUs(m.p999)} | ${fmtUs(m.max)} | ${fmtUs(m.mean)} | ${fmtRatio(s.ratioToFloor?.p50)} | ${fmtRatio(s.ratioToFloor?.p99)} |`)
  }
  if (report.goals !== undefined) {
    lines.push('')
    lines.push(renderGoals(report.goals).trimEnd())
  }
  for (const s of report.series) {
    if (s.kind !== 'metrics') continue
    lines.push('')
    lines.push(`${s.name}: ${s.title}`)
    lines.push('')
    if (s.rows === undefined || s.rows.length === 0) {
      lines.push(`${s.status}: ${s.reason ?? 'no rows'}`)
      continue
    }
    const keys = [...new Set(s.rows.flatMap(r => Object.keys(r.metrics)))]
    const units = new Map(s.rows.flatMap(r => Object.entries(r.metrics).map(([k, m]) => [k, m.unit] as const)))
    lines.push(`| | ${keys.map(k => `${k} (${units.get(k) ?? ''})`).join(' | ')} |`)
    lines.push(`|---|${keys.map(() => '--:').join('|')}|`)
    for (const r of s.rows) lines.push(`| ${r.label} | ${keys.map(k => r.metrics[k] === undefined ? '–' : fmtValue(r.metrics[k].value)).join(' | ')} |`)
  }
  lines.push('')
  lines.push(`${report.machine.cpus} × ${report.machine.model}, ${Math.round(report.machine.memMB / 1024)} GB, load ${report.machine.loadavg1m.start} -> ${report.machine.loadavg1m.end}, Node ${report.node}, commit ${report.git.commit.slice(0, 10)}${report.git.dirty ? ' (dirty)' : ''}, ${report.date}; \`${report.command}\` took ${(report.durationMs / 1000).toFixed(1)} s`)
  return lines.join('\n') + '\n'
}

function escapeCell (text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ')
}
