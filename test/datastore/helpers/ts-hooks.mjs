// Module hooks: resolve `./x.js` to `./x.ts` when only the TypeScript source exists, and transpile .ts
// on load (types stripped, no type check: tsc and vitest do that). Transpiled output is cached in the
// temp directory by file path, size and mtime, so only the first child process pays for loading
// the TypeScript compiler.
import {createHash} from 'node:crypto'
import {existsSync, mkdirSync} from 'node:fs'
import {readFile, rename, stat, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

const cacheDir = join(tmpdir(), `calico-ts-hooks-${process.getuid?.() ?? 'u'}`)
let ts

export async function resolve(specifier, context, next) {
  if (context.parentURL?.endsWith('.ts') && specifier.endsWith('.js') && /^(\.{1,2}\/|\/|file:)/.test(specifier)) {
    const url = new URL(specifier, context.parentURL)
    const tsUrl = new URL(url.href.replace(/\.js$/, '.ts'))
    if (!existsSync(url) && existsSync(tsUrl)) return {url: tsUrl.href, shortCircuit: true}
  }
  return next(specifier, context)
}

export async function load(url, context, next) {
  if (!url.endsWith('.ts')) return next(url, context)
  const file = fileURLToPath(url)
  const st = await stat(file)
  const cached = join(cacheDir, `${createHash('sha256').update(`${file}:${st.size}:${st.mtimeMs}`).digest('hex')}.mjs`)
  const hit = await readFile(cached, 'utf8').catch(() => undefined)
  if (hit !== undefined) return {format: 'module', source: hit, shortCircuit: true}
  ts ??= (await import('typescript')).default
  const out = ts.transpileModule(await readFile(file, 'utf8'), {
    fileName: file,
    compilerOptions: {module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022},
  }).outputText
  // Write-then-rename: concurrent children never read a half-written file.
  mkdirSync(cacheDir, {recursive: true})
  const tmp = `${cached}.${process.pid}.tmp`
  await writeFile(tmp, out)
  await rename(tmp, cached)
  return {format: 'module', source: out, shortCircuit: true}
}
