// `npm run build:web`: bundle the phone web app (core + task board + page) with esbuild into
// peers/web/dist/, next to the static shell (HTML, CSS, manifest, service worker, icon).

import { build } from 'esbuild'
import { cp, mkdir, rm } from 'node:fs/promises'
import { join } from 'node:path'

export const WEB_DIR = import.meta.dirname
export const DIST_DIR = join(WEB_DIR, 'dist')

/** Build the app into `outDir` (peers/web/dist by default); returns the output directory. */
export async function buildWeb (outDir = DIST_DIR, options: { minify?: boolean } = {}): Promise<string> {
  await rm(outDir, { recursive: true, force: true })
  await mkdir(outDir, { recursive: true })
  await build({
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
    // Node modules core loads lazily, only in Node (the address book file); never in a browser.
    external: ['node:*'],
    // mDNS needs node:dgram: a stub keeps the bundle loadable whether core imports it eagerly or lazily.
    alias: { '@libp2p/mdns': join(WEB_DIR, 'no-mdns.ts') },
    define: { 'process.env.NODE_ENV': '"production"' }
  })
  await cp(join(WEB_DIR, 'static'), outDir, { recursive: true })
  return outDir
}

if (import.meta.main) {
  const started = Date.now()
  const dir = await buildWeb()
  console.log(`built the web app into ${dir} in ${Date.now() - started} ms`)
}
