// Receipts: the target desktop's signature over how a task ended (task id, attempt, status,
// digests of the result, the error and each output, finish time), made with its device key.
// A replica shows a result as verified only when the receipt checks against the target's key
// and matches the fields it reads; anything another member writes carries no valid receipt.

import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex } from '@noble/hashes/utils.js'
import type { TaskOutput, TaskStatus } from './task-rules.ts'

/** Signing domain of receipts (see core `signRecord`). */
export const RECEIPT_DOMAIN = 'dispatch-receipt/1'

/** How a board signs its receipts and checks others' (the space's key; core `verifyRecord`). */
export interface ReceiptKeys {
  sign: (body: string) => string
  verify: (peerId: string, body: string, sig: string) => boolean
}

/** What a receipt is signed over: the fields a replica shows, by digest. */
export interface ReceiptFields {
  task: string
  attempt: number
  status: TaskStatus
  result?: string
  error?: string
  outputs: TaskOutput[]
  finishedAt?: number
}

/** The stored form: `{ body, sig }` in the task's `receipt` field. */
export interface StoredReceipt { body: string, sig: string }

/** Canonical body: fixed key order, digests instead of the values. */
export function receiptBody (f: ReceiptFields): string {
  return JSON.stringify({
    task: f.task,
    attempt: f.attempt,
    status: f.status,
    result: f.result === undefined ? null : digest(f.result),
    error: f.error === undefined ? null : digest(f.error),
    outputs: f.outputs.map(o => digest(JSON.stringify(o))),
    finishedAt: f.finishedAt ?? null
  })
}

export function signReceipt (keys: ReceiptKeys, f: ReceiptFields): StoredReceipt {
  const body = receiptBody(f)
  return { body, sig: keys.sign(body) }
}

/** Does `raw` (a task's `receipt` field) prove `f`, signed by `target`? */
export function receiptProves (keys: ReceiptKeys, raw: unknown, target: string, f: ReceiptFields): boolean {
  if (typeof raw !== 'object' || raw === null) return false
  const { body, sig } = raw as Record<string, unknown>
  if (typeof body !== 'string' || typeof sig !== 'string' || body.length > 64 * 1024 || sig.length > 200) return false
  return body === receiptBody(f) && keys.verify(target, body, sig)
}

function digest (text: string): string {
  return bytesToHex(sha256(new TextEncoder().encode(text)))
}
