// Test fixture: a real directory tree with grants and a table of path cases (escapes and
// legitimate paths), shared by the permission tests and the executor's tool tests.

import * as fs from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import type { Access, Grants } from './permissions.ts'

export interface PathCase {
  name: string
  path: string
  access: Access
  allowed: boolean
  /** The file exists and is readable, so an allowed read must succeed. */
  exists?: boolean
}

export interface PathTable {
  root: string
  work: string
  grants: Grants
  cases: PathCase[]
  /** Folders no write may change, with their contents before the run. */
  guarded: string[]
  cleanup: () => Promise<void>
}

export const SECRET = 'top secret outside the grants'

export async function buildPathTable (): Promise<PathTable> {
  const T = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), 'dispatch-paths-')))
  const W = path.join(T, 'work')
  const mk = async (p: string, content?: string) => {
    if (content === undefined) await fs.mkdir(p, { recursive: true })
    else { await fs.mkdir(path.dirname(p), { recursive: true }); await fs.writeFile(p, content) }
  }
  await mk(path.join(W, 'a.txt'), 'hello a')
  await mk(path.join(W, 'sub', 'b.txt'), 'hello b')
  await mk(path.join(W, 'caf\u00e9', 'note.txt'), 'NFC folder') // NFC
  await mk(path.join(W, 'r\u00e9serv\u00e9', 'r.txt'), 'read-only inside read-write') // NFC, granted read-only
  await mk(path.join(T, 'workshop', 'x.txt'), 'sibling sharing a prefix')
  await mk(path.join(T, 'outside', 'secret.txt'), SECRET)
  await mk(path.join(T, 'docs', 'd.txt'), 'read-only grant')
  await fs.symlink(path.join(T, 'outside'), path.join(W, 'link-out'))
  await fs.symlink(path.join(T, 'outside', 'secret.txt'), path.join(W, 'link-secret'))
  await fs.symlink(path.join(W, 'sub'), path.join(W, 'link-in'))
  await fs.symlink(path.join(T, 'outside', 'planted.txt'), path.join(W, 'dangling-out'))
  await fs.symlink(path.join(W, 'loop2'), path.join(W, 'loop1'))
  await fs.symlink(path.join(W, 'loop1'), path.join(W, 'loop2'))
  await fs.symlink(path.join(T, 'outside'), path.join(T, 'docs', 'link-out'))
  await fs.symlink(T, path.join(T, 'alias')) // like macOS /tmp -> /private/tmp
  const A = path.join(T, 'alias')
  const grants: Grants = {
    // granted through the alias: checks must resolve it
    readWrite: [path.join(A, 'work')],
    readOnly: [path.join(A, 'docs'), path.join(W, 'r\u00e9serv\u00e9')],
    terminal: false,
    network: false
  }
  const NFD = (s: string) => s.normalize('NFD')
  const c = (name: string, p: string, access: Access, allowed: boolean, exists = false): PathCase => ({ name, path: p, access, allowed, exists })
  const cases: PathCase[] = [
    c('relative file', 'a.txt', 'read', true, true),
    c('nested file', 'sub/b.txt', 'read', true, true),
    c('dot segments inside', './sub/../a.txt', 'read', true, true),
    c('absolute inside', path.join(W, 'a.txt'), 'read', true, true),
    c('absolute through the alias', path.join(A, 'work', 'a.txt'), 'read', true, true),
    c('doubled slashes', `${W}//sub///b.txt`, 'read', true, true),
    c('the grant itself with trailing slash', `${W}/`, 'read', true),
    c('.. to a sibling folder', '../outside/secret.txt', 'read', false),
    c('.. far up', '../../../../../../etc/passwd', 'read', false),
    c('absolute outside', '/etc/passwd', 'read', false),
    c('absolute outside in the same tmp', path.join(T, 'outside', 'secret.txt'), 'read', false),
    c('.. after a subfolder', 'sub/../../outside/secret.txt', 'read', false),
    c('absolute with .. out', path.join(W, 'sub', '..', '..', 'outside', 'secret.txt'), 'read', false),
    c('alias to outside', path.join(A, 'outside', 'secret.txt'), 'read', false),
    c('the parent of the grant', T, 'read', false),
    c('root', '/', 'read', false),
    c('/proc/self/root', '/proc/self/root/etc/passwd', 'read', false),
    c('sibling sharing a prefix (absolute)', path.join(T, 'workshop', 'x.txt'), 'read', false),
    c('sibling sharing a prefix (relative)', '../workshop/x.txt', 'read', false),
    c('sibling sharing a prefix via the grant', path.join(W, '..', 'workshop', 'x.txt'), 'read', false),
    c('symlinked dir pointing outside', 'link-out/secret.txt', 'read', false),
    c('the outside symlink itself', 'link-out', 'read', false),
    c('symlinked file pointing outside', 'link-secret', 'read', false),
    c('symlink inside pointing inside', 'link-in/b.txt', 'read', true, true),
    c('.. after a symlink is lexical', 'link-out/../a.txt', 'read', true, true),
    c('dangling symlink pointing outside', 'dangling-out', 'read', false),
    c('symlink loop', 'loop1', 'read', false),
    c('NUL byte in the middle', 'a.txt\0.png', 'read', false),
    c('NUL byte alone', '\0', 'read', false),
    c('NUL byte before ..', 'sub\0/../../outside/secret.txt', 'read', false),
    c('Unicode NFC folder', 'caf\u00e9/note.txt', 'read', true, true),
    c('read-only grant', path.join(T, 'docs', 'd.txt'), 'read', true, true),
    c('read-only grant through the alias', path.join(A, 'docs', 'd.txt'), 'read', true, true),
    c('symlink in a read-only grant pointing outside', path.join(T, 'docs', 'link-out', 'secret.txt'), 'read', false),
    c('read-only folder inside read-write', 'r\u00e9serv\u00e9/r.txt', 'read', true, true),
    c('empty path', '', 'read', false),
    // writes
    c('write a new file', 'new.txt', 'write', true),
    c('write a new nested file', 'new-dir/deeper/file.txt', 'write', true),
    c('overwrite inside', 'sub/b2.txt', 'write', true),
    c('write through the alias', path.join(A, 'work', 'alias-new.txt'), 'write', true),
    c('write under a symlinked parent pointing inside', 'link-in/new.txt', 'write', true),
    c('write .. out', '../outside/new.txt', 'write', false),
    c('write absolute outside', path.join(T, 'outside', 'new.txt'), 'write', false),
    c('write /etc', '/etc/dispatch-escape', 'write', false),
    c('write to a sibling sharing a prefix', path.join(T, 'workshop', 'new.txt'), 'write', false),
    c('write to a sibling sharing a prefix (relative)', '../workshop/x.txt', 'write', false),
    c('write under a symlinked parent pointing outside', 'link-out/new.txt', 'write', false),
    c('write through a symlinked file pointing outside', 'link-secret', 'write', false),
    c('write through a dangling symlink pointing outside', 'dangling-out', 'write', false),
    c('write to the outside symlink itself', 'link-out', 'write', false),
    c('write into a read-only grant', path.join(T, 'docs', 'd.txt'), 'write', false),
    c('write a new file into a read-only grant', path.join(T, 'docs', 'new.txt'), 'write', false),
    c('write into a read-only grant through the alias', path.join(A, 'docs', 'new.txt'), 'write', false),
    c('write into read-only inside read-write', 'r\u00e9serv\u00e9/r.txt', 'write', false),
    c('write a new file into read-only inside read-write', 'r\u00e9serv\u00e9/new.txt', 'write', false),
    c('write into read-only via an NFD spelling', NFD('r\u00e9serv\u00e9') + '/new.txt', 'write', false),
    c('write into read-only via another letter case', 'R\u00c9SERV\u00c9/new.txt', 'write', false),
    c('write with a NUL byte', 'new\0.txt', 'write', false),
    c('write into a symlink loop', 'loop1', 'write', false),
    c('write the alias of outside', path.join(A, 'outside', 'new.txt'), 'write', false),
    c('write under alias/work/link-out', path.join(A, 'work', 'link-out', 'new.txt'), 'write', false),
    c('write .. after a subfolder', 'sub/../../outside/new2.txt', 'write', false)
  ]
  return {
    root: T,
    work: W,
    grants,
    cases,
    guarded: [path.join(T, 'outside'), path.join(T, 'docs'), path.join(T, 'workshop'), path.join(W, 'r\u00e9serv\u00e9')],
    cleanup: () => fs.rm(T, { recursive: true, force: true })
  }
}

/** A listing of every file under `dir` with its content, to prove a run changed nothing there. */
export async function snapshotTree (dir: string): Promise<string> {
  const out: string[] = []
  const walk = async (d: string): Promise<void> => {
    for (const e of (await fs.readdir(d, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(d, e.name)
      if (e.isDirectory()) await walk(p)
      else if (e.isFile()) out.push(`${p}=${await fs.readFile(p, 'utf8')}`)
      else out.push(`${p}@link`)
    }
  }
  await walk(dir)
  return out.join('\n')
}
