// The verb table of `dispatch`: one entry per verb module in this folder.

import type { Verb } from '../verb.ts'

export const verbs: Verb[] = []
