// Kubernetes label and field selector matching for the test API server (apimachinery's labels.Parse
// grammar: `k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a)`, `k`, `!k`; fields: `path=v`, `path!=v`).

export type Labels = Record<string, string> | undefined

type Requirement =
  | {op: 'eq' | 'neq'; key: string; value: string}
  | {op: 'in' | 'notin'; key: string; values: string[]}
  | {op: 'exists' | 'notexists'; key: string}

export class SelectorError extends Error {}

/** Splits on commas that are not inside parentheses. */
function splitTop(text: string): string[] {
  const parts: string[] = []
  let depth = 0
  let cur = ''
  for (const ch of text) {
    if (ch === '(') depth++
    if (ch === ')') depth--
    if (ch === ',' && depth === 0) {
      parts.push(cur)
      cur = ''
    } else cur += ch
  }
  if (cur.trim() !== '') parts.push(cur)
  return parts.map((p) => p.trim()).filter((p) => p !== '')
}

function parseRequirement(text: string): Requirement {
  let m = /^!\s*([^\s!=(),]+)$/.exec(text)
  if (m) return {op: 'notexists', key: m[1]}
  m = /^([^\s!=(),]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(text)
  if (m) return {op: m[2] as 'in' | 'notin', key: m[1], values: m[3].split(',').map((v) => v.trim()).filter((v) => v !== '')}
  m = /^([^\s!=(),]+)\s*(==|!=|=)\s*([^\s!=(),]*)$/.exec(text)
  if (m) return {op: m[2] === '!=' ? 'neq' : 'eq', key: m[1], value: m[3]}
  m = /^([^\s!=(),]+)$/.exec(text)
  if (m) return {op: 'exists', key: m[1]}
  throw new SelectorError(`unable to parse requirement: ${JSON.stringify(text)}`)
}

export type Matcher = (get: (key: string) => string | undefined) => boolean

export function parseLabelSelector(text: string | null): Matcher {
  if (!text) return () => true
  const reqs = splitTop(text).map(parseRequirement)
  return (get) =>
    reqs.every((r) => {
      const v = get(r.key)
      switch (r.op) {
        case 'eq':
          return v === r.value
        case 'neq':
          return v !== r.value
        case 'in':
          return v !== undefined && r.values.includes(v)
        case 'notin':
          return v === undefined || !r.values.includes(v)
        case 'exists':
          return v !== undefined
        case 'notexists':
          return v === undefined
      }
    })
}

/** Field selectors support only equality forms, as the real server does. */
export function parseFieldSelector(text: string | null): Matcher {
  if (!text) return () => true
  const reqs = splitTop(text).map(parseRequirement)
  for (const r of reqs) {
    if (r.op !== 'eq' && r.op !== 'neq') throw new SelectorError(`invalid field selector: ${JSON.stringify(text)}`)
  }
  return parseLabelSelector(text)
}

/** Reads a dotted field path (`metadata.name`, `spec.nodeName`) as a string, for field selectors. */
export function fieldValue(obj: unknown, path: string): string | undefined {
  let cur: unknown = obj
  for (const part of path.split('.')) {
    if (typeof cur !== 'object' || cur === null) return undefined
    cur = (cur as Record<string, unknown>)[part]
  }
  if (cur === undefined || cur === null) return path === 'metadata.namespace' ? '' : undefined
  return typeof cur === 'object' ? JSON.stringify(cur) : String(cur)
}
