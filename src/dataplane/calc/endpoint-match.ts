// Composite endpoint matchers: a label selector plus Calico's namespace and service-account scoping.
//
// Calico rewrites namespace/service-account selectors into `pcns.`/`pcsa.`-prefixed selectors over the endpoint's
// inherited labels (libcalico-go updateprocessors/rules.go). We get the same result without rewriting selector
// text: the selector is evaluated against a view of the labels with the prefix stripped.
import {createHash} from 'node:crypto'
import {parseSelector, type Labels, type Selector} from '../../api/selector.js'

export const LABEL_NAMESPACE = 'projectcalico.org/namespace'
export const LABEL_ORCHESTRATOR = 'projectcalico.org/orchestrator'
export const LABEL_SERVICE_ACCOUNT = 'projectcalico.org/serviceaccount'
export const NAMESPACE_LABEL_PREFIX = 'pcns.'
export const SERVICE_ACCOUNT_LABEL_PREFIX = 'pcsa.'

/** What a matcher sees of an endpoint or network set. */
export interface MatchSubject {
  /** Own labels overlaid on labels inherited from profiles (own labels win). */
  labels: Labels
  /** `pcns.*` labels with the prefix stripped: the namespace's labels. */
  nsLabels: Labels
  /** `pcsa.*` labels with the prefix stripped: the service account's labels. */
  saLabels: Labels
}

export type NamespaceScope =
  | {kind: 'in'; namespace: string}
  | {kind: 'selector'; selector: string}
  | {kind: 'namespaced'}
  | {kind: 'global'}

/** The conjunction `scope && serviceAccounts && selector && !notSelector`; absent parts are true. */
export interface MatchSpec {
  scope?: NamespaceScope
  saNames?: string[]
  saSelector?: string
  selector?: string
  notSelector?: string
}

export type Matcher = (s: MatchSubject) => boolean

/** Parses each distinct selector once; the agent sees the same selector text in many rules. */
export class SelectorCache {
  private readonly cache = new Map<string, Selector>()

  get(expr: string): Selector {
    let sel = this.cache.get(expr)
    if (!sel) {
      sel = parseSelector(expr)
      this.cache.set(expr, sel)
    }
    return sel
  }

  canonical(expr: string): string {
    return this.get(expr).toString()
  }
}

export function subjectFor(labels: Labels): MatchSubject {
  const ns: Record<string, string> = {}
  const sa: Record<string, string> = {}
  for (const [k, v] of Object.entries(labels)) {
    if (k.startsWith(NAMESPACE_LABEL_PREFIX)) ns[k.slice(NAMESPACE_LABEL_PREFIX.length)] = v
    else if (k.startsWith(SERVICE_ACCOUNT_LABEL_PREFIX)) sa[k.slice(SERVICE_ACCOUNT_LABEL_PREFIX.length)] = v
  }
  return {labels, nsLabels: ns, saLabels: sa}
}

function nonEmpty(s: string | undefined): s is string {
  return s !== undefined && s.trim() !== ''
}

/** Canonicalises every selector in the spec so equal meaning gives an equal key. */
export function canonicalSpec(spec: MatchSpec, cache: SelectorCache): MatchSpec {
  const out: MatchSpec = {}
  if (spec.scope) {
    if (spec.scope.kind === 'selector') {
      const c = cache.canonical(spec.scope.selector)
      // Calico's textual rewrite: namespaceSelector all() = "is namespaced", global() = "is not namespaced".
      out.scope = c === 'all()' ? {kind: 'namespaced'} : c === 'global()' ? {kind: 'global'} : {kind: 'selector', selector: c}
    } else {
      out.scope = spec.scope
    }
  }
  if (spec.saNames && spec.saNames.length > 0) out.saNames = [...new Set(spec.saNames)].sort()
  if (nonEmpty(spec.saSelector)) out.saSelector = cache.canonical(spec.saSelector)
  if (nonEmpty(spec.selector)) out.selector = cache.canonical(spec.selector)
  if (nonEmpty(spec.notSelector)) out.notSelector = cache.canonical(spec.notSelector)
  return out
}

export function isPositive(spec: MatchSpec): boolean {
  return spec.scope !== undefined || spec.saNames !== undefined || spec.saSelector !== undefined || spec.selector !== undefined
}

/** Stable text form of a canonical spec; equal keys ⇔ the same IP set. */
export function specKey(spec: MatchSpec): string {
  const parts: string[] = []
  const sc = spec.scope
  if (sc) {
    parts.push(
      sc.kind === 'in' ? `ns==${sc.namespace}` : sc.kind === 'selector' ? `nssel(${sc.selector})` : sc.kind === 'namespaced' ? 'namespaced' : 'global',
    )
  }
  if (spec.saNames) parts.push(`sa in {${spec.saNames.join(',')}}`)
  if (spec.saSelector) parts.push(`sasel(${spec.saSelector})`)
  if (spec.selector) parts.push(`sel(${spec.selector})`)
  if (spec.notSelector) parts.push(`!(${spec.notSelector})`)
  return parts.length === 0 ? 'all()' : parts.join(' && ')
}

export function compileMatcher(spec: MatchSpec, cache: SelectorCache): Matcher {
  const tests: Matcher[] = []
  const sc = spec.scope
  if (sc) {
    if (sc.kind === 'in') tests.push((s) => s.labels[LABEL_NAMESPACE] === sc.namespace)
    else if (sc.kind === 'namespaced') tests.push((s) => s.labels[LABEL_NAMESPACE] !== undefined)
    else if (sc.kind === 'global') tests.push((s) => s.labels[LABEL_NAMESPACE] === undefined)
    else {
      const sel = cache.get(sc.selector)
      tests.push((s) => sel.matches(s.nsLabels))
    }
  }
  if (spec.saNames) {
    const names = new Set(spec.saNames)
    tests.push((s) => {
      const sa = s.labels[LABEL_SERVICE_ACCOUNT]
      return sa !== undefined && names.has(sa)
    })
  }
  if (spec.saSelector) {
    const sel = cache.get(spec.saSelector)
    tests.push((s) => sel.matches(s.saLabels))
  }
  if (spec.selector) {
    const sel = cache.get(spec.selector)
    tests.push((s) => sel.matches(s.labels))
  }
  if (spec.notSelector) {
    const sel = cache.get(spec.notSelector)
    tests.push((s) => !sel.matches(s.labels))
  }
  if (tests.length === 0) return () => true
  if (tests.length === 1) return tests[0]!
  return (s) => {
    for (const t of tests) if (!t(s)) return false
    return true
  }
}

/**
 * Felix's MakeUniqueID: `<prefix>:` + base64url (no padding) of SHA-224 over `<prefix>:<text>`.
 * Stable across restarts, so set names survive an agent restart without memory.
 */
export function uniqueId(prefix: string, text: string): string {
  const digest = createHash('sha224').update(`${prefix}:${text}`).digest('base64url')
  return `${prefix}:${digest}`
}
