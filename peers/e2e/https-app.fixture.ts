// The built phone web app on an HTTPS origin of its own, as any static host would serve it, in
// its own process (a test runs it inside a network namespace).
//   node peers/e2e/https-app.fixture.ts <host> <cert.pem> <key.pem>  -> {"event":"ready","port":N}
// Stops on SIGTERM or when stdin closes.

import { readFile } from 'node:fs/promises'
import { startWebServer } from '../web/web-server.ts'

const [host, certFile, keyFile] = process.argv.slice(2)
const server = await startWebServer({ host, port: 0, tls: { cert: await readFile(certFile, 'utf8'), key: await readFile(keyFile, 'utf8') } })
process.stdout.write(JSON.stringify({ event: 'ready', port: server.port }) + '\n')
const stop = (): void => { void server.close().finally(() => process.exit(0)) }
process.on('SIGTERM', stop)
process.stdin.on('end', stop)
process.stdin.resume()
