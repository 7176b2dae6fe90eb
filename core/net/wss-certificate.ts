// The TLS certificate a relay's WSS listener serves (`dispatch relay --wss-cert --wss-key`):
// read both PEM files, check that they belong together, and say which names the certificate covers.

import { readFile } from 'node:fs/promises'
import { X509Certificate, createPrivateKey } from 'node:crypto'

/** The certificate or key cannot be read, is not PEM, or the two do not belong together. */
export class WssCertificateError extends Error {
  name = 'WssCertificateError'
}

export interface WssCertificate {
  /** PEM, as node:https takes it. */
  cert: string
  key: string
  /** DNS names the certificate is valid for (wildcards left out: a browser cannot dial one). */
  dnsNames: string[]
  /** When it stops being valid. */
  validTo: Date
}

async function readPem (file: string, what: string): Promise<string> {
  try {
    return await readFile(file, 'utf8')
  } catch (err) {
    throw new WssCertificateError(`cannot read the WSS ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
  }
}

/** Load and check a PEM certificate (chain first) and its private key. */
export async function loadWssCertificate (certFile: string, keyFile: string): Promise<WssCertificate> {
  const cert = await readPem(certFile, 'certificate')
  const key = await readPem(keyFile, 'key')
  let x509: X509Certificate
  try {
    x509 = new X509Certificate(cert)
  } catch {
    throw new WssCertificateError(`${certFile} is not a PEM certificate`)
  }
  let privateKey
  try {
    privateKey = createPrivateKey(key)
  } catch {
    throw new WssCertificateError(`${keyFile} is not a PEM private key (an encrypted key is not supported)`)
  }
  if (!x509.checkPrivateKey(privateKey)) throw new WssCertificateError(`${keyFile} is not the private key of ${certFile}`)
  const validTo = new Date(x509.validTo)
  if (validTo.getTime() < Date.now()) throw new WssCertificateError(`${certFile} expired on ${validTo.toISOString()}`)
  const dnsNames = (x509.subjectAltName ?? '').split(',').map(s => s.trim())
    .filter(s => s.startsWith('DNS:')).map(s => s.slice(4)).filter(n => n !== '' && !n.includes('*'))
  return { cert, key, dnsNames, validTo }
}
