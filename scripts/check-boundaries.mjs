#!/usr/bin/env node
// Package boundaries, enforced rather than hoped for:
//  1. packages/proto does no I/O: its sources import only node:buffer, node:zlib, bencode and itself.
//  2. Each package's tsconfig "references" equal its workspace dependencies (and nothing else).
//  3. No package reaches into another's internals (imports of @otd/<pkg>/src/... or ../<pkg>/src).
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'

const root = new URL('..', import.meta.url).pathname
const pkgsDir = join(root, 'packages')
const problems = []

function walk (dir, out = []) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) walk(p, out)
    else if (p.endsWith('.ts')) out.push(p)
  }
  return out
}

function importsOf (file) {
  const src = readFileSync(file, 'utf8')
  const re = /(?:^|\n)\s*(?:import|export)[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g
  const found = []
  for (let m; (m = re.exec(src)) !== null;) found.push(m[1] ?? m[2])
  return found
}

const packages = readdirSync(pkgsDir).filter((d) => statSync(join(pkgsDir, d)).isDirectory())
const names = new Map()
for (const dir of packages) {
  const pkg = JSON.parse(readFileSync(join(pkgsDir, dir, 'package.json'), 'utf8'))
  names.set(pkg.name, dir)
}

const PROTO_ALLOWED = new Set(['node:buffer', 'node:zlib', 'bencode'])
for (const dir of packages) {
  const base = join(pkgsDir, dir)
  const pkg = JSON.parse(readFileSync(join(base, 'package.json'), 'utf8'))
  const tsconfig = JSON.parse(readFileSync(join(base, 'tsconfig.json'), 'utf8'))
  const deps = Object.keys({ ...pkg.dependencies, ...pkg.devDependencies }).filter((d) => names.has(d)).map((d) => names.get(d)).sort()
  const refs = (tsconfig.references ?? []).map((r) => r.path.replace(/^\.\.\//, '')).sort()
  if (JSON.stringify(deps) !== JSON.stringify(refs)) {
    problems.push(`${dir}: tsconfig references [${refs}] differ from workspace dependencies [${deps}]`)
  }
  for (const file of walk(join(base, 'src'))) {
    for (const spec of importsOf(file)) {
      const where = relative(root, file)
      if (dir === 'proto' && !spec.startsWith('.') && !PROTO_ALLOWED.has(spec)) {
        problems.push(`${where}: proto must not import ${spec} (no I/O, no runtime dependencies beyond bencode)`)
      }
      if (/^@otd\/[^/]+\/(src|dist)\//.test(spec) || /\.\.\/\.\.\/\.\.\/[^/]+\/src\//.test(spec)) {
        problems.push(`${where}: imports another package's internals: ${spec}`)
      }
      if (spec.startsWith('@otd/') && !deps.includes(names.get(spec.split('/').slice(0, 2).join('/')))) {
        problems.push(`${where}: imports ${spec}, which is not a dependency of ${pkg.name}`)
      }
    }
  }
}

if (problems.length > 0) {
  console.error(`check-boundaries: ${problems.length} problem(s)\n  ${problems.join('\n  ')}`)
  process.exit(1)
}
console.log(`check-boundaries: ${packages.length} packages OK`)
