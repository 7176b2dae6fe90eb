// Serves the built phone web app (peers/web/dist) over plain HTTP on the LAN, for quick starts
// with `dispatch desktop --web`. Static files only: the page talks libp2p to the desktop itself.

import { createServer } from 'node:http'
import type { Server } from 'node:http'
import { readFile, stat } from 'node:fs/promises'
import { extname, join, normalize, sep } from 'node:path'
import { networkInterfaces } from 'node:os'
import { DIST_DIR } from './build.ts'

export const DEFAULT_WEB_PORT = 4320

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
}

/** Start serving `dir` (the build) on `host:port` (all interfaces, DEFAULT_WEB_PORT by default). */
export async function startWebServer (options: WebServerOptions = {}): Promise<WebServer> {
  const dir = options.dir ?? DIST_DIR
  try {
    await stat(join(dir, 'index.html'))
  } catch {
    throw new WebAppNotBuiltError(`the web app is not built (${dir} has no index.html): run npm run build:web`)
  }
  const server = createServer((req, res) => {
    // Only the path is used; the invite lives in the URL fragment, which browsers never send.
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)
    const file = normalize(join(dir, path === '/' ? 'index.html' : path))
    if (!file.startsWith(dir + sep) || (req.method !== 'GET' && req.method !== 'HEAD')) { res.writeHead(404).end(); return }
    readFile(file).then((body) => {
      res.writeHead(200, {
        'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
        'cache-control': 'no-cache',
        'referrer-policy': 'no-referrer',
        'x-content-type-options': 'nosniff'
      })
      res.end(req.method === 'HEAD' ? undefined : body)
    }, () => { res.writeHead(404).end() })
  })
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

/** The URLs a phone can open: LAN IPv4 addresses first, loopback last. */
export function webUrls (host: string, port: number): string[] {
  if (host !== '0.0.0.0') return [`http://${host}:${port}/`]
  const lan: string[] = []
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) lan.push(`http://${a.address}:${port}/`)
  }
  return [...lan, `http://127.0.0.1:${port}/`]
}
