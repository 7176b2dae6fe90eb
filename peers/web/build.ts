// `npm run build:web`: bundle the phone web app (core + task board + page) with esbuild into
// peers/web/dist/, next to the static shell (HTML, CSS, manifest, service worker, icon).
// `.build.json` in the output records the inputs, so `dispatch desktop --web` knows when it is stale.

import { build } from 'esbuild'
import { cp, mkdir, readdir, rm, writeFile } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { BUILD_RECORD, WEB_DIST_DIR } from './web-server.ts'

export const WEB_DIR = import.meta.dirname
export const DIST_DIR = WEB_DIST_DIR
const ROOT = join(WEB_DIR, '..', '..')

/** Build the app into `outDir` (peers/web/dist by default); returns the output directory. */
export async function buildWeb (outDir = DIST_DIR, options: { minify?: boolean } = {}): Promise<string> {
  await rm(outDir, { recursive: true, force: true })
  await mkdir(outDir, { recursive: true })
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: [join(WEB_DIR, 'app.ts')],
    outfile: join(outDir, 'app.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2022', 'safari16'],
    minify: options.minify ?? true,
    sourcemap: 'linked',
    legalComments: 'none',
    logLevel: 'warning',
    metafile: true,
    // No `external: ['node:*']`: a Node module reachable from the page fails the build here
    // instead of failing in the browser (core/layering.test.ts checks the same on the sources).
    // mDNS needs node:dgram: a stub keeps the bundle loadable whether core imports it eagerly or lazily.
    alias: { '@libp2p/mdns': join(WEB_DIR, 'no-mdns.ts') },
    define: { 'process.env.NODE_ENV': '"production"' }
  })
  const staticDir = join(WEB_DIR, 'static')
  await cp(staticDir, outDir, { recursive: true })
  // Our own sources only (node_modules changes come with an npm install, which rebuilds anyway).
  const inputs = Object.keys(result.metafile.inputs).filter(p => !p.includes('node_modules'))
  for (const name of await readdir(staticDir)) inputs.push(relative(ROOT, join(staticDir, name)))
  await writeFile(join(outDir, BUILD_RECORD), JSON.stringify({ inputs }) + '\n')
  return outDir
}

if (import.meta.main) {
  const started = Date.now()
  const dir = await buildWeb()
  console.log(`built the web app into ${dir} in ${Date.now() - started} ms`)
}
