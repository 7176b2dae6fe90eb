// The roles of Dispatch devices, as recorded in the space's members: a desktop runs the tasks
// addressed to it; a phone (the CLI on another machine, or the web page) sends them.

export type DeviceRole = 'desktop' | 'phone'

export const DEVICE_ROLES: readonly DeviceRole[] = ['desktop', 'phone']

export function isDeviceRole (value: unknown): value is DeviceRole {
  return (DEVICE_ROLES as readonly unknown[]).includes(value)
}
