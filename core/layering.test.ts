// Layering rules, checked on the sources: core/ imports nothing from peers/ (or examples/,
// bench/), and no module of core/ imports itself through a cycle. The application's rules:
// peers/cli and the web page reach the application only through its API module (peers/app/api.ts),
// the application knows none of its front ends, nothing the page loads needs a Node module, and
// no error is swallowed without a comment saying why.

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'

const root = resolve(import.meta.dirname, '..')
const core = join(root, 'core')
const peers = join(root, 'peers')

function sources (dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name)
    if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) continue
    if (statSync(path).isDirectory()) sources(path, out)
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(path)
  }
  return out
}

/** Relative imports of a module (static, dynamic and re-exports; type-only ones count too). */
function relativeImports (file: string): string[] {
  const text = readFileSync(file, 'utf8')
  const specs = Array.from(text.matchAll(/(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g), m => m[1])
  return specs.map(spec => resolve(dirname(file), spec))
}

/** Relative imports that load code at run time (type-only imports and re-exports are erased). */
function valueImports (file: string): string[] {
  const text = readFileSync(file, 'utf8')
  const statics = Array.from(text.matchAll(/^\s*(?:import|export)\s+(type\s+)?[^'";]*?from\s*['"](\.{1,2}\/[^'"]+)['"]/gm)).filter(m => m[1] === undefined).map(m => m[2])
  const dynamics = Array.from(text.matchAll(/import\s*\(\s*['"](\.{1,2}\/[^'"]+)['"]/g), m => m[1])
  return [...statics, ...dynamics].map(spec => resolve(dirname(file), spec))
}

const files = sources(core)
const graph = new Map(files.map(file => [file, relativeImports(file)]))

test('core/ imports nothing outside core/', () => {
  const outside: string[] = []
  for (const [file, deps] of graph) {
    for (const dep of deps) if (!dep.startsWith(core + '/')) outside.push(`${relative(root, file)} -> ${relative(root, dep)}`)
  }
  assert.equal(outside, [])
})

test('core/ has no circular imports', () => {
  const cycles: string[] = []
  const state = new Map<string, 'open' | 'done'>()
  const visit = (file: string, path: string[]): void => {
    if (state.get(file) === 'done') return
    if (state.get(file) === 'open') {
      cycles.push([...path.slice(path.indexOf(file)), file].map(f => relative(root, f)).join(' -> '))
      return
    }
    state.set(file, 'open')
    for (const dep of graph.get(file) ?? []) visit(dep, [...path, file])
    state.set(file, 'done')
  }
  for (const file of files) visit(file, [])
  assert.equal(cycles, [])
})

test('the walk sees the graph (sanity: index re-exports the node, the node imports the space)', () => {
  assert.ok(files.length > 20, `${files.length} files`)
  assert.ok(graph.get(join(core, 'index.ts'))?.includes(join(core, 'node.ts')))
  assert.ok(graph.get(join(core, 'node.ts'))?.includes(join(core, 'space.ts')))
})

const peerFiles = sources(peers)
const peerGraph = new Map(peerFiles.map(file => [file, relativeImports(file)]))
const inside = (dir: string) => (file: string): boolean => file.startsWith(join(peers, dir) + '/')
const rel = (file: string): string => relative(root, file)

test('peers/cli and the web page reach the application only through peers/app/api.ts (never the task board itself)', () => {
  // The browser runtime builds the application and provides its ports, as peers/device does for a home.
  const runtime = ['phone.ts', 'browser-stores.ts'].map(f => join(peers, 'web', f))
  const frontEnds = peerFiles.filter(f => (inside('cli')(f) || inside('web')(f)) && !f.endsWith('.test.ts') && !runtime.includes(f))
  const wrong: string[] = []
  for (const file of frontEnds) {
    for (const dep of peerGraph.get(file) ?? []) {
      if ((inside('app')(dep) && dep !== join(peers, 'app', 'api.ts')) || inside('tasks')(dep) || inside('schedules')(dep)) wrong.push(`${rel(file)} -> ${rel(dep)}`)
    }
  }
  assert.equal(wrong, [])
  assert.ok(frontEnds.some(f => (peerGraph.get(f) ?? []).includes(join(peers, 'app', 'api.ts'))), 'sanity: the verbs import the API')
})

test('the application (peers/app) knows none of its front ends or runtimes', () => {
  const wrong: string[] = []
  // The models under it (tasks, schedules) know nothing of the application either.
  const model = (f: string): boolean => inside('tasks')(f) || inside('schedules')(f)
  for (const file of peerFiles.filter(f => inside('app')(f) || model(f))) {
    for (const dep of peerGraph.get(file) ?? []) {
      if (model(file) ? !model(dep) && !dep.startsWith(core + '/') : !inside('app')(dep) && !model(dep) && !dep.startsWith(core + '/')) wrong.push(`${rel(file)} -> ${rel(dep)}`)
    }
  }
  assert.equal(wrong, [])
})

test('a verb imports no other verb (shared wording lives in peers/cli/format.ts)', () => {
  const verbs = join(peers, 'cli', 'verbs')
  const wrong: string[] = []
  for (const file of peerFiles.filter(f => f.startsWith(verbs + '/') && !f.endsWith('index.ts'))) {
    for (const dep of peerGraph.get(file) ?? []) if (dep.startsWith(verbs + '/')) wrong.push(`${rel(file)} -> ${rel(dep)}`)
  }
  assert.equal(wrong, [])
})

test('nothing the web page loads imports a Node module (the same use cases run in the browser)', () => {
  const seen = new Set<string>()
  const walk = (file: string): void => {
    if (seen.has(file)) return
    seen.add(file)
    for (const dep of valueImports(file)) walk(dep)
  }
  walk(join(peers, 'web', 'app.ts'))
  const nodeOnly = [...seen].filter(file => /(?:from|import)\s*\(?\s*['"]node:/.test(readFileSync(file, 'utf8'))).map(rel)
  assert.equal(nodeOnly, [])
  assert.ok(seen.has(join(peers, 'app', 'application.ts')) && seen.has(join(core, 'node.ts')), 'sanity: the page loads the application and the engine')
})

test('no error is swallowed without a comment saying why (outside tests)', () => {
  const swallowed = /\.catch\(\(\) => \{ *\}\)|catch \{ *\}/
  const bare: string[] = []
  for (const file of [...files, ...peerFiles, ...sources(join(root, 'bench')), ...sources(join(root, 'examples'))]) {
    if (file.endsWith('.test.ts')) continue
    const lines = readFileSync(file, 'utf8').split('\n')
    lines.forEach((line, i) => {
      if (!swallowed.test(line) || line.includes('//') || line.includes('/*')) return
      if (lines[i - 1]?.trim().startsWith('//') === true) return
      bare.push(`${rel(file)}:${i + 1}: ${line.trim()}`)
    })
  }
  assert.equal(bare, [])
})

test.run()
