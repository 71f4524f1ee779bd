// Reading `-f` input the way calicoctl does: a file, a directory (recursive only with -R) or stdin; YAML or JSON;
// documents split as Kubernetes splits them; every file parsed before anything is acted on.
import {readdir, readFile, stat} from 'node:fs/promises'
import {extname, join} from 'node:path'

import yaml from 'js-yaml'

import {decodeDocument} from '../api/decode.js'
import type {Resource} from '../api/resource.js'
import {readStdin} from '../lib/stdin.js'

/** A decoded resource and where it came from, so that errors can point at it. */
export interface SourcedResource {
  resource: Resource
  /** The path as given (`-` for stdin). */
  file: string
  /** 1-based document number within the file. */
  document: number
}

export interface ReadOptions {
  recursive?: boolean
  /** A file without documents contributes nothing instead of failing. */
  skipEmpty?: boolean
  /** Source for `-f -` (tests pass a string). */
  stdin?: () => Promise<string>
}

/** A problem with the input; the message is calicoctl's text (without the `failed to execute command: ` prefix). */
export class InputError extends Error {
  constructor(
    message: string,
    readonly file?: string,
    readonly document?: number,
    /** The JSON path of the offending field, when the decoder knows it. */
    readonly field?: string,
  ) {
    super(message)
  }

  /** Where the problem is, for a human: `file x.yaml, document 2, field spec.cidr`. */
  get location(): string {
    const parts: string[] = []
    if (this.file !== undefined) parts.push(`file ${this.file}`)
    if (this.document !== undefined) parts.push(`document ${this.document}`)
    if (this.field) parts.push(`field ${this.field}`)
    return parts.join(', ')
  }
}

/** The input held no resources: not a parse failure (calicoctl reports it without its file-error prefix). */
export class EmptyInputError extends InputError {}

const EXTENSIONS = new Set(['.yaml', '.yml', '.json'])
const SEPARATOR = '\n---'

/**
 * Splits a stream into documents like calicoctl's util/yaml splitter: a document ends at "\n---" and the rest of
 * that separator line is discarded. A `---` on the very first line therefore stays part of the first document.
 */
export function splitDocuments(text: string): string[] {
  const docs: string[] = []
  let rest = text
  for (;;) {
    const i = rest.indexOf(SEPARATOR)
    if (i < 0) break
    docs.push(rest.slice(0, i))
    const eol = rest.indexOf('\n', i + SEPARATOR.length)
    rest = eol < 0 ? '' : rest.slice(eol + 1)
  }
  docs.push(rest)
  return docs
}

/** Go's yaml library reports 1-based lines; js-yaml's marks are 0-based. */
function yamlMessage(err: unknown): string {
  if (err instanceof yaml.YAMLException) {
    const line = err.mark ? `line ${err.mark.line + 1}: ` : ''
    return `error converting YAML to JSON: yaml: ${line}${err.reason}`
  }
  return `error converting YAML to JSON: yaml: ${(err as Error).message}`
}

function decodeError(err: unknown, file: string, document: number): InputError {
  const message = err instanceof Error ? err.message : String(err)
  const path = err instanceof Error && 'path' in err && typeof err.path === 'string' ? err.path : undefined
  return new InputError(message, file, document, path)
}

