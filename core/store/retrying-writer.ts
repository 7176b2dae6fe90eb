// Appends a document's updates to one key of a Storage and keeps those that did not reach it
// (a full disk): they are retried until they do, and `flush` says whether everything did.

import * as Y from 'yjs'
import { STORAGE_RETRY_MS } from '../constants.ts'
import { systemTimers } from '../sync/timers.ts'
import type { Timers } from '../sync/timers.ts'
import { StorageFailedError } from './storage.ts'
import type { Storage } from './storage.ts'

export interface RetryingWriterOptions {
  /** Told once when writes start failing. */
  onFailed?: (error: Error) => void
  /** Told once when everything unsaved has reached the storage again. */
  onRecovered?: () => void
  timers?: Timers
  retryMs?: number
}

/**
 * The updates of one key, in issue order: each goes to `storage.append` at once while the
 * storage works; once an append fails, later updates join the unsaved ones, which are merged and
 * appended together (retried every `retryMs`, and at each `flush`), so nothing is written after
 * a gap that a crash could leave unfilled.
 */
export class RetryingWriter {
  private readonly storage: Storage
  private readonly key: string
  private readonly options: RetryingWriterOptions
  private readonly timers: Timers
  private readonly inflight = new Set<Promise<void>>()
  private unsaved: Uint8Array[] = []
  private lastError: unknown = undefined
  private retrying: Promise<boolean> | null = null
  private timer: unknown = null
  private closed = false

  constructor (storage: Storage, key: string, options: RetryingWriterOptions = {}) {
    this.storage = storage
    this.key = key
    this.options = options
    this.timers = options.timers ?? systemTimers
  }

  /** True from a failed append until everything unsaved has been written. */
  get failing (): boolean {
    return this.lastError !== undefined
  }

  write (update: Uint8Array): void {
    if (this.failing) {
      this.unsaved.push(update)
      this.scheduleRetry(0)
      return
    }
    const write = this.storage.append(this.key, update)
      .catch((err: unknown) => { this.failed([update], err) })
      .finally(() => { this.inflight.delete(write) })
    this.inflight.add(write)
  }

  /** Resolves once every update written so far is in the storage; rejects with `StorageFailedError` if one is not (after one more try). */
  async flush (): Promise<void> {
    await this.settle()
    if (this.failing && !await this.retry()) throw new StorageFailedError(this.lastError)
  }

  /** No more retries (what is unsaved stays unsaved); `flush` still tells. */
  close (): void {
    this.closed = true
    if (this.timer !== null) this.timers.clearTimeout(this.timer)
    this.timer = null
  }

  private async settle (): Promise<void> {
    while (this.inflight.size > 0) await Promise.all(Array.from(this.inflight))
  }

  private failed (updates: Uint8Array[], err: unknown): void {
    const first = !this.failing
    this.unsaved.push(...updates)
    this.lastError = err
    if (first) this.options.onFailed?.(err instanceof Error ? err : new Error(String(err)))
    this.scheduleRetry(this.options.retryMs ?? STORAGE_RETRY_MS)
  }

  private scheduleRetry (ms: number): void {
    if (this.closed || this.timer !== null || this.retrying !== null) return
    this.timer = this.timers.setTimeout(() => {
      this.timer = null
      void this.retry()
    }, ms)
  }

  /** One attempt at writing everything unsaved; true when nothing is left unsaved. */
  private retry (): Promise<boolean> {
    this.retrying ??= (async () => {
      // Appends still under way may fail and join the unsaved ones: wait for them first.
      await this.settle()
      if (!this.failing) return true
      while (this.unsaved.length > 0) {
        const batch = this.unsaved
        this.unsaved = []
        try {
          // Merged: one record, whatever order the updates failed in.
          await this.storage.append(this.key, batch.length === 1 ? batch[0] : Y.mergeUpdates(batch))
        } catch (err) {
          this.unsaved = [...batch, ...this.unsaved]
          this.lastError = err
          return false
        }
      }
      this.lastError = undefined
      this.options.onRecovered?.()
      return true
    })().finally(() => {
      this.retrying = null
      if (this.failing) this.scheduleRetry(this.options.retryMs ?? STORAGE_RETRY_MS)
    })
    return this.retrying
  }
}
