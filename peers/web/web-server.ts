// Serves the built phone web app (peers/web/dist) over plain HTTP on the LAN, for quick starts
// with `dispatch desktop --web`. Static files, plus one answer: where the desktop listens now
// (ADDRS_PATH, its signed published addresses), so a page whose known addresses all went stale
// finds the desktop again through the origin that served it. The page talks libp2p itself.

import { createServer } from 'node:http'
import { createServer as createTlsServer } from 'node:https'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import { readFile, rename, rm, stat } from 'node:fs/promises'
import { basename, extname, join, normalize, sep } from 'node:path'
import { networkInterfaces } from 'node:os'
import { desktopListenAddrs, webRTCDirectListenAddr } from '../../core/net/libp2p.ts'
import type { SignedAddrs } from '../app/api.ts'
import { ADDRS_PATH } from './origin-addrs.ts'

export const DEFAULT_WEB_PORT = 4320
/** UDP port a `dispatch desktop --web` listens on for WebRTC-direct (the page's port, on UDP). */
export const DEFAULT_WEBRTC_DIRECT_PORT = 4320
/** Where `npm run build:web` writes the app. */
export const WEB_DIST_DIR = join(import.meta.dirname, 'dist')
/** The build's record of its inputs (not served: dot files never are). */
export const BUILD_RECORD = '.build.json'
const ROOT = join(import.meta.dirname, '..', '..')

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.webmanifest': 'application/manifest+json',
  '.map': 'application/json',
  '.png': 'image/png'
}

export class WebAppNotBuiltError extends Error {
  name = 'WebAppNotBuiltError'
}

export interface WebServer {
  server: Server
  port: number
  /** `http://<host>:<port>/` for each LAN address (loopback last). */
  urls: () => string[]
  close: () => Promise<void>
}

export interface WebServerOptions {
  port?: number
  host?: string
  dir?: string
  /** Serve over HTTPS with this PEM certificate and key (an app hosted on an HTTPS origin). */
  tls?: { cert: string, key: string }
  /** The serving desktop's signed published addresses, answered at ADDRS_PATH (404 without it). */
  addrs?: () => SignedAddrs | null
}

/** Start serving `dir` (the build) on `host:port` (all interfaces, DEFAULT_WEB_PORT by default). */
export async function startWebServer (options: WebServerOptions = {}): Promise<WebServer> {
  const dir = options.dir ?? WEB_DIST_DIR
  try {
    await stat(join(dir, 'index.html'))
  } catch {
    throw new WebAppNotBuiltError(`the web app is not built (${dir} has no index.html): run npm run build:web`)
  }
  const serve = (req: IncomingMessage, res: ServerResponse): void => {
    // Only the path is used; the invite lives in the URL fragment, which browsers never send.
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)
    if (path.endsWith(`/${ADDRS_PATH}`)) { serveAddrs(req, res, options.addrs?.() ?? null); return }
    // A folder's address (the app under /some/path/) serves its index.html.
    const file = normalize(join(dir, path.endsWith('/') ? `${path}index.html` : path))
    if (!file.startsWith(dir + sep) || basename(file).startsWith('.') || (req.method !== 'GET' && req.method !== 'HEAD')) { res.writeHead(404).end(); return }
    readFile(file).then((body) => {
      res.writeHead(200, {
        'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
        'cache-control': 'no-cache',
        'referrer-policy': 'no-referrer',
        'x-content-type-options': 'nosniff'
      })
      res.end(req.method === 'HEAD' ? undefined : body)
    }, () => { res.writeHead(404).end() })
  }
  const server: Server = options.tls !== undefined ? createTlsServer(options.tls, serve) : createServer(serve)
  const host = options.host ?? '0.0.0.0'
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? DEFAULT_WEB_PORT, host, () => { server.off('error', reject); resolve() })
  })
  const address = server.address()
  const port = typeof address === 'object' && address !== null ? address.port : 0
  return {
    server,
    port,
    urls: () => webUrls(host, port),
    close: async () => { server.closeAllConnections(); await new Promise<void>(resolve => { server.close(() => { resolve() }) }) }
  }
}

/** The signed record as JSON, never cached (it changes whenever the desktop moves); 404 when there is none. */
function serveAddrs (req: IncomingMessage, res: ServerResponse, record: SignedAddrs | null): void {
  if (record === null || (req.method !== 'GET' && req.method !== 'HEAD')) { res.writeHead(404).end(); return }
  res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' })
  res.end(req.method === 'HEAD' ? undefined : JSON.stringify(record))
}

