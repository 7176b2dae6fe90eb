// A live document that stays small: a heavy year (20,000 tasks, 200 live at a time) with automatic
// retention, then the space's size, and its cold load and memory on the desktop (Node, FileStore, in
// a fresh process with its libp2p node) and in the browser (Chromium, IndexedDB, a freshly loaded page).

import { build } from 'esbuild'
import { join } from 'node:path'
import { spawnFixture } from '../fixture-ipc.ts'
import type { MetricsRow, MetricsSeries } from '../series.ts'
import { chromiumUnavailable, launchChromium } from '../../core/e2e/chromium.ts'

const ORIGIN = 'http://phone.test'
const BIG_TIMEOUT_MS = 240_000

export const heavyYear: MetricsSeries = {
  kind: 'metrics',
  name: 'heavy-year',
  title: 'a heavy year (20,000 tasks over 365 days, 200 live at a time) with automatic retention: live space size, cold load, memory',
  async run (ctx) {
    const script = join(import.meta.dirname, '../fixtures/heavy-year.ts')
    const dir = join(ctx.tmpDir, 'store')
    ctx.log('building the year')
    const builder = await spawnFixture({ script, args: ['build', dir], label: 'heavy-year build', readyTimeoutMs: BIG_TIMEOUT_MS })
    const built = builder.info as Record<string, number>
    const snapshot = await builder.call('snapshot') as string
    await builder.stop()
    const rows: MetricsRow[] = []
    ctx.log('desktop cold load')
    const loader = await spawnFixture({ script, args: ['load', dir], label: 'heavy-year load', readyTimeoutMs: BIG_TIMEOUT_MS })
    const loaded = loader.info as Record<string, number>
    await loader.stop()
    const copyLoader = await spawnFixture({ script, args: ['load', `${dir}-live-copy`], label: 'heavy-year load (live copy)', readyTimeoutMs: BIG_TIMEOUT_MS })
    const copy = copyLoader.info as Record<string, number>
    await copyLoader.stop()
    const bare = await spawnFixture({ script, args: ['load', dir, 'empty'], label: 'heavy-year load (empty space)', readyTimeoutMs: BIG_TIMEOUT_MS })
    const empty = bare.info as Record<string, number>
    await bare.stop()
    rows.push({
      label: 'desktop (Node, FileStore)',
      metrics: {
        docBytes: { value: built.docBytes, unit: 'B' },
        docBytesV2: { value: built.docBytesV2, unit: 'B' },
        storeBytes: { value: built.storeBytes, unit: 'B' },
        coldLoad: { value: Math.round(loaded.loadMs), unit: 'ms' },
        rss: { value: loaded.rssMB, unit: 'MB' },
        rssSettled: { value: loaded.rssSettledMB, unit: 'MB' },
        settledAfter: { value: loaded.settledAfterMs, unit: 'ms' },
        rssEmptySpace: { value: empty.rssMB, unit: 'MB' },
        rssEmptySpaceSettled: { value: empty.rssSettledMB, unit: 'MB' },
        heapUsed: { value: loaded.heapMB, unit: 'MB' },
        tasksHeld: { value: loaded.held, unit: 'count' }
      }
    })
    rows.push({
      label: 'desktop, the same live tasks without the year\'s tombstones',
      metrics: {
        docBytes: { value: built.liveCopyBytes, unit: 'B' },
        coldLoad: { value: Math.round(copy.loadMs), unit: 'ms' },
        rss: { value: copy.rssMB, unit: 'MB' },
        rssSettled: { value: copy.rssSettledMB, unit: 'MB' },
        heapUsed: { value: copy.heapMB, unit: 'MB' },
        tasksHeld: { value: copy.held, unit: 'count' }
      }
    })
    const why = chromiumUnavailable()
    const browserNote = why ?? 'Chromium (Debian), page on a non-localhost origin served from memory; JS heap after a forced GC (CDP), the renderer process\'s other memory not counted'
    if (why === null) {
      ctx.log('browser cold load')
      rows.push(await browserRow(snapshot))
    }
    return {
      info: {
        year: { created: built.created, retired: built.retired, liveTasks: built.liveTasks, finishedTasks: built.finishedTasks, buildMs: built.buildMs },
        layout: 'phone creates, desktop claims, runs (one log line), finishes with a result; one transaction per board call (as the app writes); each simulated day the phone retires what peers/tasks/retention.ts says (30 days, 500 finished)',
        desktop: 'a fresh process: libp2p node + openSpace(FileStore) + task board, run from the TypeScript sources as `npx dispatch` runs them; rss and heap right after the load and a forced GC; rssSettled once idle: V8\'s memory reducer gave back the young generation the load grew (settledAfter: when the committed heap had halved, polled every 500 ms, at most 30 s); rssEmptySpace: the same process with an empty space (what Node and libp2p take before any task)',
        reducerRan: { desktop: loaded.reducerRan, liveCopy: copy.reducerRan, emptySpace: empty.reducerRan },
        liveCopy: 'the year\'s live tasks (its 200 live and 500 finished) copied into a fresh document, stored as one snapshot, loaded the same way: what the year\'s history (the 19,300 retired tasks\' tombstones, which Yjs keeps for every deleted map key) costs',
        browser: browserNote
      },
      rows
    }
  }
}

async function browserRow (snapshot: string): Promise<MetricsRow> {
  const bundle = await build({
    entryPoints: [join(import.meta.dirname, '../fixtures/heavy-year.browser.ts')],
    bundle: true, write: false, format: 'esm', platform: 'browser', target: 'es2022',
    define: { 'process.env.NODE_ENV': '"production"' }
  })
  const chromium = await launchChromium()
  try {
    const page = await (await chromium.context()).newPage()
    await page.route(`${ORIGIN}/**`, async route => {
      const path = new URL(route.request().url()).pathname
      if (path === '/year.js') await route.fulfill({ contentType: 'text/javascript', body: bundle.outputFiles[0].text })
      else await route.fulfill({ contentType: 'text/html', body: '<!doctype html><script type="module" src="/year.js"></script>' })
    })
    const ready = async (): Promise<void> => { await page.waitForFunction(() => (window as { heavyYear?: unknown }).heavyYear !== undefined) }
    await page.goto(`${ORIGIN}/`)
    await ready()
    await page.evaluate(async (b64) => await window.heavyYear.store(b64), snapshot)
    // A fresh page: nothing of the year in memory, only in IndexedDB.
    await page.goto(`${ORIGIN}/?cold`)
    await ready()
    const loaded = await page.evaluate(async () => await window.heavyYear.load())
    const cdp = await page.context().newCDPSession(page)
    await cdp.send('HeapProfiler.collectGarbage')
    const heap = await cdp.send('Runtime.getHeapUsage')
    return {
      label: 'browser (Chromium, IndexedDB)',
      metrics: {
        coldLoad: { value: Math.round(loaded.ms), unit: 'ms' },
        heapUsed: { value: Math.round(heap.usedSize / 2 ** 20 * 10) / 10, unit: 'MB' },
        tasksHeld: { value: loaded.held, unit: 'count' }
      }
    }
  } finally {
    await chromium.close()
  }
}
