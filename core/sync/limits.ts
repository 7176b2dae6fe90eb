// Limits a space puts on what a member may send it, checked on the decoded structs of an incoming
// update before anything is applied: an update that breaks one is refused whole (the session
// that carried it closes, naming the reason), so the space stays as it was and loadable.

import * as Y from 'yjs'
import { DEVICES_MAP } from '../members.ts'
import { TRUST_MAP } from '../trust/gate.ts'

/** Per-space limits (`SpaceOptions.limits`); each one is off when omitted. */
export interface SpaceLimits {
  /** Largest incremental update message (bytes). The first diff of a session is bounded by `maxSpaceBytes` instead. */
  maxUpdateBytes?: number
  /** Top-level types the application uses; the engine's own (`devices`, `trust`) are always allowed. */
  allowedTypes?: readonly string[]
  /** Largest single value written: a string's characters, a JSON value's, a binary's bytes. */
  maxValueSize?: number
  /** Largest value under a given map key anywhere in the document (e.g. `{ text: 32768 }`); replaces `maxValueSize` there. */
  fieldSizes?: Readonly<Record<string, number>>
  /** Largest the space may grow (bytes, as stored: snapshot plus log) through what members send. */
  maxSpaceBytes?: number
}

/** Which kind of sync message carried the update. */
export type IncomingKind = 'update' | 'diff'

/** Why `update` may not be applied, or null when it may. Never throws: an undecodable update is a reason too. */
export function checkUpdate (doc: Y.Doc, update: Uint8Array, v2: boolean, kind: IncomingKind, limits: SpaceLimits, spaceBytes: number): string | null {
  if (kind === 'update' && limits.maxUpdateBytes !== undefined && update.byteLength > limits.maxUpdateBytes) {
    return `an update of ${update.byteLength} bytes (the limit is ${limits.maxUpdateBytes})`
  }
  if (limits.maxSpaceBytes !== undefined && spaceBytes + update.byteLength > limits.maxSpaceBytes) {
    return `an update of ${update.byteLength} bytes that would grow the space past ${limits.maxSpaceBytes} bytes`
  }
  if (limits.allowedTypes === undefined && limits.maxValueSize === undefined && limits.fieldSizes === undefined) return null
  let structs: Array<Y.Item | Y.GC | Y.Skip>
  try {
    structs = (v2 ? Y.decodeUpdateV2(update) : Y.decodeUpdate(update)).structs
  } catch {
    return 'an update that does not decode'
  }
  const allowed = limits.allowedTypes === undefined ? null : new Set([...limits.allowedTypes, DEVICES_MAP, TRUST_MAP])
  const local = new UpdateIndex(structs)
  for (const struct of structs) {
    if (!(struct instanceof Y.Item)) continue
    const where = local.place(doc, struct)
    if (allowed !== null && where.root !== undefined && !allowed.has(where.root)) {
      return `a write to the top-level type "${where.root.slice(0, 64)}", which this space does not use`
    }
    const size = contentSize(struct.content)
    // A key's own cap replaces the general one (a field may be meant to be larger than most).
    const cap = where.key !== null && limits.fieldSizes !== undefined && Object.hasOwn(limits.fieldSizes, where.key) ? limits.fieldSizes[where.key] : undefined
    if (cap !== undefined) {
      if (size > cap) return `a "${where.key ?? ''}" of size ${size} (the limit is ${cap})`
    } else if (limits.maxValueSize !== undefined && size > limits.maxValueSize) {
      return `a value of size ${size} (the limit is ${limits.maxValueSize})`
    }
  }
  return null
}

/** Where a struct of an update goes: its top-level type and its map key, when they can be known. */
interface Place { root: string | undefined, key: string | null }

/** The items of one update, by id, to follow an item's origin to its parent. */
class UpdateIndex {
  private readonly byClient = new Map<number, Y.Item[]>()
  private readonly places = new Map<Y.Item, Place>()

