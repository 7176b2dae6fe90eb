// A page's Web Push subscription as it travels to a desktop (in the page's presence): the shape
// and its check. No Node imports: the page bundles this too.

/** What a page's `PushSubscription.toJSON()` holds. */
export interface PushSubscriptionData {
  endpoint: string
  keys: { p256dh: string, auth: string }
}

/** A subscription as a page sent it, checked; undefined when it is not one. */
export function parseSubscription (v: unknown): PushSubscriptionData | undefined {
  if (typeof v !== 'object' || v === null) return undefined
  const { endpoint, keys } = v as { endpoint?: unknown, keys?: { p256dh?: unknown, auth?: unknown } }
  if (typeof endpoint !== 'string' || endpoint.length > 2048 || !/^https?:\/\//.test(endpoint)) return undefined
  if (typeof keys?.p256dh !== 'string' || typeof keys.auth !== 'string' || keys.p256dh.length > 200 || keys.auth.length > 100) return undefined
  return { endpoint, keys: { p256dh: keys.p256dh, auth: keys.auth } }
}
