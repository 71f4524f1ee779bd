// How Calico turns an EntityRule's selector fields into the one endpoint selector the dataplane evaluates
// (libcalico-go updateprocessors/rules.go getEndpointSelector and parseServiceAccounts). Endpoints carry
// their namespace's labels with a "pcns." prefix and their service account's with "pcsa." (inherited from
// the kns.<ns> / ksa.<ns>.<sa> profiles), so namespace and service-account selectors are rewritten to read
// those prefixed labels.

import {freezeNode, render, replaceFunctions, toSortedSet, type SelectorNode} from './ast.js'
import {selectorFromTree, type Selector, type SelectorCache} from './compiled.js'

export const NAMESPACE_LABEL_PREFIX = 'pcns.'
export const SERVICE_ACCOUNT_LABEL_PREFIX = 'pcsa.'
/** Set on every workload endpoint to its namespace. */
export const LABEL_NAMESPACE = 'projectcalico.org/namespace'
/** Set on every workload endpoint to its orchestrator ("k8s" for pods). */
export const LABEL_ORCHESTRATOR = 'projectcalico.org/orchestrator'
/** Set on every workload endpoint to its service account name. */
export const LABEL_SERVICE_ACCOUNT = 'projectcalico.org/serviceaccount'
/** Namespace / service-account profiles also carry their object's name under this key (prefixed). */
export const LABEL_NAME = 'projectcalico.org/name'

export interface EntityRuleSelectors {
  selector?: string
  notSelector?: string
  namespaceSelector?: string
  serviceAccounts?: {names?: readonly string[]; selector?: string}
}

// all() in a namespace selector means "any namespaced endpoint"; global() means "no namespace", i.e. host
// endpoints and global network sets.
const IN_ANY_NAMESPACE: SelectorNode = freezeNode({kind: 'has', label: LABEL_NAMESPACE})
const IN_NO_NAMESPACE: SelectorNode = freezeNode({kind: 'not', operand: IN_ANY_NAMESPACE})

/**
 * The namespace selector of an EntityRule as an endpoint selector: labels prefixed with "pcns.", all()
 * replaced by has(projectcalico.org/namespace) and global() by !has(projectcalico.org/namespace).
 * Throws SelectorParseError when `namespaceSelector` is invalid.
 */
export function namespaceSelectorForEndpoints(namespaceSelector: string, cache: SelectorCache): string {
  const prefixed = cache.parse(namespaceSelector).withLabelPrefix(NAMESPACE_LABEL_PREFIX)
  return render(replaceFunctions(prefixed.root, IN_ANY_NAMESPACE, IN_NO_NAMESPACE))
}

/** The serviceAccounts match of an EntityRule as an endpoint selector ('' when it matches on nothing). */
export function serviceAccountSelectorForEndpoints(
  match: {names?: readonly string[]; selector?: string},
  cache: SelectorCache,
): string {
  const bySelector = match.selector ? cache.parse(match.selector).withLabelPrefix(SERVICE_ACCOUNT_LABEL_PREFIX).toString() : ''
  if (!match.names || match.names.length === 0) return bySelector
  const byName = render(freezeNode({kind: 'in', label: LABEL_SERVICE_ACCOUNT, values: toSortedSet(match.names)}))
  return bySelector ? `(${bySelector}) && (${byName})` : byName
}

/**
 * The single selector for the endpoints an EntityRule matches, scoped like Calico does: in a namespaced
 * policy (policyNamespace set) any selector field, notSelector included, limits the match to the policy's
 * namespace unless a namespaceSelector picks namespaces. Returns '' when the rule has no endpoint
 * selector at all (then it matches any endpoint or address). notSelector is not folded in: Calico keeps
 * it as a separate negated match.
 */
export function entityRuleSelector(rule: EntityRuleSelectors, policyNamespace: string | undefined, cache: SelectorCache): string {
  let nsSelector = ''
  if (rule.namespaceSelector) {
    nsSelector = namespaceSelectorForEndpoints(rule.namespaceSelector, cache)
  } else if (policyNamespace) {
    nsSelector = `${LABEL_NAMESPACE} == '${policyNamespace}'`
  }

  const parts: string[] = []
  if (rule.serviceAccounts) {
    const sa = serviceAccountSelectorForEndpoints(rule.serviceAccounts, cache)
    if (sa) parts.push(sa)
  }
  if (rule.selector) parts.push(rule.selector)
  let selector = parts.length === 2 ? `(${parts[0]}) && (${parts[1]})` : (parts[0] ?? '')

  if (nsSelector && (selector || rule.notSelector || rule.namespaceSelector)) {
    selector = selector ? `(${nsSelector}) && (${selector})` : nsSelector
  }
  return selector
}

/**
 * entityRuleSelector() parsed (undefined for ''), the instance its canonical text finds in `cache`. The common side,
 * a selector alone, is built from the cached parse of that selector instead of parsing the scoped text: the parser
 * makes `(A) && (B)` the tree and[A, B], so the result is the same. Anything else goes through the text.
 */
export function parsedEntityRuleSelector(rule: EntityRuleSelectors, policyNamespace: string | undefined, cache: SelectorCache): Selector | undefined {
  const raw = rule.selector
  // A blank selector is all() alone but a parse error inside the scoped text, and an invalid one must fail with
  // the scoped text's column: both take the text route, as do namespaces a quoted string could not hold.
  const simple = !rule.namespaceSelector && !rule.serviceAccounts && raw !== undefined && raw.trim() !== '' && cache.validate(raw) === undefined
  if (!simple || policyNamespace?.includes("'")) {
    const text = entityRuleSelector(rule, policyNamespace, cache)
    return text === '' ? undefined : cache.parseCanonical(text)
  }
  const selector = cache.parse(raw)
  if (!policyNamespace) return cache.adopt(selector)
  const inNamespace = freezeNode({kind: 'eq', label: LABEL_NAMESPACE, value: policyNamespace})
  return cache.adopt(selectorFromTree(freezeNode({kind: 'and', operands: [inNamespace, selector.root]})))
}
