// A running command's output, line by line, into its task's log while it runs: lines are
// batched and written at most every LIVE_OUTPUT_INTERVAL_MS, and at most LIVE_OUTPUT_MAX_BYTES
// per task reach the document, so a chatty command cannot flood it (the result keeps the
// head and tail of everything anyway).

import { createInterface } from 'node:readline'
import type { Readable } from 'node:stream'

/** One log entry per batch, at most this often. */
export const LIVE_OUTPUT_INTERVAL_MS = 250
/** Bytes of output a task streams into the document; past it, one line says the rest is in the result. */
export const LIVE_OUTPUT_MAX_BYTES = 32 * 1024
/** Characters in one batch (a log entry holds 2 KiB); a longer batch is written at once. */
const BATCH_CHARS = 2000

export class LiveOutput {
  readonly #write: (text: string) => void
  #lines: string[] = []
  #chars = 0
  #sent = 0
  #capped = false
  #timer: NodeJS.Timeout | undefined
  #open = 0

  /** `write` gets each batch (lines joined by newlines). */
  constructor (write: (text: string) => void) {
    this.#write = write
  }

  /** Follow a stream's lines (stdout, stderr); lines of several streams interleave as they come. */
  follow (stream: Readable): void {
    this.#open++
    const lines = createInterface({ input: stream, crlfDelay: Infinity })
    lines.on('line', line => { this.#push(line) })
    lines.on('close', () => { if (--this.#open === 0) this.flush() })
  }

  #push (line: string): void {
    if (this.#capped) return
    if (this.#sent + this.#chars + line.length > LIVE_OUTPUT_MAX_BYTES) {
      this.flush()
      this.#capped = true
      this.#write(`[live output stops after ${LIVE_OUTPUT_MAX_BYTES / 1024} KiB; the result keeps its start and end]`)
      return
    }
    this.#lines.push(line)
    this.#chars += line.length + 1
    if (this.#chars >= BATCH_CHARS) { this.flush(); return }
    this.#timer ??= setTimeout(() => { this.flush() }, LIVE_OUTPUT_INTERVAL_MS)
  }

  /** Write what is batched now (also when the command ends). */
  flush (): void {
    if (this.#timer !== undefined) { clearTimeout(this.#timer); this.#timer = undefined }
    if (this.#lines.length === 0) return
    const text = this.#lines.join('\n')
    this.#sent += this.#chars
    this.#lines = []
    this.#chars = 0
    this.#write(text)
  }

  /** Stop: write what is batched, then nothing more. */
  close (): void {
    this.flush()
    this.#capped = true
  }
}
