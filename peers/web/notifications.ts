// The page's notices outside the page: shown by the service worker (`showNotification`, which
// Chrome on Android requires), and Web Push, so a locked phone hears from the desktop itself.
// The page subscribes with one desktop's VAPID key (a browser holds one subscription per
// service worker): the one it subscribed with before while it is still paired, else the default.

import type { Phone } from './phone.ts'
import type { DeviceView } from '../app/api.ts'

const PUSH_TO_KEY = 'dispatch.push-to'

/** Shown by the service worker; `tag` (the task id) replaces an earlier notice of the same task, such as its push. */
export async function showSystemNotice (title: string, body: string, tag?: string): Promise<boolean> {
  if (typeof Notification === 'undefined' || Notification.permission !== 'granted' || !('serviceWorker' in navigator)) return false
  const registration = await navigator.serviceWorker.getRegistration()
  if (registration === undefined) return false
  await registration.showNotification(title, { body, icon: 'icon-192.png', badge: 'icon-192.png', ...(tag !== undefined ? { tag, data: { taskId: tag } } : {}) })
  return true
}

let subscribing = false
let published = ''

/**
 * Subscribe this page to Web Push with a paired desktop's key and hand that desktop the
 * subscription. Needs notification permission, a service worker, and a push service (none in a
 * browser without one, e.g. headless): then it quietly does nothing; in-page notices remain.
 */
export async function subscribeToPush (phone: Phone, devices: DeviceView[]): Promise<void> {
  if (subscribing || published === 'unavailable' || typeof Notification === 'undefined' || Notification.permission !== 'granted') return
  if (!('serviceWorker' in navigator) || !('PushManager' in globalThis)) return
  const desktops = devices.filter(d => d.role === 'desktop' && !d.revoked && !d.self)
  const keys = phone.vapidKeys()
  const before = localStorage.getItem(PUSH_TO_KEY)
  const to = desktops.find(d => d.peerId === before) ?? desktops.find(d => d.default) ?? desktops[0]
  const key = to !== undefined ? keys.get(to.peerId) : undefined
  if (to === undefined || key === undefined) return // its key comes with its presence, once online
  subscribing = true
  try {
    const registration = await navigator.serviceWorker.ready
    let subscription = await registration.pushManager.getSubscription()
    if (subscription !== null && base64url(subscription.options.applicationServerKey) !== key) {
      await subscription.unsubscribe()
      subscription = null
    }
    subscription ??= await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: fromBase64url(key) })
    const json = JSON.stringify(subscription.toJSON())
    if (published === `${to.peerId} ${json}`) return
    phone.publishPushSubscription(to.peerId, subscription.toJSON())
    localStorage.setItem(PUSH_TO_KEY, to.peerId)
    published = `${to.peerId} ${json}`
  } catch (err) {
    console.warn(`dispatch: no Web Push here (${(err as Error).message}); notices show while the page is open`)
    published = 'unavailable'
  } finally {
    subscribing = false
  }
}

function base64url (buffer: ArrayBuffer | null): string {
  if (buffer === null) return ''
  return btoa(String.fromCharCode(...new Uint8Array(buffer))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

function fromBase64url (s: string): Uint8Array<ArrayBuffer> {
  const bin = atob(s.replace(/-/g, '+').replace(/_/g, '/'))
  return Uint8Array.from(bin, c => c.charCodeAt(0))
}
