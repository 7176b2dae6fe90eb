// The home's config.json: this device's name and role, the relays it holds a slot on, and its
// settings (the default desktop). Keys it does not know are kept as they are; every write
// re-reads the file and replaces it atomically (fsynced), one write at a time.

import { isMultiaddr, multiaddr } from '@multiformats/multiaddr'
import { readJsonFile, writeJsonFile } from '../../core/store/atomic-file.ts'
import { DEVICE_ROLES, isDeviceRole } from '../tasks/roles.ts'
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

/** config.json holds a known key with a value of the wrong type (edited by hand). */
export class ConfigFileError extends Error {
  override name = 'ConfigFileError'
}

/** What is wrong with the first known key that does not have its type, or null. Unknown keys are kept as they are. */
function wrongKey (config: Record<string, unknown>): string | null {
  const shown = (value: unknown): string => JSON.stringify(value)?.slice(0, 40) ?? String(value)
  if (config.name !== undefined && typeof config.name !== 'string') return `"name" must be a string, not ${shown(config.name)}`
  if (config.role !== undefined && !isDeviceRole(config.role)) return `"role" must be one of ${DEVICE_ROLES.join(', ')}, not ${shown(config.role)}`
  if (config.defaultDesktop !== undefined && typeof config.defaultDesktop !== 'string') return `"defaultDesktop" must be a peer id string, not ${shown(config.defaultDesktop)}`
  if (config.relays !== undefined && (!Array.isArray(config.relays) || !config.relays.every(isMultiaddrText))) return `"relays" must be a list of multiaddr strings, not ${shown(config.relays)}`
  if (config.peers !== undefined) {
    const peers = config.peers
    const ok = typeof peers === 'object' && peers !== null && !Array.isArray(peers) && Object.values(peers).every(p =>
      typeof p === 'object' && p !== null && (p.name === undefined || typeof p.name === 'string') &&
      (p.addrs === undefined || (Array.isArray(p.addrs) && p.addrs.every(isMultiaddrText))))
    if (!ok) return `"peers" must map peer ids to {"name", "addrs": [multiaddr strings]}, not ${shown(peers)}`
  }
  return null
}

function isMultiaddrText (value: unknown): boolean {
  if (typeof value !== 'string') return false
  try { return isMultiaddr(multiaddr(value)) } catch { return false }
}

export class ConfigFile implements SettingsStore {
  readonly path: string
  #writes: Promise<unknown> = Promise.resolve()

  constructor (path: string) {
    this.path = path
  }

  /** The file's settings; throws `ConfigFileError` (naming the key) when one has the wrong type. */
  async config (): Promise<DeviceConfig> {
    const config = (await readJsonFile(this.path) ?? {}) as Record<string, unknown>
    const wrong = wrongKey(config)
    if (wrong !== null) throw new ConfigFileError(`${this.path}: ${wrong}; fix or remove that key`)
    return config as DeviceConfig
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
