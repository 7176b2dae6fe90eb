// Time-ordered task ids (ULID layout: 48-bit millisecond time + 80 random bits, Crockford
// base32, 26 chars), so sorting ids as strings sorts tasks by creation time.
// Nothing installed provides a time-ordered id (nanoid is random only), hence this module.

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'
const TIME_CHARS = 10
const RANDOM_CHARS = 16

let lastTime = -1
let lastRandom: number[] = []

function encodeTime (ms: number): string {
  let out = ''
  for (let i = 0; i < TIME_CHARS; i++) {
    out = ALPHABET[ms % 32] + out
    ms = Math.floor(ms / 32)
  }
  return out
}

function freshRandom (): number[] {
  // Web Crypto: the same module runs in Node and in the phone's browser.
  const bytes = crypto.getRandomValues(new Uint8Array(RANDOM_CHARS))
  return Array.from(bytes, (b) => b & 31)
}

/** Increments the random part as a base-32 number: ids minted in the same millisecond still sort in order. */
function increment (digits: number[]): number[] {
  const next = digits.slice()
  for (let i = next.length - 1; i >= 0; i--) {
    if (next[i]! < 31) { next[i]!++; return next }
    next[i] = 0
  }
  return freshRandom() // 80-bit overflow within one millisecond: practically unreachable
}

/** A new id, strictly greater than every id this process minted before (monotonic within a millisecond). */
export function newTaskId (now: number = Date.now()): string {
  if (now <= lastTime) {
    lastRandom = increment(lastRandom)
    now = lastTime
  } else {
    lastTime = now
    lastRandom = freshRandom()
  }
  return encodeTime(now) + lastRandom.map((d) => ALPHABET[d]).join('')
}

/**
 * A task id of the same shape whose random part is taken from `bytes` (at least 16): the same
 * inputs give the same id, on any device, after any restart (a schedule's occurrence).
 */
export function taskIdFrom (ms: number, bytes: Uint8Array): string {
  if (bytes.length < RANDOM_CHARS) throw new RangeError(`taskIdFrom needs ${RANDOM_CHARS} bytes`)
  return encodeTime(ms) + Array.from(bytes.subarray(0, RANDOM_CHARS), (b) => ALPHABET[b & 31]).join('')
}

/** The creation time encoded in an id, or undefined when it is not one of ours. */
export function taskIdTime (id: string): number | undefined {
  if (!isTaskId(id)) return undefined
  let ms = 0
  for (const c of id.slice(0, TIME_CHARS)) ms = ms * 32 + ALPHABET.indexOf(c)
  return ms
}

export function isTaskId (id: unknown): id is string {
  return typeof id === 'string' && /^[0-9A-HJKMNP-TV-Z]{26}$/.test(id)
}
