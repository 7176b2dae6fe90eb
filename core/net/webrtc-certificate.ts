// The WebRTC-direct certificate a listening device keeps in its home, so the `/certhash/…` in its
// addresses (which a browser checks before it trusts the DTLS handshake) stays the same across
// restarts and the addresses a paired page remembers keep working. @libp2p/webrtc's webRTCDirect()
// takes it as its `certificate` option (PEM key + PEM certificate + certhash); without one it
// makes a new certificate each start (or keeps it only through a keychain + persistent datastore).

import type { X509Certificate } from '@peculiar/x509'
import { base64url } from 'multiformats/bases/base64'
import { sha256 } from 'multiformats/hashes/sha2'
import { readJsonFile, writeJsonFile } from '../store/atomic-file.ts'

/** What webRTCDirect({ certificate }) takes. */
export interface WebRTCCertificate {
  /** PKCS#8 private key, PEM. */
  privateKey: string
  /** The self-signed certificate, PEM. */
  pem: string
  /** multibase base64url of the sha2-256 multihash of the certificate (as in `/certhash/…`). */
  certhash: string
}

/** How long a new certificate is valid: browsers check only its hash, so long is fine. */
export const WEBRTC_CERTIFICATE_LIFESPAN_MS = 365 * 24 * 3600_000
/** A stored certificate that expires sooner than this is replaced at start. */
export const WEBRTC_CERTIFICATE_RENEW_MS = 30 * 24 * 3600_000

/**
 * @peculiar/x509 (some 200 modules) is loaded only by the calls that need it, so that importing the
 * engine stays light; it needs the reflect polyfill loaded first (as @libp2p/webrtc does).
 */
async function x509 (): Promise<typeof import('@peculiar/x509')> {
  await import('reflect-metadata')
  return await import('@peculiar/x509')
}

/** The stored file is not a certificate this module wrote. */
export class WebRTCCertificateFileError extends Error {
  name = 'WebRTCCertificateFileError'
}

/** Load the certificate kept at `path` (JSON, mode 0600), or make one and keep it there. */
export async function loadOrCreateWebRTCCertificate (path: string, now = Date.now()): Promise<WebRTCCertificate> {
  const stored = await readJsonFile(path) as { privateKey?: unknown, pem?: unknown } | undefined
  if (stored !== undefined) {
    if (typeof stored.privateKey !== 'string' || typeof stored.pem !== 'string') throw new WebRTCCertificateFileError(`${path} is not a WebRTC-direct certificate (move it away to make a new one)`)
    const { X509Certificate } = await x509()
    let cert: X509Certificate
    try {
      cert = new X509Certificate(stored.pem)
    } catch (err) {
      throw new WebRTCCertificateFileError(`${path} holds an unreadable certificate (${(err as Error).message}); move it away to make a new one`)
    }
    if (cert.notAfter.getTime() - WEBRTC_CERTIFICATE_RENEW_MS > now) return { privateKey: stored.privateKey, pem: stored.pem, certhash: await certhashOf(cert) }
  }
  const created = await createWebRTCCertificate(now)
  await writeJsonFile(path, { privateKey: created.privateKey, pem: created.pem })
  return created
}

/** A new ECDSA P-256 self-signed certificate (what WebRTC DTLS wants), valid from `now`. */
export async function createWebRTCCertificate (now = Date.now()): Promise<WebRTCCertificate> {
  const keys = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])
  // Whole seconds: X.509 times have no milliseconds.
  const notBefore = new Date(Math.floor(now / 1000) * 1000)
  const notAfter = new Date(notBefore.getTime() + WEBRTC_CERTIFICATE_LIFESPAN_MS)
  const { X509CertificateGenerator, BasicConstraintsExtension } = await x509()
  const cert = await X509CertificateGenerator.createSelfSigned({
    serialNumber: Buffer.from(crypto.getRandomValues(new Uint8Array(8))).toString('hex').replace(/^[89a-f]/, '1'),
    name: 'CN=dispatch-webrtc-direct',
    notBefore,
    notAfter,
    keys,
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    extensions: [new BasicConstraintsExtension(false, undefined, true)]
  }, crypto)
  const pkcs8 = Buffer.from(await crypto.subtle.exportKey('pkcs8', keys.privateKey)).toString('base64')
  const privateKey = ['-----BEGIN PRIVATE KEY-----', ...(pkcs8.match(/.{1,64}/g) ?? []), '-----END PRIVATE KEY-----'].join('\n')
  return { privateKey, pem: cert.toString('pem'), certhash: await certhashOf(cert) }
}

async function certhashOf (cert: X509Certificate): Promise<string> {
  return base64url.encode((await sha256.digest(new Uint8Array(cert.rawData))).bytes)
}
