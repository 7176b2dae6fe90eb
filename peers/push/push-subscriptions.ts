// The push subscriptions pages gave this desktop, one per phone (the browser device's peer id),
// kept in its home as `push-subscriptions.json` so a push reaches a phone that is off.

import { readFile, writeFile, rename } from 'node:fs/promises'
import { join } from 'node:path'
import { parseSubscription } from './subscription.ts'
import type { PushSubscriptionData } from './subscription.ts'

export const SUBSCRIPTIONS_FILE = 'push-subscriptions.json'

export class PushSubscriptions {
  readonly #file: string
  #byPhone: Map<string, PushSubscriptionData>
  #saving: Promise<void> = Promise.resolve()

  private constructor (file: string, byPhone: Map<string, PushSubscriptionData>) {
    this.#file = file
    this.#byPhone = byPhone
  }

  static async open (home: string): Promise<PushSubscriptions> {
    const file = join(home, SUBSCRIPTIONS_FILE)
    const byPhone = new Map<string, PushSubscriptionData>()
    try {
      for (const [phone, raw] of Object.entries(JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>)) {
        const sub = parseSubscription(raw)
        if (sub !== undefined) byPhone.set(phone, sub)
      }
    } catch (err) {
      // None yet, or unreadable: pages give theirs again when they next connect.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') console.error(`dispatch: ${file} ignored (${(err as Error).message})`)
    }
    return new PushSubscriptions(file, byPhone)
  }

  get (phone: string): PushSubscriptionData | undefined {
    return this.#byPhone.get(phone)
  }

  /** Keep `sub` for `phone` (saved when it changed); resolves once on disk. */
  async set (phone: string, sub: PushSubscriptionData): Promise<void> {
    if (JSON.stringify(this.#byPhone.get(phone)) === JSON.stringify(sub)) return
    this.#byPhone.set(phone, sub)
    await this.#save()
  }

  /** The push service said this subscription is gone. */
  async delete (phone: string): Promise<void> {
    if (!this.#byPhone.delete(phone)) return
    await this.#save()
  }

  /** One write at a time, each the whole map, replaced atomically. */
  #save (): Promise<void> {
    this.#saving = this.#saving.then(async () => {
      const tmp = `${this.#file}.tmp-${process.pid}`
      await writeFile(tmp, JSON.stringify(Object.fromEntries(this.#byPhone), null, 1) + '\n', { mode: 0o600 })
      await rename(tmp, this.#file)
    })
    return this.#saving
  }
}
