// Cut a large Yjs update (V1) into pieces of bounded size that each apply on their own:
// runs of consecutive structs per client, then the delete set alone. A connection cut
// mid-way (a relay's data limit) keeps every piece that arrived.

import * as Y from 'yjs'
import * as encoding from 'lib0/encoding'

type Struct = Y.Item | Y.GC | Y.Skip

/** Pieces of `update`, each at most about `maxBytes` (a single struct larger than that is its own piece). */
export function splitUpdate (update: Uint8Array, maxBytes: number): Uint8Array[] {
  if (update.byteLength <= maxBytes) return [update]
  const { structs } = Y.decodeUpdate(update)
  const pieces: Uint8Array[] = []
  let run: Struct[] = []
  let runBytes = 0
  const flush = (): void => {
    if (run.length > 0) pieces.push(encodeRun(run))
    run = []
    runBytes = 0
  }
  const ends = new Map<number, number>()
  for (const struct of structs) {
    const { client, clock } = struct.id
    ends.set(client, Math.max(ends.get(client) ?? 0, clock + struct.length))
    if (struct instanceof Y.Skip) { flush(); continue }
    const last = run.at(-1)
    const contiguous = last !== undefined && last.id.client === client && last.id.clock + last.length === clock
    const size = structSize(struct)
    if (!contiguous || runBytes + size > maxBytes) flush()
    run.push(struct)
    runBytes += size
  }
  flush()
  // Whatever the update deletes, alone: no struct survives a diff against its own end clocks.
  const sv = encoding.createEncoder()
  encoding.writeVarUint(sv, ends.size)
  for (const [client, clock] of ends) { encoding.writeVarUint(sv, client); encoding.writeVarUint(sv, clock) }
  pieces.push(Y.diffUpdate(update, encoding.toUint8Array(sv)))
  return pieces
}

function structSize (struct: Struct): number {
  const encoder = new Y.UpdateEncoderV1()
  struct.write(encoder, 0)
  return encoding.length(encoder.restEncoder)
}

/** One client's consecutive structs as an update with an empty delete set. */
function encodeRun (run: Struct[]): Uint8Array {
  const encoder = new Y.UpdateEncoderV1()
  encoding.writeVarUint(encoder.restEncoder, 1)
  encoding.writeVarUint(encoder.restEncoder, run.length)
  encoder.writeClient(run[0].id.client)
  encoding.writeVarUint(encoder.restEncoder, run[0].id.clock)
  for (const struct of run) struct.write(encoder, 0)
  encoding.writeVarUint(encoder.restEncoder, 0) // delete set: no clients
  return encoder.toUint8Array()
}
