// Test helper: a self-signed TLS certificate (ECDSA P-256, PEM) for the given DNS names, made
// with @peculiar/x509 over Node's Web Crypto, for HTTPS pages and WSS listeners in tests.

// @peculiar/x509 resolves its services through tsyringe, which needs the Reflect metadata polyfill first.
import 'reflect-metadata'
import * as x509 from '@peculiar/x509'
import { KeyObject, webcrypto } from 'node:crypto'

export interface TestCertificate {
  cert: string
  key: string
}

const DAY_MS = 86_400_000

/** A certificate valid from yesterday for a week, for `names` (the first is the subject). */
export async function makeTestCertificate (names: string[]): Promise<TestCertificate> {
  x509.cryptoProvider.set(webcrypto as unknown as Crypto)
  const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' }
  const keys = await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify']) as CryptoKeyPair
  const now = Date.now()
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: `CN=${names[0]}`,
    notBefore: new Date(now - DAY_MS),
    notAfter: new Date(now + 7 * DAY_MS),
    signingAlgorithm: algorithm,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.SubjectAlternativeNameExtension(names.map(value => ({ type: 'dns' as const, value })))
    ]
  })
  const key = KeyObject.from(keys.privateKey as unknown as webcrypto.CryptoKey).export({ format: 'pem', type: 'pkcs8' }).toString()
  return { cert: cert.toString('pem'), key }
}
