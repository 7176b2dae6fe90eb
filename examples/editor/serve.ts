// The shared editor's always-on device: keeps the document on disk (FileStore), pairs browsers
// by invite, relays edits and cursors between them (pages never connect to each other), and
// serves the page. Browsers reach it over WebSockets on the HTTP port + 1.
//   npm run editor                      (node examples/editor/serve.ts)
// Options: --home DIR (default ./editor-home), --host ADDR (default 0.0.0.0), --port N (HTTP, default
// 4400), --ws-port N (default the HTTP port + 1), --name NAME, --json (JSON lines, for scripts and tests).

import { createServer } from 'node:http'
import { readFile } from 'node:fs/promises'
import { networkInterfaces } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { build } from 'esbuild'
import { createProvider, FileStore, loadOrCreateIdentity } from '../../core/index.ts'

const { values: args } = parseArgs({
  options: {
    home: { type: 'string', default: 'editor-home' },
    host: { type: 'string', default: '0.0.0.0' },
    port: { type: 'string', default: '4400' },
    'ws-port': { type: 'string' },
    name: { type: 'string', default: 'always-on' },
    json: { type: 'boolean', default: false }
  }
})
const out = (event: Record<string, unknown>, text: string): void => { console.log(args.json ? JSON.stringify(event) : text) }

// The page, bundled for browsers; 'dispatch-p2p/browser' is this repository's core/browser.ts.
const root = join(import.meta.dirname, '..', '..')
const bundle = await build({
  entryPoints: [join(import.meta.dirname, 'page.ts')],
  bundle: true, write: false, format: 'esm', platform: 'browser', target: 'es2022', minify: true, logLevel: 'warning',
  alias: { 'dispatch-p2p/browser': join(root, 'core', 'browser.ts') }
})
const page = {
  '/': { type: 'text/html; charset=utf-8', body: await readFile(join(import.meta.dirname, 'index.html')) },
  '/page.js': { type: 'text/javascript; charset=utf-8', body: bundle.outputFiles[0].contents }
}

const server = createServer((req, res) => {
  const file = page[new URL(req.url ?? '/', 'http://x').pathname as keyof typeof page]
  if (file === undefined) { res.writeHead(404).end(); return }
  res.writeHead(200, { 'content-type': file.type, 'cache-control': 'no-cache' }).end(file.body)
})
await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(Number(args.port), args.host, resolve) })
const port = (server.address() as { port: number }).port

const provider = await createProvider('editor', {
  storage: new FileStore({ dir: join(args.home, 'store') }),
  node: { privateKey: await loadOrCreateIdentity(join(args.home, 'identity.key')), listen: [`/ip4/${args.host}/tcp/${args['ws-port'] ?? port + 1}/ws`] },
  name: args.name,
  closeStorage: true
})
const hosts = args.host === '0.0.0.0' ? lanAddresses() : [args.host]
out({ event: 'ready', peerId: provider.node.peerId, urls: hosts.map(h => `http://${h}:${port}/`) }, `shared editor on ${hosts.map(h => `http://${h}:${port}/`).join(' ')}`)
provider.on('peers', ({ peers }) => { out({ event: 'peers', count: peers.length }, `${peers.length} browser(s) connected`) })

// One invite at a time: when a browser pairs (or the invite expires), the next one is printed.
let stopping = false
async function invites (): Promise<void> {
  while (!stopping) {
    const invite = await provider.openInvite({ ttlMs: 10 * 60_000 })
    const links = hosts.map(h => `http://${h}:${port}/#${invite.text}`)
    out({ event: 'invite', links, expiresAt: invite.expiresAt }, `open this in a browser to pair it (one browser, 10 minutes):\n  ${links.join('\n  ')}`)
    try {
      const member = await invite.paired
      out({ event: 'paired', name: member.name, peerId: member.peerId }, `paired with "${member.name}"`)
    } catch {
      // Expired, or we are stopping: the loop mints the next one, or ends.
    }
  }
}
void invites()

async function stop (): Promise<void> {
  if (stopping) return
  stopping = true
  await provider.destroy() // flushes the document to disk
  server.closeAllConnections()
  server.close()
}
process.once('SIGINT', () => { void stop() })
process.once('SIGTERM', () => { void stop() })

function lanAddresses (): string[] {
  const addrs = Object.values(networkInterfaces()).flat().filter(i => i?.family === 'IPv4') as Array<{ address: string, internal: boolean }>
  return [...addrs.filter(i => !i.internal), ...addrs.filter(i => i.internal)].map(i => i.address)
}
