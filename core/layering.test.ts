// Layering rules, checked on the sources: core/ imports nothing from peers/ (or examples/,
// bench/), and no module of core/ imports itself through a cycle.

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'

const root = resolve(import.meta.dirname, '..')
const core = join(root, 'core')

function sources (dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name)
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

test.run()
