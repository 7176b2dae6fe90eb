// Hand-written SVG of the latency distributions: the CDF per series on a log-µs
// axis (left) and the tail as "fraction slower than x" on log-log axes (right).

import type { LatencyResult } from './report.ts'

const PALETTE = ['#222222', '#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#bcbd22']
const DASHES = ['none', '6 3', '2 2', '8 3 2 3']
const WIDTH = 1140
const PANEL_W = 470
const PANEL_H = 330
const TOP = 50
const LEFT = [60, 650]
const TAIL_MIN = 1e-4

interface Panel {
  x0: number
  y: (q: number) => number
  yTicks: Array<[number, string]>
  label: string
}

export function renderChart (series: LatencyResult[], title: string): string {
  const drawn = series.filter(s => s.cdf !== undefined && s.cdf.length > 0)
  // One colour per group (`y-websocket/...`), a different dash per variant, so payloads pair up visually.
  const groups = [...new Set(drawn.map(s => s.name.split('/')[0]))]
  const variants = [...new Set(drawn.map(s => s.name.split('/')[1]).filter(v => v !== undefined))]
  const colour = (s: LatencyResult): string => PALETTE[groups.indexOf(s.name.split('/')[0]) % PALETTE.length]
  const dash = (s: LatencyResult): string => DASHES[Math.max(0, variants.indexOf(s.name.split('/')[1] ?? '')) % DASHES.length]
  const all = drawn.flatMap(s => (s.cdf ?? []).map(p => p[0])).filter(x => x > 0)
  const lo = Math.pow(10, Math.floor(Math.log10(Math.min(...all, 10))))
  const hi = Math.pow(10, Math.ceil(Math.log10(Math.max(...all, 100))))
  const xOf = (x0: number, us: number): number => x0 + PANEL_W * (Math.log10(Math.max(us, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))
  const legendRows = Math.ceil(drawn.length / 2)
  const notRunLines = wrap(`not run (reasons in the table): ${series.filter(s => !drawn.includes(s)).map(s => `${s.name} (${s.status})`).join(', ')}`, 170)
  if (drawn.length === series.length) notRunLines.length = 0
  const height = TOP + PANEL_H + 60 + legendRows * 18 + notRunLines.length * 16 + 10

  const panels: Panel[] = [
    {
      x0: LEFT[0],
      y: q => TOP + PANEL_H * (1 - q),
      yTicks: [0, 0.25, 0.5, 0.75, 0.9, 1].map(q => [q, String(q)]),
      label: 'cumulative fraction (CDF)'
    },
    {
      x0: LEFT[1],
      y: q => TOP + PANEL_H * (-Math.log10(Math.max(1 - q, TAIL_MIN)) / -Math.log10(TAIL_MIN)),
      yTicks: [[0, '1'], [0.9, '0.1 (p90)'], [0.99, '0.01 (p99)'], [0.999, '0.001 (p99.9)'], [0.9999, '0.0001']],
      label: 'fraction slower than x (tail)'
    }
  ]

  const out: string[] = []
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="11">`)
  out.push(`<rect width="100%" height="100%" fill="white"/>`)
  out.push(`<text x="${WIDTH / 2}" y="22" text-anchor="middle" font-size="14">${esc(title)}</text>`)
  for (const panel of panels) {
    const { x0 } = panel
    out.push(`<rect x="${x0}" y="${TOP}" width="${PANEL_W}" height="${PANEL_H}" fill="none" stroke="#999"/>`)
    for (let d = lo; d <= hi * 1.001; d *= 10) {
      for (let k = 1; k < 10 && d * k <= hi * 1.001; k++) {
        const x = xOf(x0, d * k).toFixed(1)
        out.push(`<line x1="${x}" y1="${TOP}" x2="${x}" y2="${TOP + PANEL_H}" stroke="${k === 1 ? '#ccc' : '#eee'}"/>`)
      }
      out.push(`<text x="${xOf(x0, d).toFixed(1)}" y="${TOP + PANEL_H + 15}" text-anchor="middle">${fmtUsTick(d)}</text>`)
    }
    for (const [q, text] of panel.yTicks) {
      const y = panel.y(q).toFixed(1)
      out.push(`<line x1="${x0}" y1="${y}" x2="${x0 + PANEL_W}" y2="${y}" stroke="#eee"/>`)
      out.push(`<text x="${x0 - 4}" y="${y}" text-anchor="end" dominant-baseline="middle">${text}</text>`)
    }
    out.push(`<text x="${x0 + PANEL_W / 2}" y="${TOP + PANEL_H + 32}" text-anchor="middle">round trip (log scale)</text>`)
    out.push(`<text x="${x0 + PANEL_W / 2}" y="${TOP - 6}" text-anchor="middle">${panel.label}</text>`)
    drawn.forEach(s => {
      const points = (s.cdf ?? []).map(([us, q]) => `${xOf(x0, us).toFixed(1)},${panel.y(q).toFixed(1)}`)
      out.push(`<polyline fill="none" stroke="${colour(s)}" stroke-dasharray="${dash(s)}" stroke-width="${s.name === 'floor' ? 2.5 : 1.6}" points="${points.join(' ')}"/>`)
    })
  }
  drawn.forEach((s, i) => {
    const x = LEFT[0] + (i % 2) * (LEFT[1] - LEFT[0])
    const y = TOP + PANEL_H + 55 + Math.floor(i / 2) * 18
    const p = s.summary
    const figures = p === undefined ? '' : ` — p50 ${Math.round(p.p50)} µs, p99 ${Math.round(p.p99)} µs`
    out.push(`<line x1="${x}" y1="${y}" x2="${x + 24}" y2="${y}" stroke="${colour(s)}" stroke-dasharray="${dash(s)}" stroke-width="3"/>`)
    out.push(`<text x="${x + 30}" y="${y}" dominant-baseline="middle">${esc(s.name)}${esc(figures)}</text>`)
  })
  notRunLines.forEach((line, i) => {
    const y = TOP + PANEL_H + 55 + legendRows * 18 + 4 + i * 16
    out.push(`<text x="${LEFT[0]}" y="${y}" dominant-baseline="middle" fill="#666">${esc(line)}</text>`)
  })
  out.push('</svg>')
  return out.join('\n') + '\n'
}

function wrap (text: string, width: number): string[] {
  const lines: string[] = []
  let line = ''
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + word.length + 1 > width) { lines.push(line); line = '' }
    line = line === '' ? word : `${line} ${word}`
  }
  if (line !== '') lines.push(line)
  return lines
}

function fmtUsTick (us: number): string {
  if (us >= 1_000_000) return `${us / 1_000_000} s`
  if (us >= 1000) return `${us / 1000} ms`
  return `${us} µs`
}

function esc (text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}
