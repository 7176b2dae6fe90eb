// The verb table of `dispatch`: one entry per verb module in this folder.

import type { Verb } from '../verb.ts'
import { desktop } from './desktop.ts'
import { pair } from './pair.ts'
import { join } from './join.ts'
import { devices } from './devices.ts'
import { revoke } from './revoke.ts'
import { sync } from './sync.ts'
import { relay } from './relay.ts'
import { add } from './add.ts'
import { tasks } from './tasks.ts'
import { schedules } from './schedules.ts'
import { show } from './show.ts'
import { watch } from './watch.ts'
import { cancel } from './cancel.ts'
import { approve, deny, reply } from './answer.ts'
import { prune } from './prune.ts'
import { demo } from './demo.ts'

export const verbs: Verb[] = [desktop, pair, join, add, tasks, schedules, show, watch, sync, cancel, approve, deny, reply, devices, revoke, prune, relay, demo]
