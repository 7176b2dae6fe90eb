// Service worker: keeps the app shell so the page opens with no network. Network first (so a
// new build is picked up when online), cache as the fallback. Only same-origin GETs are touched.
// It also shows the desktop's Web Push messages (a task finished, failed, or asks something),
// even with the page closed, and a tap on one opens the page at that task.
const CACHE = 'dispatch-shell-v2'
const SHELL = ['./', './index.html', './app.js', './app.css', './manifest.webmanifest', './icon.svg', './icon-192.png', './icon-512.png', './apple-touch-icon.png']

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()))
})

self.addEventListener('activate', (event) => {
  event.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()))
})

self.addEventListener('fetch', (event) => {
  const request = event.request
  if (request.method !== 'GET' || new URL(request.url).origin !== self.location.origin) return
  // Where the desktop listens now (peers/web/origin-addrs.ts): from the network or not at all.
  if (new URL(request.url).pathname.endsWith('/dispatch-addrs.json')) return
  event.respondWith(fetch(request).then((response) => {
    if (response.ok) { const copy = response.clone(); caches.open(CACHE).then((cache) => cache.put(request, copy)) }
    return response
  }).catch(() => caches.match(request, { ignoreSearch: true }).then((hit) => hit ?? caches.match('./index.html'))))
})

// The payload is what peers/push/task-push.ts sends: { taskId, status, title, body }.
self.addEventListener('push', (event) => {
  let message = { title: 'Dispatch', body: '' }
  try { message = event.data.json() } catch { message.body = event.data?.text() ?? '' }
  event.waitUntil(self.registration.showNotification(message.title ?? 'Dispatch', {
    body: message.body ?? '',
    icon: 'icon-192.png',
    badge: 'icon-192.png',
    // The page shows the same task under the same tag: one notice per task, the newest.
    ...(message.taskId ? { tag: message.taskId, data: { taskId: message.taskId } } : {})
  }))
})

self.addEventListener('notificationclick', (event) => {
  event.notification.close()
  const taskId = event.notification.data?.taskId
  event.waitUntil(self.clients.matchAll({ type: 'window', includeUncontrolled: true }).then((windows) => {
    const open = windows[0]
    if (open !== undefined) {
      if (taskId) open.postMessage({ openTask: taskId })
      return open.focus()
    }
    return self.clients.openWindow(taskId ? `./?task=${encodeURIComponent(taskId)}` : './')
  }))
})
