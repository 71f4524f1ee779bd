// `calicoctl get -o <format>`: turns the results of a get (single resources and/or <Kind>Lists,
// in the order calicoctl would print them) into the exact text calicoctl writes to stdout; writeResources
// writes a list in yaml or json page by page as it is read.

import {readFile} from 'node:fs/promises'
import {orderResourceFields, toGoView} from '../../api/decode.js'
import type {Resource, ResourceList} from '../../api/resource.js'
import type {TemplateFunc} from '../gotemplate.js'
import {GoFloat} from './gofmt.js'
import {joinAndTruncate, kindColumns, type CellContext} from './columns.js'
import {isList, toGoJSONShape, type FieldOrderer, type Result} from './goshape.js'
import {JSONArrayStream, marshalIndentJSON} from './json.js'
import {tabwrite} from './tabwriter.js'
import {marshalYAML, YAMLSequenceStream} from './yaml.js'
import {sortTiers} from '../tiers.js'

export type {Result} from './goshape.js'
export {joinAndTruncate} from './columns.js'

export type OutputFormat =
  | {type: 'ps'}
  | {type: 'wide'}
  | {type: 'custom-columns'; columns: string[]}
  | {type: 'yaml'}
  | {type: 'json'}
  | {type: 'go-template'; template: string}
  | {type: 'go-template-file'; path: string}

/** A bad `-o` value or a failure while rendering; the message is calicoctl's. */
export class OutputError extends Error {}

/**
 * Parses `-o`. Throws OutputError with calicoctl's texts; call it before contacting the
 * datastore, as calicoctl does.
 */
export function parseOutputFormat(output: string): OutputFormat {
  switch (output) {
    case 'ps':
    case 'wide':
      return {type: output}
    case 'yaml':
    case 'yml':
      return {type: 'yaml'}
    case 'json':
      return {type: 'json'}
  }
  const eq = output.indexOf('=')
  const key = eq < 0 ? output : output.slice(0, eq)
  const value = eq < 0 ? '' : output.slice(eq + 1)
  switch (key) {
    case 'go-template':
      if (!value) throw new OutputError('need to specify a template')
      return {type: 'go-template', template: value}
    case 'go-template-file':
      if (!value) throw new OutputError('need to specify a template file')
      return {type: 'go-template-file', path: value}
    case 'custom-columns':
      if (!value) throw new OutputError('need to specify at least one column')
      return {type: 'custom-columns', columns: value.split(',')}
  }
  throw new OutputError(`unrecognized output format '${output}'`)
}

/** The default BGPConfiguration lookup behind calicoctl's `config "asnumber"`. */
export type DefaultBGPConfigLookup = () => Promise<Resource | undefined>

export interface FormatContext {
  /** `-A` or `-n` was given: ps/wide tables of namespaced kinds get a leading NAMESPACE column. */
  printNamespace?: boolean
  /**
   * Reads BGPConfiguration `default`: undefined when it does not exist; a throw means the
   * datastore failed (the cell then shows `unknown`). Only called if a cell or template needs it.
   */
  getDefaultBGPConfiguration?: DefaultBGPConfigLookup
  /** Bold table headers. Decide with colorEnabled(); never set it for pipes. */
  color?: boolean
  /** Go struct field order for json/yaml; defaults to orderResourceFields from src/api/decode.ts. */
  orderFields?: FieldOrderer
  /** The Go-field-name view of a resource for go-templates; defaults to toGoView from src/api/decode.ts. */
  toGoView?: (res: Resource) => unknown
  /** Reads go-template-file paths; defaults to the filesystem. */
  readTemplateFile?: (path: string) => Promise<string>
}

/** Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org). */
export function colorEnabled(stream: {isTTY?: boolean}, env: Record<string, string | undefined>): boolean {
  return stream.isTTY === true && env.NO_COLOR === undefined
}

/**
 * Renders results as calicoctl prints them to stdout. yaml ends with a newline, json has none,
 * tables end each table with a blank line. Tier lists are ordered by spec.order, nil last, as
 * calicoctl's Tier list does for every format.
 */
