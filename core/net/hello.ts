// The first frame of a sync stream: protocol revision and the space it is for.

import * as encoding from 'lib0/encoding'
import * as decoding from 'lib0/decoding'
import { MAX_SPACE_NAME_BYTES } from '../constants.ts'
import { MalformedFrameError } from './stream-channel.ts'

const HELLO_VERSION = 1

export function encodeHello (space: string): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, HELLO_VERSION)
  encoding.writeVarString(encoder, space)
  return encoding.toUint8Array(encoder)
}

export function decodeHello (bytes: Uint8Array): { space: string } {
  if (bytes.byteLength > MAX_SPACE_NAME_BYTES + 8) throw new MalformedFrameError('hello frame too long')
  try {
    const decoder = decoding.createDecoder(bytes)
    const version = decoding.readVarUint(decoder)
    if (version !== HELLO_VERSION) throw new MalformedFrameError(`unsupported sync hello version ${version}`)
    const space = decoding.readVarString(decoder)
    if (decoding.hasContent(decoder)) throw new MalformedFrameError('trailing bytes after sync hello')
    return { space }
  } catch (err) {
    if (err instanceof MalformedFrameError) throw err
    throw new MalformedFrameError('malformed sync hello')
  }
}
