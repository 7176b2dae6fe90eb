// What a desktop lets its tasks touch: folders read-write, folders read-only, terminal, network.
// Grants come from a JSON file in the home directory merged with command-line flags; a task
// may narrow them to one folder inside a grant, never widen them. Every path is checked on
// its real location (symlinks and aliases such as /tmp -> /private/tmp resolved at check time).

import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import { writeJsonFile } from '../../core/index.ts'

export interface Grants {
  /** Folders tasks may read and write. The first one is where work starts. */
  readWrite: string[]
  /** Folders tasks may read only. Wins over a read-write grant that contains it. */
  readOnly: string[]
  terminal: boolean
  network: boolean
  /** Folders where every tool call waits for the phone's approval first (`--ask DIR`), granted or not. */
  ask?: string[]
}

export type Access = 'read' | 'write'

export interface Decision {
  allowed: boolean
  /** The path as given. */
  path: string
  /** Its real location (symlinks resolved), when it could be resolved. */
  real?: string
  access: Access
  reason: string
}

export class PermissionDeniedError extends Error {
  override name = 'PermissionDeniedError'
  readonly path: string | undefined
  constructor (message: string, pathGiven?: string) {
    super(message)
    this.path = pathGiven
  }
}

export const GRANTS_FILE = 'permissions.json'
const MAX_SYMLINK_HOPS = 40

export const NO_GRANTS: Grants = { readWrite: [], readOnly: [], terminal: false, network: false }

/**
 * Grants saved in `home/permissions.json`, merged with the flags of this run: folders from
 * both (flags first, so `--allow` picks where work starts), terminal/network from the flag when given.
 * Folders are made absolute against `cwd` but not resolved: resolution happens at each check.
 */
export async function loadGrants (home: string, flags: Partial<Grants> = {}, cwd = process.cwd()): Promise<Grants> {
  let saved: Partial<Grants> = {}
  try {
    const parsed: unknown = JSON.parse(await fs.readFile(path.join(home, GRANTS_FILE), 'utf8'))
    if (typeof parsed === 'object' && parsed !== null) saved = parsed as Partial<Grants>
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`cannot read ${path.join(home, GRANTS_FILE)}: ${(err as Error).message}`)
  }
  const folders = (list: unknown): string[] => Array.isArray(list) ? list.filter((p): p is string => typeof p === 'string' && p !== '' && !p.includes('\0')).map((p) => path.resolve(cwd, p)) : []
  const uniq = (a: string[]) => [...new Set(a)]
  const ask = uniq([...folders(flags.ask), ...folders(saved.ask)])
  return {
    readWrite: uniq([...folders(flags.readWrite), ...folders(saved.readWrite)]),
    readOnly: uniq([...folders(flags.readOnly), ...folders(saved.readOnly)]),
    ...(ask.length > 0 ? { ask } : {}),
    terminal: flags.terminal ?? saved.terminal === true,
    network: flags.network ?? saved.network === true
  }
}

export async function saveGrants (home: string, grants: Grants): Promise<void> {
  await writeJsonFile(path.join(home, GRANTS_FILE), grants)
}

/** True when `p` is `root` or inside it, component-wise (`/a/bc` is not inside `/a/b`). */
export function isWithin (root: string, p: string): boolean {
  if (p === root) return true
  const prefix = root.endsWith(path.sep) ? root : root + path.sep
  return p.startsWith(prefix)
}

/** isWithin with letter case and Unicode form folded: for checks that refuse, so a variant spelling can't dodge them. */
function isWithinFolded (root: string, p: string): boolean {
  const fold = (s: string) => s.normalize('NFC').toLowerCase()
  return isWithin(fold(root), fold(p))
}

/**
 * The real location of an absolute path that may not exist yet: the longest existing prefix is
 * realpath'd and the rest re-appended, except that a component which is a symlink (even a
 * dangling one) is followed, so a new file under a symlinked parent, or a dangling link
 * pointing outside, resolves to where the write would really land.
 */
export async function realLocation (abs: string): Promise<string> {
  const tail: string[] = []
  let prefix = abs
  let hops = 0
  for (;;) {
    try {
      const real = await fs.realpath(prefix)
      return tail.length > 0 ? path.join(real, ...tail.reverse()) : real
    } catch (err) {
      let st
      try {
        st = await fs.lstat(prefix)
      } catch (lerr) {
        const code = (lerr as NodeJS.ErrnoException).code
        if (code !== 'ENOENT' && code !== 'ENOTDIR') throw lerr
        const parent = path.dirname(prefix)
        if (parent === prefix) throw lerr
        tail.push(path.basename(prefix))
        prefix = parent
        continue
      }
      if (!st.isSymbolicLink()) throw err
      if (++hops > MAX_SYMLINK_HOPS) throw Object.assign(new Error('too many levels of symbolic links'), { code: 'ELOOP' })
      const parent = await fs.realpath(path.dirname(prefix))
      prefix = path.resolve(parent, await fs.readlink(prefix), ...tail.splice(0).reverse())
    }
  }
}

/** The folder a task would start in is missing (or is a file): said before anything runs in it. */
export class MissingFolderError extends Error {
  override name = 'MissingFolderError'
}

