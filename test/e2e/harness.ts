// Helpers for running the built calicoctl as a child process and checking its output the way Calico's ST
// suite does (tests/st/utils/utils.py: merged streams, rstrip on success, clean_calico_data).
import {spawnSync} from 'node:child_process'
import {existsSync, readFileSync, writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

import yaml from 'js-yaml'

import {execArgv} from '../helpers/exec.js'

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
export const BIN = join(ROOT, 'bin', 'calicoctl')

/** The preload hook of moduleTrace: at exit, every file Node's CommonJS loader resolved or holds in its cache. */
const TRACE_HOOK = `const Module = require('node:module')
const load = Module._load
const seen = new Set()
Module._load = function (request, parent, isMain) {
  try { seen.add(Module._resolveFilename(request, parent, isMain)) } catch {}
  return load.apply(this, arguments)
}
process.on('exit', () => require('node:fs').writeFileSync(process.env.TRACE_OUT, JSON.stringify([...seen, ...Object.keys(require.cache)])))
`

/**
 * What a node process loads: run it with `args` before its script and `env` added to its environment, then `read()`
 * the files its CommonJS loader resolved or held in its cache at exit (files in `dir`, a temp dir of the caller's).
 */
export function moduleTrace(dir: string): {args: string[]; env: {TRACE_OUT: string}; read(): string[]} {
  const hook = join(dir, 'trace.cjs')
  writeFileSync(hook, TRACE_HOOK)
  const out = join(dir, `loaded-${Math.random().toString(36).slice(2)}.json`)
  return {args: ['--require', hook], env: {TRACE_OUT: out}, read: () => JSON.parse(readFileSync(out, 'utf8')) as string[]}
}

export function builtOrExplain(): string | undefined {
  // bin/calicoctl runs the bundle (dist/calicoctl.cjs); the manifest and the bundle are written after tsc.
  return ['dist/commands/get.js', 'dist/calicoctl.cjs', 'oclif.manifest.json'].every((f) => existsSync(join(ROOT, f)))
    ? undefined
    : 'dist/ is missing: run `npm run build` first (npm test does)'
}

export interface RunResult {
  stdout: string
  stderr: string
  /** stdout then stderr: our commands write every stdout line before their error. */
  output: string
  exit: number
}

export function runCalicoctl(args: string[], env: NodeJS.ProcessEnv, stdin?: string): RunResult {
  const r = spawnSync(process.execPath, [BIN, ...args], {env, input: stdin ?? '', encoding: 'utf8', timeout: 60_000})
  if (r.error) throw r.error
  const stdout = r.stdout ?? ''
  const stderr = r.stderr ?? ''
  return {stdout, stderr, output: stdout + stderr, exit: r.status ?? -1}
}

/**
 * runCalicoctl without blocking the event loop: needed when the datastore (the test API server) is served
 * from this process.
 */
export async function runCalicoctlAsync(args: string[], env: NodeJS.ProcessEnv, stdin?: string, cwd?: string): Promise<RunResult> {
  const r = await execArgv([process.execPath, BIN, ...args], {input: stdin, env, cwd})
  return {stdout: r.stdout, stderr: r.stderr, output: r.stdout + r.stderr, exit: r.code}
}

/** Splits a command line like a POSIX shell does for plain words and single/double quotes. */
export function shellWords(line: string): string[] {
  const words: string[] = []
  let cur = ''
  let inWord = false
  for (let i = 0; i < line.length; i++) {
    const c = line[i]
    if (c === "'") {
      const end = line.indexOf("'", i + 1)
      cur += line.slice(i + 1, end)
      i = end
      inWord = true
    } else if (c === '"') {
      let j = i + 1
      for (; line[j] !== '"'; j++) {
        if (line[j] === '\\' && j + 1 < line.length) j++
        cur += line[j]
      }
      i = j
      inWord = true
    } else if (c === ' ' || c === '\t') {
      if (inWord) words.push(cur)
      cur = ''
      inWord = false
    } else {
      cur += c
      inWord = true
    }
  }
  if (inWord) words.push(cur)
  return words
}

type Json = unknown

/** calicoctl ST's clean_calico_data: drop server-set fields and values that are null or {} after cleaning. */
export function clean(data: Json, extraKeys: string[] = []): Json {
  const copy = structuredClone(data)
  const walk = (v: Json): void => {
    if (Array.isArray(v)) v.forEach(walk)
    else if (v !== null && typeof v === 'object') {
      const obj = v as Record<string, Json>
      const drop = new Set(['creationTimestamp', 'resourceVersion', 'uid', ...extraKeys])
      for (const [k, child] of Object.entries(obj)) {
        walk(child)
        if (child === null || (typeof child === 'object' && !Array.isArray(child) && Object.keys(child as object).length === 0)) drop.add(k)
      }
      for (const k of drop) delete obj[k]
    }
  }
  walk(copy)
  return copy
}

const POLICY_KINDS = new Set(['NetworkPolicy', 'GlobalNetworkPolicy', 'StagedNetworkPolicy', 'StagedGlobalNetworkPolicy'])

/** ST's add_tier_label: what the datastore adds to every policy. */
export function addTierLabel(data: Json): Json {
  const copy = structuredClone(data) as Record<string, Json> | Record<string, Json>[]
  const each = (r: Record<string, Json>): void => {
    if (!POLICY_KINDS.has(String(r.kind))) return
    const metadata = (r.metadata ?? {}) as Record<string, Json>
    const spec = (r.spec ?? {}) as Record<string, Json>
    metadata.labels = {...((metadata.labels as object) ?? {}), 'projectcalico.org/tier': (spec.tier as string) || 'default'}
    r.metadata = metadata
  }
  if (Array.isArray(copy)) copy.forEach(each)
  else each(copy)
  return copy
}

/** Parses command output as YAML (JSON is YAML too). */
export function decode(text: string): Json {
  return yaml.load(text, {schema: yaml.CORE_SCHEMA})
}

/** Reads a dotted path with `[n]`, `[*]` and `.length` (e.g. `items[*].metadata.name`). */
export function getPath(data: Json, path: string): Json {
  const tokens = path.match(/[^.[\]]+|\[\*\]|\[\d+\]/g) ?? []
  let values: Json[] = [data]
  let spread = false
  for (const t of tokens) {
    if (t === '[*]') {
      values = values.flatMap((v) => (Array.isArray(v) ? v : []))
      spread = true
    } else if (/^\[\d+\]$/.test(t)) {
      values = values.map((v) => (Array.isArray(v) ? v[Number(t.slice(1, -1))] : undefined))
    } else if (t === 'length') {
      values = values.map((v) => (Array.isArray(v) ? v.length : (v as Record<string, Json> | undefined)?.length))
    } else {
      values = values.map((v) => (v !== null && typeof v === 'object' ? (v as Record<string, Json>)[t] : undefined))
    }
  }
  return spread ? values : values[0]
}

export function setPath(data: Json, path: string, value: Json): void {
  const keys = path.split('.')
  let cur = data as Record<string, Json>
  for (const k of keys.slice(0, -1)) {
    cur[k] ??= {}
    cur = cur[k] as Record<string, Json>
  }
  cur[keys[keys.length - 1]] = value
}

export function deletePath(data: Json, path: string): void {
  const keys = path.split('.')
  let cur = data as Record<string, Json> | undefined
  for (const k of keys.slice(0, -1)) cur = cur?.[k] as Record<string, Json> | undefined
  if (cur) delete cur[keys[keys.length - 1]]
}
