// Latency summaries: percentiles (nearest rank) and a downsampled CDF of a sample set in microseconds.

export interface LatencySummary {
  n: number
  min: number
  p50: number
  p90: number
  p99: number
  p999: number
  max: number
  mean: number
}

/** CDF points `[microseconds, cumulative fraction]`, dense in the body and the tail. */
export type CdfPoint = [number, number]

export function percentile (sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN
  const rank = Math.ceil(q * sorted.length)
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]
}

export function summarize (samples: readonly number[]): LatencySummary {
  const sorted = [...samples].sort((a, b) => a - b)
  const sum = sorted.reduce((s, x) => s + x, 0)
  return {
    n: sorted.length,
    min: sorted[0] ?? Number.NaN,
    p50: percentile(sorted, 0.5),
    p90: percentile(sorted, 0.9),
    p99: percentile(sorted, 0.99),
    p999: percentile(sorted, 0.999),
    max: sorted[sorted.length - 1] ?? Number.NaN,
    mean: sorted.length > 0 ? sum / sorted.length : Number.NaN
  }
}

// Quantiles kept for the chart: every 1 % in the body, then finer steps in the tail
// (where the series differ most), always ending at the maximum.
const CDF_QUANTILES: number[] = [
  ...Array.from({ length: 99 }, (_, i) => (i + 1) / 100),
  0.992, 0.994, 0.996, 0.998, 0.999, 0.9995, 0.9999
]

export function downsampleCdf (samples: readonly number[]): CdfPoint[] {
  const sorted = [...samples].sort((a, b) => a - b)
  if (sorted.length === 0) return []
  const points: CdfPoint[] = [[sorted[0], 1 / sorted.length]]
  for (const q of CDF_QUANTILES) {
    if (q * sorted.length <= 1) continue
    points.push([percentile(sorted, q), q])
  }
  points.push([sorted[sorted.length - 1], 1])
  return points.map(([us, q]) => [Math.round(us * 10) / 10, q])
}
