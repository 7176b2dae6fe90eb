// Who may do what to membership: the one place rights are checked, so that per-member rights
// (shared desktops, later) are data in admissions, not code scattered through the gates.
//
// The rule: this device is the root of its own gate and may admit and revoke anyone. A member
// admitted with the `admin` right may admit and revoke too (a phone grants it to the desktop it
// pairs with; a desktop grants it to nobody by default). Every device may revoke itself.

/** May admit other devices and revoke any device. */
export const ADMIN = 'admin'

/** What a gate knows of one actor: whether it is the gate's own device, and its rights there. */
export interface Actor {
  root: boolean
  rights: readonly string[]
}

export function mayAdmit (actor: Actor): boolean {
  return actor.root || actor.rights.includes(ADMIN)
}

export function mayRevoke (actor: Actor, actorId: string, target: string): boolean {
  return actorId === target || actor.root || actor.rights.includes(ADMIN)
}
