// The dialer's side of multistream-select, optimistically: propose one protocol and send data
// right behind the proposal, then check the listener's answer before reading anything else.
// This saves the round trip libp2p's `newStream` spends waiting for the answer (js-libp2p 3
// declares a `negotiateFully: false` option for this but does not implement it). The wire is
// multistream-select 1.0.0 as any listener speaks it; a listener that does not know the
// protocol answers "na" and drops what followed, which the caller handles (stream-channel.ts).

import type { Connection, Stream, StreamMuxer } from '@libp2p/interface'

/** The listener answered something multistream-select never sends. */
export class SelectAnswerError extends Error {
  name = 'SelectAnswerError'
}

const MULTISTREAM = '/multistream/1.0.0'
const NOT_AVAILABLE = 'na'

/** `/multistream/1.0.0` and `protocol`, each as a varint-length-prefixed line: what a dialer writes first. */
export function encodeProposal (protocol: string): Uint8Array {
  const lines = [MULTISTREAM, protocol].map(line => new TextEncoder().encode(`${line}\n`))
  const out: number[] = []
  for (const line of lines) {
    if (line.byteLength >= 0x80) throw new RangeError('protocol id too long')
    out.push(line.byteLength, ...line)
  }
  return Uint8Array.from(out)
}

/** Reads the listener's answer, one length-prefixed line at a time. */
export class SelectReply {
  readonly protocol: string
  private sawHeader = false

  constructor (protocol: string) {
    this.protocol = protocol
  }

  /** Feed the next line (without its length prefix). Throws on anything multistream-select would not send. */
  read (line: Uint8Array): 'pending' | 'accepted' | 'refused' {
    if (line.byteLength === 0 || line[line.byteLength - 1] !== 0x0a) throw new SelectAnswerError('multistream-select answer without a newline')
    const text = new TextDecoder().decode(line.subarray(0, -1))
    if (!this.sawHeader) {
      if (text !== MULTISTREAM) throw new SelectAnswerError(`expected ${MULTISTREAM} from the listener, got "${text.slice(0, 40)}"`)
      this.sawHeader = true
      return 'pending'
    }
    if (text === this.protocol) return 'accepted'
    if (text === NOT_AVAILABLE) return 'refused'
    throw new SelectAnswerError(`listener answered "${text.slice(0, 40)}" to ${this.protocol}`)
  }
}

/**
 * A new stream on `connection` with no protocol negotiated yet, for `encodeProposal` to go first
 * on; undefined where the connection does not expose its muxer (then negotiate with `newStream`).
 * libp2p keeps the muxer private in its types, but it is the documented `StreamMuxer` interface.
 */
export function rawStream (connection: Connection): Promise<Stream> | undefined {
  const muxer = (connection as unknown as { muxer?: StreamMuxer }).muxer
  if (typeof muxer?.createStream !== 'function' || muxer.status !== 'open' || connection.status !== 'open') return undefined
  return muxer.createStream()
}