/** Every string literal of a JSON text, and whether it is an object key (followed by `:`). */
const JSON_STRING = /"[^"\\]*(?:\\.[^"\\]*)*"(\s*:)?/g

function countKeys(v: unknown): number {
  if (Array.isArray(v)) return v.reduce((n: number, x) => n + countKeys(x), 0)
  if (typeof v !== 'object' || v === null) return 0
  let n = 0
  for (const k in v) if (Object.hasOwn(v, k)) n += 1 + countKeys((v as Record<string, unknown>)[k])
  return n
}

/**
 * A document that is plain JSON, parsed with JSON.parse: the YAML parser gives the same value for it (JSON is
 * YAML's flow style) at many times the cost, which dominates reading a large generated file. Only used when the
 * result is certain to be the same: the text is an object or array without tabs (which YAML treats differently
 * from JSON in places), and no object repeats a key (YAML rejects that; JSON.parse would keep the last one),
 * checked by counting the keys in the text against those parsed. Anything else goes to the YAML parser.
 */
export function parseJSONDocument(doc: string): {value: unknown} | undefined {
  const start = doc.trimStart()[0]
  if ((start !== '{' && start !== '[') || doc.includes('\t')) return undefined
  let value: unknown
  try {
    value = JSON.parse(doc)
  } catch {
    return undefined
  }
  let keys = 0
  for (const m of doc.matchAll(JSON_STRING)) if (m[1] !== undefined) keys++
  return keys === countKeys(value) ? {value} : undefined
}

/** Parses and decodes the documents of one file's text. Empty documents (only comments/whitespace) are skipped. */
export function parseResources(text: string, file: string): SourcedResource[] {
  const out: SourcedResource[] = []
  splitDocuments(text).forEach((doc, i) => {
    const document = i + 1
    let parsed: unknown
    const json = parseJSONDocument(doc)
    if (json) {
      parsed = json.value
    } else {
      try {
        // CORE schema: timestamps stay strings, as Go's YAML-to-JSON conversion leaves them.
        parsed = yaml.load(doc, {schema: yaml.CORE_SCHEMA, filename: file})
      } catch (err) {
        throw new InputError(yamlMessage(err), file, document)
      }
    }
    if (parsed === undefined || parsed === null) return
    let resources: Resource[]
    try {
      resources = decodeDocument(parsed)
    } catch (err) {
      throw decodeError(err, file, document)
    }
    for (const resource of resources) out.push({resource, file, document})
  })
  return out
}

/** The text of one input file, or of stdin for `-`. */
export async function readResourceText(path: string, stdin?: () => Promise<string>): Promise<string> {
  if (path === '-') {
    return stdin ? stdin() : readStdin()
  }
  try {
    return await readFile(path, 'utf8')
  } catch (err) {
    throw new InputError(`open ${path}: ${describeFsError(err)}`, path)
  }
}

function describeFsError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code
  if (code === 'ENOENT') return 'no such file or directory'
  if (code === 'EACCES') return 'permission denied'
  if (code === 'EISDIR') return 'is a directory'
  return (err as Error).message
}

/** Files of a directory in lexical order (Go's filepath.Walk order), descending only when recursive. */
async function walk(dir: string, recursive: boolean): Promise<string[]> {
  const entries = (await readdir(dir, {withFileTypes: true})).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  const files: string[] = []
  for (const entry of entries) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) {
      if (recursive) files.push(...(await walk(path, recursive)))
    } else if (EXTENSIONS.has(extname(entry.name).toLowerCase())) {
      files.push(path)
    }
  }
  return files
}

/**
 * Reads every resource named by `-f`. All files are read and decoded before returning, so a bad document
 * anywhere means nothing is acted on.
 */
export async function readResources(filename: string, options: ReadOptions = {}): Promise<SourcedResource[]> {
  let files = [filename]
  // Anything that is not a readable directory is opened as a file, which then reports why it cannot be read.
  const isDir = filename !== '-' && (await stat(filename).then((i) => i.isDirectory(), () => false))
  if (isDir) {
    files = await walk(filename, options.recursive ?? false)
    if (files.length === 0) {
      if (options.skipEmpty) return []
      throw new EmptyInputError(`no resources specified in directory ${filename}`, filename)
    }
  }
  const out: SourcedResource[] = []
  for (const file of files) {
    const resources = parseResources(await readResourceText(file, options.stdin), file)
    if (resources.length === 0 && !options.skipEmpty) throw new EmptyInputError(`no resources specified in file ${file}`, file)
    out.push(...resources)
  }
  return out
}
