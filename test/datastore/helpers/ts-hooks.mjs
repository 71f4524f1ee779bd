// Module hooks: resolve `./x.js` to `./x.ts` when only the TypeScript source exists, and transpile .ts
// on load (types stripped, no type check: tsc and vitest do that).
import {existsSync} from 'node:fs'
import {readFile} from 'node:fs/promises'
import {fileURLToPath} from 'node:url'
import ts from 'typescript'

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
  const out = ts.transpileModule(await readFile(file, 'utf8'), {
    fileName: file,
    compilerOptions: {module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022},
  })
  return {format: 'module', source: out.outputText, shortCircuit: true}
}
