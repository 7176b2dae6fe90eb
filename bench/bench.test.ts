// Smoke test of the benchmark harness: a tiny run of the floor plus one capped series
// (connection setup) must print the table and write a well-formed JSON report and SVG chart. No timing assertions.

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { execFile } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import type { BenchReport, LatencyResult } from './report.ts'

const run = promisify(execFile)

test('bench/run.ts --quick --samples 50 --only floor,connect/known writes table, JSON and SVG', async () => {
  const out = mkdtempSync(join(tmpdir(), 'dispatch-bench-test-'))
  try {
    const { stdout } = await run(process.execPath, [join(import.meta.dirname, 'run.ts'), '--quick', '--samples', '50', '--warmup', '20', '--only', 'floor,connect/known', '--out', out], { timeout: 80_000 })

    assert.match(stdout, /\| series \| n \| p50 \| p90 \| p99 \| p99\.9 \| max \| mean \| p50 \/ floor \| p99 \/ floor \|/)
    assert.match(stdout, /^\| floor \| 50 \| [\d.,]+ \|.*\| 1\.00× \| 1\.00× \|$/m)
    assert.match(stdout, /^\| connect\/known \| 15 \| [\d.,]+ \|/m)

    const files = readdirSync(out).sort()
    assert.equal(files.length, 2, `expected one JSON and one SVG, got ${files.join(', ')}`)
    const jsonFile = files.find(f => f.endsWith('-quick-partial.json'))
    const svgFile = files.find(f => f.endsWith('-quick-partial.svg'))
    assert.ok(jsonFile !== undefined && svgFile !== undefined)

    const report = JSON.parse(readFileSync(join(out, jsonFile), 'utf8')) as BenchReport
    assert.equal(report.schema, 1)
    assert.equal(report.node, process.version)
    assert.ok(report.machine.cpus > 0)
    assert.match(report.git.commit, /^([0-9a-f]{40}|unknown)$/)
    assert.equal(report.options.samples, 50)
    assert.equal(report.series.map(s => s.name), ['floor', 'connect/known'])

    const floor = report.series[0] as LatencyResult
    assert.equal(floor.status, 'ok')
    const m = floor.summary
    assert.ok(m !== undefined)
    assert.equal(m.n, 50)
    assert.ok(m.min > 0 && m.min <= m.p50 && m.p50 <= m.p90 && m.p90 <= m.p99 && m.p99 <= m.p999 && m.p999 <= m.max, JSON.stringify(m))
    assert.equal(floor.ratioToFloor, { p50: 1, p99: 1 })
    const cdf = floor.cdf ?? []
    assert.ok(cdf.length > 10)
    for (let i = 1; i < cdf.length; i++) assert.ok(cdf[i][0] >= cdf[i - 1][0] && cdf[i][1] >= cdf[i - 1][1], `CDF not monotonic at ${i}`)
    assert.equal(cdf[cdf.length - 1], [m.max, 1])

    const connect = report.series[1] as LatencyResult
    assert.equal(connect.status, 'ok', connect.reason)
    assert.equal(connect.summary?.n, 15, 'the quick cap of a connection-setup series')

    const svg = readFileSync(join(out, svgFile), 'utf8')
    assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/)
    assert.match(svg, /<polyline [^>]*points="[\d.]+,[\d.]+ /)
    assert.match(svg, /<\/svg>\s*$/)
  } finally {
    rmSync(out, { recursive: true, force: true })
  }
})

test.run()
