// Sends one Web Push message to a page's push service: the payload encrypted for the
// subscription (RFC 8291, aes128gcm) and the request signed with the desktop's VAPID key
// (RFC 8292), both by the `web-push` package; the request itself is a plain `fetch`.

import webpush from 'web-push'
import type { VapidKeys } from './vapid-keys.ts'
import type { PushSubscriptionData } from './subscription.ts'

export type { PushSubscriptionData } from './subscription.ts'

/** Who runs the sender, for the push service's operator (RFC 8292 `sub`). */
export const DEFAULT_PUSH_SUBJECT = 'mailto:dispatch@users.noreply.github.com'
/** How long the push service keeps a message for a phone that is off. */
export const PUSH_TTL_SECONDS = 24 * 60 * 60
const SEND_TIMEOUT_MS = 15_000

/** The push service refused the message; `gone` when the subscription no longer exists (404, 410). */
export class PushRejectedError extends Error {
  name = 'PushRejectedError'
  readonly status: number
  readonly gone: boolean
  constructor (status: number, body: string) {
    super(`the push service answered ${status}${body !== '' ? `: ${body.slice(0, 200)}` : ''}`)
    this.status = status
    this.gone = status === 404 || status === 410
  }
}

/** Encrypt `payload` for `subscription` and post it to its push service. */
export async function sendPush (subscription: PushSubscriptionData, payload: string, vapid: VapidKeys, options: { subject?: string, ttl?: number } = {}): Promise<void> {
  const request = webpush.generateRequestDetails(subscription, payload, {
    vapidDetails: { subject: options.subject ?? DEFAULT_PUSH_SUBJECT, publicKey: vapid.publicKey, privateKey: vapid.privateKey },
    TTL: options.ttl ?? PUSH_TTL_SECONDS,
    contentEncoding: 'aes128gcm',
    urgency: 'high'
  })
  const response = await fetch(request.endpoint, {
    method: request.method,
    headers: request.headers as Record<string, string>,
    body: request.body === null ? null : new Uint8Array(request.body),
    signal: AbortSignal.timeout(SEND_TIMEOUT_MS)
  })
  const body = await response.text()
  if (!response.ok) throw new PushRejectedError(response.status, body)
}