/** Commands started in a missing folder fail as `spawn /bin/sh ENOENT` or exit 127: say what is wrong instead. */
async function assertFolder (dir: string, fromTask: boolean): Promise<void> {
  let st: Awaited<ReturnType<typeof fs.stat>>
  try {
    st = await fs.stat(dir)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT' && (err as NodeJS.ErrnoException).code !== 'ENOTDIR') throw err
    throw new MissingFolderError(fromTask
      ? `the task's folder ${dir} does not exist on this desktop; add the task again with --in an existing folder`
      : `this desktop's granted folder ${dir} does not exist; create it, or restart the desktop with --allow an existing folder`)
  }
  if (!st.isDirectory()) throw new MissingFolderError(`${dir} is a file, not a folder; add the task again with --in a folder`)
}

/** The grants of one task: the desktop's grants, narrowed to the task's scope when it has one. */
export class Permissions {
  readonly grants: Grants
  readonly scope: string | undefined

  private constructor (grants: Grants, scope: string | undefined) {
    this.grants = grants
    this.scope = scope
  }

  /** Throws PermissionDeniedError when the scope is not inside a granted folder (a task never widens). */
  static async forTask (grants: Grants, scope?: string): Promise<Permissions> {
    const p = new Permissions(grants, scope)
    if (scope !== undefined) {
      const d = await p.#decideIgnoringScope(scope, 'read')
      if (!d.allowed) throw new PermissionDeniedError(`the task's folder ${scope} is not inside a folder this desktop granted (${d.reason})`, scope)
    }
    if (scope !== undefined || grants.readWrite.length + grants.readOnly.length > 0) await assertFolder(p.workdir(), scope !== undefined)
    return p
  }

  get terminal (): boolean { return this.grants.terminal }
  get network (): boolean { return this.grants.network }

  /** Whether this task may write at all (its scope, or some grant, is read-write). */
  async canWriteSomewhere (): Promise<boolean> {
    return (await this.decide(this.workdir(), 'write')).allowed
  }

  /** Where work starts: the task's scope, else the first read-write folder, else the first read-only one. */
  workdir (): string {
    const dir = this.scope ?? this.grants.readWrite[0] ?? this.grants.readOnly[0]
    if (dir === undefined) throw new PermissionDeniedError('this desktop has granted no folders (use --allow DIR or --allow-read DIR)')
    return dir
  }

  /** Folders the task may read, as configured: its scope, or every grant. */
  readableRoots (): string[] {
    return this.scope !== undefined ? [this.scope] : [...this.grants.readWrite, ...this.grants.readOnly]
  }

  /** The `--ask` folder (as configured) that holds `real` (a real location), if any. */
  async askRootOf (real: string): Promise<string | undefined> {
    const roots = this.grants.ask ?? []
    const resolved = await resolveRoots(roots)
    return roots.find((_, i) => resolved[i] !== undefined && isWithinFolded(resolved[i]!, real))
  }

  /** Folders writes are refused in, even inside a read-write grant. */
  readOnlyRoots (): string[] {
    return this.grants.readOnly.slice()
  }

  /** Checks a path (relative ones against `cwd`, default the workdir) and returns its real location. */
  async check (p: string, access: Access, cwd?: string): Promise<string> {
    const d = await this.decide(p, access, cwd)
    if (!d.allowed) throw new PermissionDeniedError(`${access} ${JSON.stringify(p)} denied: ${d.reason}`, p)
    return d.real!
  }

  async decide (p: string, access: Access, cwd?: string): Promise<Decision> {
    const d = await this.#decideIgnoringScope(p, access, cwd)
    if (!d.allowed || this.scope === undefined) return d
    const scopeReal = await realLocation(this.scope).catch(() => undefined)
    if (scopeReal === undefined || !isWithin(scopeReal, d.real!)) {
      return { ...d, allowed: false, reason: `outside the task's folder ${this.scope}` }
    }
    return d
  }

  async #decideIgnoringScope (p: string, access: Access, cwd?: string): Promise<Decision> {
    const deny = (reason: string, real?: string): Decision => real === undefined ? { allowed: false, path: p, access, reason } : { allowed: false, path: p, access, reason, real }
    if (typeof p !== 'string' || p === '') return deny('empty path')
    if (p.includes('\0')) return deny('path contains a NUL byte')
    let base = cwd
    if (base === undefined && !path.isAbsolute(p)) {
      try { base = this.workdir() } catch (err) { return deny((err as Error).message) }
    }
    let real: string
    try {
      real = await realLocation(path.resolve(base ?? '/', p))
    } catch (err) {
      return deny(`cannot resolve (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`)
    }
    const rw = await resolveRoots(this.grants.readWrite)
    const ro = await resolveRoots(this.grants.readOnly)
    if (access === 'write') {
      const inRo = this.grants.readOnly.find((_, i) => ro[i] !== undefined && isWithinFolded(ro[i]!, real))
      if (inRo !== undefined) return deny(`inside the read-only folder ${inRo}`, real)
      if (rw.some((r) => r !== undefined && isWithin(r, real))) return { allowed: true, path: p, access, real, reason: 'inside a read-write folder' }
      return deny('outside the read-write folders', real)
    }
    if ([...rw, ...ro].some((r) => r !== undefined && isWithin(r, real))) return { allowed: true, path: p, access, real, reason: 'inside a granted folder' }
    return deny('outside the granted folders', real)
  }
}

/** Real locations of the roots; a root that cannot be resolved grants nothing (undefined). */
async function resolveRoots (roots: string[]): Promise<Array<string | undefined>> {
  return Promise.all(roots.map((r) => fs.realpath(r).catch(() => undefined)))
}
