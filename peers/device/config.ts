// The home's config.json: this device's name and role, the relays it holds a slot on, and its
// settings (the default desktop). Keys it does not know are kept as they are; every write
// re-reads the file and replaces it atomically (fsynced), one write at a time.

import { readJsonFile, writeJsonFile } from '../../core/index.ts'
import type { DeviceRole } from '../tasks/roles.ts'
import type { Settings, SettingsStore } from '../app/ports.ts'

export interface DeviceConfig {
  name?: string
  role?: DeviceRole
  /** Circuit relays this device holds a slot on (`dispatch desktop --relay`). */
  relays?: string[]
  /** Peer id of the desktop `add` sends to without --to. */
  defaultDesktop?: string
  /** Where the phone web app is hosted (`dispatch pair --app-url`): pair --web links there. */
  appUrl?: string
  /** Members' last addresses, kept here before the address book had its own file (peers.json); moved there on open. */
  peers?: Record<string, { name?: string, addrs?: string[] }>
  [other: string]: unknown
}

export class ConfigFile implements SettingsStore {
  readonly path: string
  #writes: Promise<unknown> = Promise.resolve()

  constructor (path: string) {
    this.path = path
  }

  async config (): Promise<DeviceConfig> {
    return (await readJsonFile(this.path) ?? {}) as DeviceConfig
  }

  /** Re-reads the file, applies `change`, writes it back; writes queue behind each other. */
  async change (change: (config: DeviceConfig) => void): Promise<DeviceConfig> {
    const write = this.#writes.then(async () => {
      const config = await this.config()
      change(config)
      await writeJsonFile(this.path, config)
      return config
    })
    // The queue only orders writes: each caller gets its own write's outcome from `write`.
    this.#writes = write.catch(() => {})
    return await write
  }

  async read (): Promise<Settings> {
    const { defaultDesktop } = await this.config()
    return typeof defaultDesktop === 'string' ? { defaultDesktop } : {}
  }

  async update (change: (settings: Settings) => void): Promise<void> {
    await this.change(config => {
      const settings: Settings = typeof config.defaultDesktop === 'string' ? { defaultDesktop: config.defaultDesktop } : {}
      change(settings)
      if (settings.defaultDesktop === undefined) delete config.defaultDesktop
      else config.defaultDesktop = settings.defaultDesktop
    })
  }
}