export async function formatResources(results: Result[], format: string | OutputFormat, ctx: FormatContext = {}): Promise<string> {
  const fmt = typeof format === 'string' ? parseOutputFormat(format) : format
  const rs = results.map(sortTierList)
  switch (fmt.type) {
    case 'ps':
    case 'wide':
    case 'custom-columns':
      return formatTables(rs, fmt, ctx)
    case 'yaml':
    case 'json': {
      const keyOrder = fmt.type === 'yaml' ? 'any' : 'go'
      const shaped = rs.map((r) => toGoJSONShape(r, ctx.orderFields ?? orderResourceFields, keyOrder))
      const doc = shaped.length === 1 ? shaped[0] : shaped
      return fmt.type === 'yaml' ? marshalYAML(doc) : marshalIndentJSON(doc)
    }
    case 'go-template':
      return formatTemplate(rs, fmt.template, ctx)
    case 'go-template-file': {
      const read = ctx.readTemplateFile ?? readTemplateFile
      return formatTemplate(rs, await read(fmt.path), ctx)
    }
  }
}

/**
 * A `<Kind>List` handed out after its first page, so output can be written while the rest is read: `items` holds
 * the first page, `more` yields the items of each later page. A failure while reading a later page is thrown there.
 */
export interface PagedList extends ResourceList {
  more: AsyncIterable<Resource[]>
}

export function isPagedList(r: Result): r is PagedList {
  return 'more' in r
}

/**
 * formatResources, handed to `write` as it is produced. A PagedList that is the only result, in yaml or json, is
 * formatted and written a page at a time while the next page is read (the bytes are formatResources' for the
 * whole list); any other results are read completely, then formatted and written at once. When a later page
 * cannot be read, the error is thrown after the pages before it were written: the output then stops after a
 * whole item, without the document's end.
 */
export async function writeResources(
  results: Result[],
  format: string | OutputFormat,
  ctx: FormatContext,
  write: (text: string) => Promise<void>,
): Promise<void> {
  const fmt = typeof format === 'string' ? parseOutputFormat(format) : format
  const [first] = results
  if (results.length === 1 && isPagedList(first) && (fmt.type === 'yaml' || fmt.type === 'json')) {
    await writeListStream(first, fmt.type, ctx, write)
    return
  }
  const whole: Result[] = []
  for (const r of results) whole.push(isPagedList(r) ? await readAllPages(r) : r)
  const text = await formatResources(whole, fmt, ctx)
  if (text) await write(text)
}

async function readAllPages(list: PagedList): Promise<ResourceList> {
  const items = [...list.items]
  for await (const page of list.more) for (const item of page) items.push(item)
  return {apiVersion: list.apiVersion, kind: list.kind, metadata: list.metadata, items}
}

async function writeListStream(list: PagedList, type: 'yaml' | 'json', ctx: FormatContext, write: (text: string) => Promise<void>): Promise<void> {
  const order = ctx.orderFields ?? orderResourceFields
  const keyOrder = type === 'yaml' ? 'any' : 'go'
  const doc = toGoJSONShape({apiVersion: list.apiVersion, kind: list.kind, metadata: list.metadata, items: []}, order, keyOrder)
  const stream = type === 'yaml' ? new YAMLSequenceStream(doc, 'items') : new JSONArrayStream(doc)
  const shape = (item: Resource) => toGoJSONShape(item, order, keyOrder)
  await write(stream.items(list.items.map(shape)))
  for await (const page of list.more) await write(stream.items(page.map(shape)))
  await write(stream.end())
}