  constructor (structs: Array<Y.Item | Y.GC | Y.Skip>) {
    for (const s of structs) {
      if (!(s instanceof Y.Item)) continue
      const list = this.byClient.get(s.id.client) ?? []
      list.push(s)
      this.byClient.set(s.id.client, list)
    }
    for (const list of this.byClient.values()) list.sort((a, b) => a.id.clock - b.id.clock)
  }

  place (doc: Y.Doc, item: Y.Item, depth = 0): Place {
    const known = this.places.get(item)
    if (known !== undefined) return known
    let place: Place = { root: undefined, key: item.parentSub }
    if (depth < 64) {
      const parent = item.parent as unknown
      if (typeof parent === 'string') {
        place = { root: parent, key: item.parentSub }
      } else if (parent instanceof Y.ID) {
        place = { root: this.rootAt(doc, parent, depth), key: item.parentSub }
      } else {
        // No parent encoded: it has the parent (and map key) of its left or right neighbour.
        const neighbour = item.origin ?? item.rightOrigin
        if (neighbour !== null) place = this.placeAt(doc, neighbour, depth)
      }
    }
    this.places.set(item, place)
    return place
  }

  /** Root of the type whose item has id `id` (a nested type's own item). */
  private rootAt (doc: Y.Doc, id: Y.ID, depth: number): string | undefined {
    const inUpdate = this.find(id)
    if (inUpdate !== undefined) return this.place(doc, inUpdate, depth + 1).root
    const inDoc = docItem(doc, id)
    return inDoc === undefined ? undefined : rootOfType(inDoc.parent as Y.AbstractType<unknown>)
  }

  /** Place of the item that has id `id`, in this update or in the document. */
  private placeAt (doc: Y.Doc, id: Y.ID, depth: number): Place {
    const inUpdate = this.find(id)
    if (inUpdate !== undefined) return this.place(doc, inUpdate, depth + 1)
    const inDoc = docItem(doc, id)
    if (inDoc === undefined) return { root: undefined, key: null }
    return { root: rootOfType(inDoc.parent as Y.AbstractType<unknown>), key: inDoc.parentSub }
  }

  private find (id: Y.ID): Y.Item | undefined {
    const list = this.byClient.get(id.client)
    if (list === undefined) return undefined
    let lo = 0
    let hi = list.length - 1
    while (lo <= hi) {
      const mid = (lo + hi) >> 1
      const s = list[mid]
      if (id.clock < s.id.clock) hi = mid - 1
      else if (id.clock >= s.id.clock + s.length) lo = mid + 1
      else return s
    }
    return undefined
  }
}

/** The document's item holding `id`, if the document has it. */
function docItem (doc: Y.Doc, id: Y.ID): Y.Item | undefined {
  if (id.clock >= Y.getState(doc.store, id.client)) return undefined
  const s = Y.getItem(doc.store, id)
  return s instanceof Y.Item ? s : undefined
}

function rootOfType (type: Y.AbstractType<unknown> | null): string | undefined {
  let t = type
  for (let i = 0; t !== null && t._item !== null && i < 64; i++) t = t._item.parent as Y.AbstractType<unknown> | null
  if (t === null) return undefined
  try { return Y.findRootTypeKey(t) } catch { return undefined }
}

/** Size of an item's content: characters of a string, JSON characters of other values, bytes of a binary. */
function contentSize (content: unknown): number {
  if (content instanceof Y.ContentString) return content.str.length
  if (content instanceof Y.ContentBinary) return content.content.byteLength
  if (content instanceof Y.ContentAny) return content.arr.reduce((sum: number, v: unknown) => sum + valueSize(v), 0)
  if (content instanceof Y.ContentJSON) return content.arr.reduce((sum: number, v: unknown) => sum + valueSize(v), 0)
  if (content instanceof Y.ContentEmbed) return valueSize(content.embed)
  return 0
}

function valueSize (v: unknown): number {
  if (typeof v === 'string') return v.length
  if (v instanceof Uint8Array) return v.byteLength
  try { return JSON.stringify(v)?.length ?? 0 } catch { return 0 }
}