/** The URLs a phone can open: LAN IPv4 addresses first, loopback last. */
export function webUrls (host: string, port: number): string[] {
  if (host !== '0.0.0.0') return [`http://${host}:${port}/`]
  const lan: string[] = []
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) lan.push(`http://${a.address}:${port}/`)
  }
  return [...lan, `http://127.0.0.1:${port}/`]
}

/** Why `dir` needs a (re)build: 'missing', 'stale' (a source is newer), or null when it is current. */
export async function webBuildState (dir = WEB_DIST_DIR): Promise<'missing' | 'stale' | null> {
  let built: number
  let inputs: string[]
  try {
    built = (await stat(join(dir, BUILD_RECORD))).mtimeMs
    inputs = (JSON.parse(await readFile(join(dir, BUILD_RECORD), 'utf8')) as { inputs: string[] }).inputs
    await stat(join(dir, 'index.html'))
  } catch {
    return 'missing'
  }
  for (const input of inputs) {
    const changed = await stat(join(ROOT, input)).then(s => s.mtimeMs, () => Infinity)
    if (changed > built) return 'stale'
  }
  return null
}

/**
 * Build peers/web/dist when it is missing or older than its sources (esbuild, a dev dependency,
 * is loaded only then); returns what was done. Builds beside it and swaps, so a page being
 * served never sees half a build.
 */
export async function ensureWebBuilt (dir = WEB_DIST_DIR): Promise<'built' | 'rebuilt' | 'current'> {
  const state = await webBuildState(dir)
  if (state === null) return 'current'
  let buildWeb: (outDir?: string, options?: { minify?: boolean }) => Promise<string>
  try {
    buildWeb = (await import('./build.ts')).buildWeb
  } catch (err) {
    if (state === 'stale') return 'current' // a packaged install has no esbuild: serve what shipped
    throw new WebAppNotBuiltError(`the web app is not built (${dir}) and cannot be built here (${(err as Error).message}): run npm run build:web`)
  }
  const tmp = `${dir}.tmp-${process.pid}`
  await buildWeb(tmp)
  await rm(dir, { recursive: true, force: true })
  try {
    await rename(tmp, dir)
  } catch (err) {
    // Another process built it at the same moment: theirs is as good as ours.
    await rm(tmp, { recursive: true, force: true })
    if (await webBuildState(dir) !== null) throw err
  }
  return state === 'missing' ? 'built' : 'rebuilt'
}

/**
 * What `dispatch desktop --web` listens on: the given addresses (or the desktop's defaults),
 * plus WebSockets and WebRTC-direct on the same host when they are missing, for browser pages.
 */
export function webListenAddrs (listen: string[] | undefined): string[] {
  if (listen === undefined) return [...desktopListenAddrs(), webRTCDirectListenAddr('0.0.0.0', DEFAULT_WEBRTC_DIRECT_PORT)]
  const host = listenHosts(listen)[0]
  const out = [...listen]
  if (!listen.some(a => /\/wss?(\/|$)/.test(a))) out.push(`/ip4/${host}/tcp/0/ws`)
  if (!listen.some(a => a.includes('/webrtc-direct'))) out.push(webRTCDirectListenAddr(host))
  return out
}

/** The IPv4 hosts in listen addresses; all interfaces when any listens on all, or none names one. */
export function listenHosts (listen: string[]): string[] {
  const hosts = Array.from(new Set(listen.map(a => /^\/ip4\/([^/]+)/.exec(a)?.[1]).filter((h): h is string => h !== undefined)))
  return hosts.length === 0 || hosts.includes('0.0.0.0') ? ['0.0.0.0'] : hosts
}

/** Serve the app on every host the desktop listens on, one port; URLs LAN first, loopback last. */
export async function serveWebApp (listen: string[], port: number, addrs?: () => SignedAddrs | null, dir = WEB_DIST_DIR): Promise<{ urls: string[], close: () => Promise<void> }> {
  const servers: WebServer[] = []
  try {
    for (const host of listenHosts(listen)) servers.push(await startWebServer({ dir, host, port: servers[0]?.port ?? port, addrs }))
  } catch (err) {
    await Promise.all(servers.map(async s => { await s.close() }))
    throw err
  }
  const all = servers.flatMap(s => s.urls())
  const loopback = (u: string): boolean => u.startsWith('http://127.')
  return {
    urls: [...all.filter(u => !loopback(u)), ...all.filter(loopback)],
    close: async () => { await Promise.all(servers.map(async s => { await s.close() })) }
  }
}
