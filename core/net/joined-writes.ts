// One socket write per send. @libp2p/tcp (and @libp2p/websockets) write each chunk of what
// they are handed separately, and Noise hands them [2-byte length, ciphertext]: with no-delay
// on, every encrypted message cost two syscalls and two TCP segments (two WebSocket messages),
// and the receiver often woke twice. Joining small chunks into one buffer halves both (see
// bench/ and README "Benchmarks"). Applied by tuned-transport.ts.

import type { MultiaddrConnection } from '@libp2p/interface'
import { Uint8ArrayList } from 'uint8arraylist'

/** Sends up to this size are joined into one buffer; larger ones go chunk by chunk, as before. */
const COALESCE_MAX_BYTES = 256 * 1024

interface SendResult { sentBytes: number, canSendMore: boolean }
type SendData = (data: Uint8ArrayList) => SendResult

/** `maConn`, writing each send of up to COALESCE_MAX_BYTES as one buffer. */
export function joinWrites (maConn: MultiaddrConnection): MultiaddrConnection {
  const conn = maConn as unknown as { sendData?: SendData }
  const sendData = conn.sendData
  if (typeof sendData !== 'function') return maConn
  const send = sendData.bind(maConn)
  conn.sendData = (data) => {
    if (data.byteLength > COALESCE_MAX_BYTES) return send(data)
    // subarray() of a one-chunk list is that chunk, uncopied.
    return send(new Uint8ArrayList(data.subarray()))
  }
  return maConn
}