/** Reads a template file, failing with Go's os.ReadFile wording. */
async function readTemplateFile(p: string): Promise<string> {
  try {
    return await readFile(p, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    const reason = code === 'ENOENT' ? 'no such file or directory' : code === 'EACCES' ? 'permission denied' : undefined
    if (code === 'EISDIR') throw new OutputError(`read ${p}: is a directory`)
    throw new OutputError(reason ? `open ${p}: ${reason}` : (err as Error).message)
  }
}

function sortTierList(r: Result): Result {
  return isList(r) && r.kind === 'TierList' ? {...r, items: sortTiers(r.items)} : r
}

/** calicoctl's `config "asnumber"`: looked up once, only when needed. */
function asNumberResolver(ctx: FormatContext): {get: () => string; resolve: () => Promise<void>} {
  let value: string | undefined
  return {
    get: () => {
      if (value === undefined) throw new OutputError('internal: global AS number not resolved')
      return value
    },
    resolve: async () => {
      if (value !== undefined) return
      try {
        const cfg = await ctx.getDefaultBGPConfiguration?.()
        const as = (cfg?.spec as {asNumber?: unknown} | undefined)?.asNumber
        value = as === undefined || as === null ? '64512' : String(as)
      } catch {
        value = 'unknown'
      }
    },
  }
}

/** A Node whose ASN cell shows the global AS: it has BGP settings but no AS number of its own. */
function usesGlobalAS(node: Resource): boolean {
  const bgp = (node.spec as {bgp?: {asNumber?: unknown} | null} | undefined)?.bgp
  return bgp !== undefined && bgp !== null && (bgp.asNumber === undefined || bgp.asNumber === null || bgp.asNumber === '')
}

function itemsOf(r: Result): Resource[] {
  return isList(r) ? r.items : [r]
}

function singularKind(r: Result): string {
  return isList(r) && r.kind.endsWith('List') ? r.kind.slice(0, -'List'.length) : r.kind
}

async function formatTables(results: Result[], fmt: OutputFormat, ctx: FormatContext): Promise<string> {
  const asn = asNumberResolver(ctx)
  const cellCtx: CellContext = {globalASNumber: asn.get}
  // chalk (and its colour detection) loads only for a terminal: a few ms of every piped or scripted get otherwise.
  const bold = ctx.color ? new (await import('chalk')).Chalk({level: 1}).bold : undefined
  let out = ''
  for (const r of results) {
    const kind = singularKind(r)
    const cols = kindColumns(kind)
    if (!cols) throw new OutputError(`resource type '${kind}' has no table format`)
    let headings = fmt.type === 'custom-columns' ? fmt.columns : fmt.type === 'wide' ? cols.wide : cols.ps
    if (fmt.type !== 'custom-columns' && ctx.printNamespace && 'NAMESPACE' in cols.cells) headings = ['NAMESPACE', ...headings]
    const unknown = headings.find((h) => !(h in cols.cells))
    if (unknown !== undefined) {
      throw new OutputError(`unknown heading ${unknown}, valid values are: ${Object.keys(cols.cells).join(', ')}`)
    }
    const items = itemsOf(r)
    if (kind === 'Node' && headings.includes('ASN') && items.some(usesGlobalAS)) await asn.resolve()
    // Build the tab-terminated text the Go template would produce, then align it.
    let text = headings.map((h) => `${h}\t`).join('') + '\n'
    for (const item of items) text += headings.map((h) => `${cols.cells[h](item, cellCtx)}\t`).join('') + '\n'
    let table = tabwrite(text)
    if (bold) {
      const nl = table.indexOf('\n')
      table = bold(table.slice(0, nl)) + table.slice(nl)
    }
    out += table + '\n'
  }
  return out
}

async function formatTemplate(results: Result[], template: string, ctx: FormatContext): Promise<string> {
  const asn = asNumberResolver(ctx)
  const funcs: Record<string, TemplateFunc> = {
    join: (items, sep) => joinAndTruncate(items, String(sep), 0),
    joinAndTruncate: (items, sep, max) => joinAndTruncate(items, String(sep), Number(max)),
    config: (name) => {
      if (String(name).toLowerCase() === 'asnumber') return asn.get()
      throw new Error('unhandled config type')
    },
  }
  // calicoctl's engine is safetext's yamltemplate: output the data would restructure is refused. Loaded on demand,
  // since it brings a YAML parser no other output format needs.
  const {compileYAMLTemplate} = await import('../yamltemplate.js')
  const tmpl = compileYAMLTemplate(template, {name: 'get', funcs})
  if (/\bconfig\b/.test(template)) await asn.resolve()
  const baseView = ctx.toGoView ?? toGoView
  const view = (r: Resource): unknown => markFloats(baseView(r))
  return tmpl.execute(results.map((r) => (isList(r) ? listView(r, view) : view(r))))
}

/**
 * spec.order (policies and tiers) is the only float64 in the v3 API; marking it makes `{{.Spec.Order}}`
 * print as Go does (`1e+06`), which a plain number cannot convey.
 */
function markFloats(view: unknown): unknown {
  const spec = (view as {Spec?: Record<string, unknown>} | null)?.Spec
  if (!spec || typeof spec.Order !== 'number') return view
  return {...(view as object), Spec: {...spec, Order: new GoFloat(spec.Order)}}
}

/** A Go `<Kind>List`: embedded TypeMeta and ListMeta (fields promoted) and Items. */
function listView(list: ResourceList, view: (r: Resource) => unknown): unknown {
  const listMeta: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(list.metadata)) listMeta[k.charAt(0).toUpperCase() + k.slice(1)] = v
  const typeMeta = {Kind: list.kind, APIVersion: list.apiVersion}
  return {...listMeta, ...typeMeta, TypeMeta: typeMeta, ListMeta: listMeta, Items: list.items.map(view)}
}
