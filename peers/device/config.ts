// The home's config.json as far as the device runtime is concerned: its name and role,
// and the last known addresses of its members. Keys it does not know are kept as they are.

import { readFile, writeFile, rename } from 'node:fs/promises'

export type DeviceRole = 'desktop' | 'phone'

export interface KnownPeer {
  name: string
  /** Multiaddrs ending in /p2p/<peerId>, most recent first. */
  addrs: string[]
}

export interface DeviceConfig {
  name?: string
  role?: DeviceRole
  peers?: Record<string, KnownPeer>
  /** Circuit relays this device holds a slot on (`dispatch desktop --relay`). */
  relays?: string[]
  [other: string]: unknown
}

export class ConfigFileError extends Error {
  name = 'ConfigFileError'
}

export async function readConfig (path: string): Promise<DeviceConfig> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {}
    throw err
  }
  try {
    const value = JSON.parse(text)
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not an object')
    return value as DeviceConfig
  } catch (err) {
    throw new ConfigFileError(`${path} is not valid JSON (${(err as Error).message}); fix or remove it`)
  }
}

/** Re-reads the file and merges `change` into it, so keys written by others survive. */
export async function updateConfig (path: string, change: (config: DeviceConfig) => void): Promise<DeviceConfig> {
  const config = await readConfig(path)
  change(config)
  const tmp = `${path}.${process.pid}.tmp`
  await writeFile(tmp, JSON.stringify(config, null, 2) + '\n', { mode: 0o600 })
  await rename(tmp, path)
  return config
}
