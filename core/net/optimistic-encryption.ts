// Outbound connections propose their encryption protocol (Noise) optimistically: the
// multistream-select proposal and Noise's first handshake message leave together, and the
// listener's answer is checked (and taken off the wire) before Noise reads its reply. Stock
// libp2p waits one round trip for that answer before starting Noise. The listener sees the
// same bytes as from any dialer; only our waiting changes. Used by tuned-transport.ts.

import type { MultiaddrConnection, Upgrader } from '@libp2p/interface'
import type { Uint8ArrayList } from 'uint8arraylist'
import { SelectReply, encodeProposal } from './optimistic-select.ts'
import { FrameDecoder } from './stream-channel.ts'

/** Longest multistream-select line we accept in the answer. */
const MAX_ANSWER_LINE = 1024

interface EncrypterLike {
  secureOutbound: (connection: MultiaddrConnection, options?: unknown) => Promise<Record<string, unknown>>
}

/** The parts of libp2p's Upgrader (libp2p 3.3) this relies on; anything else means "leave it stock". */
interface UpgraderInternals {
  _encryptOutbound?: (connection: MultiaddrConnection, options: unknown) => Promise<Record<string, unknown>>
  getConnectionEncrypters?: () => Map<string, EncrypterLike>
}

type DataReceiver = { onData?: (data: Uint8Array | Uint8ArrayList) => void }

/**
 * `upgrader` as the `this` of its own `upgradeOutbound`, with an optimistic `_encryptOutbound`
 * when exactly one encrypter is configured; otherwise `upgrader` itself.
 */
export function optimisticEncryption (upgrader: Upgrader): Upgrader {
  const internals = upgrader as unknown as UpgraderInternals
  const encrypters = internals.getConnectionEncrypters?.()
  if (typeof internals._encryptOutbound !== 'function' || encrypters?.size !== 1) return upgrader
  const [[protocol, encrypter]] = [...encrypters]
  const encryptOutbound = async (connection: MultiaddrConnection, options: unknown): Promise<Record<string, unknown>> => {
    if (!expectAnswer(connection, protocol)) return await internals._encryptOutbound!.call(upgrader, connection, options)
    connection.send(encodeProposal(protocol))
    return { ...await encrypter.secureOutbound(connection, options), protocol }
  }
  return new Proxy(upgrader, {
    get (target, prop) {
      if (prop === '_encryptOutbound') return encryptOutbound
      return Reflect.get(target, prop, target)
    }
  })
}

/**
 * Hold back the listener's answer to our proposal: once it accepts, the connection delivers
 * what follows as usual; a refusal or anything malformed aborts the connection. False when
 * the connection does not take its data through `onData` (then nothing was changed).
 */
function expectAnswer (connection: MultiaddrConnection, protocol: string): boolean {
  const receiver = connection as unknown as DataReceiver
  const onData = receiver.onData
  if (typeof onData !== 'function') return false
  const decoder = new FrameDecoder(MAX_ANSWER_LINE)
  const reply = new SelectReply(protocol)
  receiver.onData = (data) => {
    try {
      decoder.push(data)
      for (let line = decoder.next(); line !== null; line = decoder.next()) {
        const outcome = reply.read(line)
        if (outcome === 'refused') throw new Error(`the remote does not speak ${protocol}`)
        if (outcome === 'accepted') {
          receiver.onData = onData
          for (const rest of decoder.drain()) onData.call(connection, rest)
          return
        }
      }
    } catch (err) {
      connection.abort(err as Error)
    }
  }
  return true
}
