// Endpoint selectors as the dataplane evaluates them. Calico rewrites namespace and service-account selectors into
// selectors over the endpoint's inherited `pcns.`/`pcsa.` labels (src/api/selector entityRuleSelector), so one
// selector over the merged labels decides membership; equal canonical text means one shared IP set.
import {parseCanonicalSelector, parsedEntityRuleSelector, type Selector} from '../../api/selector.js'
import type {EntityRule} from './types.js'

export {LABEL_NAMESPACE, LABEL_ORCHESTRATOR, LABEL_SERVICE_ACCOUNT, NAMESPACE_LABEL_PREFIX, SERVICE_ACCOUNT_LABEL_PREFIX} from '../../api/selector.js'

/**
 * Rule selectors repeat across policies (every policy allowing "app == frontend" has one), and scoping, printing,
 * re-parsing and hashing them is most of a rule's parse: results are remembered by their inputs. The common side
 * with at most a selector is looked up by namespace and selector text; others by all their fields as JSON.
 * Bounded; cleared when full.
 */
const selectorOnlyCache = new Map<string | undefined, Map<string | undefined, Readonly<EntitySelectors>>>()
const entitySelectorCache = new Map<string, Readonly<EntitySelectors>>()
/** Policies' scoped selectors by namespace and selector (policySelector), bounded with the two above. */
const policySelectorCache = new Map<string | undefined, Map<string | undefined, Selector>>()
let cachedEntities = 0
const ENTITY_SELECTOR_CACHE_LIMIT = 50_000

/** A canonical selector and the ID of its IP set (Felix's Selector.UniqueID(): `s:` + base64url(sha224(`s:` + canonical))). */
export interface SelectorWithId {
  readonly selector: string
  readonly id: string
}

interface EntitySelectors {
  positive: string
  negative?: SelectorWithId
  folded: SelectorWithId
}

function withId(selector: Selector): SelectorWithId {
  return {selector: selector.toString(), id: selector.uniqueId()}
}

function present(s: string | undefined): s is string {
  return s !== undefined && s.trim() !== ''
}

/**
 * One side of a rule as selectors: `positive` is the scoped endpoint selector ('' = no endpoint restriction),
 * `negative` the rule's notSelector (unscoped, as Calico keeps it), `folded` the single selector
 * `positive && !negative` that Felix's RuleScanner uses when both exist ('all()' when neither does); the last two
 * come with their IP set IDs.
 */
export function entitySelectors(entity: EntityRule, policyNamespace: string | undefined): Readonly<EntitySelectors> {
  if (entity.notSelector === undefined && entity.namespaceSelector === undefined && entity.serviceAccounts === undefined) {
    return memoBySelector(selectorOnlyCache, entity, policyNamespace, computeEntitySelectors)
  }
  // Every field entityRuleSelector reads, and the namespace it scopes to.
  const key = JSON.stringify([policyNamespace ?? null, entity.selector, entity.notSelector, entity.namespaceSelector, entity.serviceAccounts])
  let cached = entitySelectorCache.get(key)
  if (!cached) {
    cached = computeEntitySelectors(entity, policyNamespace)
    remembered()
    entitySelectorCache.set(key, cached)
  }
  return cached
}

/** Counts one more remembered result, first emptying the caches when they hold the limit. */
/**
 * The value cached under (namespace, the entity's selector), else `compute`d, cached and counted against the bound.
 * For entities whose selector is all that varies; `compute` is a plain function, so a hit allocates nothing.
 */
function memoBySelector<T>(
  cache: Map<string | undefined, Map<string | undefined, T>>,
  entity: EntityRule,
  policyNamespace: string | undefined,
  compute: (entity: EntityRule, policyNamespace: string | undefined) => T,
): T {
  let bySelector = cache.get(policyNamespace)
  if (!bySelector) cache.set(policyNamespace, (bySelector = new Map()))
  let value = bySelector.get(entity.selector)
  if (value === undefined) {
    value = compute(entity, policyNamespace)
    remembered()
    bySelector.set(entity.selector, value)
  }
  return value
}

function remembered(): void {
  if (++cachedEntities <= ENTITY_SELECTOR_CACHE_LIMIT) return
  selectorOnlyCache.clear()
  entitySelectorCache.clear()
  policySelectorCache.clear()
  cachedEntities = 1
}

// Each selector built here is parsed once (the scoped one from the rule selector's parse where it can be), and its
// canonical text, which the IP set's selector is, finds the same instance later (refSet, the label index).
function computeEntitySelectors(entity: EntityRule, policyNamespace: string | undefined): EntitySelectors {
  const positive = parsedEntityRuleSelector(entity, policyNamespace)
  const negative = present(entity.notSelector) ? parseCanonicalSelector(entity.notSelector) : undefined
  let folded: Selector
  if (positive) folded = negative ? parseCanonicalSelector(`(${positive.toString()}) && !(${negative.toString()})`) : positive
  else folded = parseCanonicalSelector(negative ? `!(${negative.toString()})` : 'all()')
  const out: EntitySelectors = {positive: positive ? positive.toString() : '', folded: withId(folded)}
  if (negative !== undefined) out.negative = withId(negative)
  return out
}

/**
 * The selector a policy applies to: Calico's policy processors scope namespaced policies to their namespace. Its
 * canonical text (toString()) keys the policy's group.
 */
export function policySelector(spec: {selector?: string; namespaceSelector?: string; serviceAccountSelector?: string}, policyNamespace: string | undefined): Selector {
  const entity: EntityRule = {selector: present(spec.selector) ? spec.selector : 'all()'}
  if (present(spec.serviceAccountSelector)) entity.serviceAccounts = {selector: spec.serviceAccountSelector}
  if (policyNamespace === undefined && present(spec.namespaceSelector)) entity.namespaceSelector = spec.namespaceSelector
  if (entity.serviceAccounts || entity.namespaceSelector) return scopedPolicySelector(entity, policyNamespace)
  // Many policies share a selector (one per application and namespace, say): the scoped one is remembered.
  return memoBySelector(policySelectorCache, entity, policyNamespace, scopedPolicySelector)
}

function scopedPolicySelector(entity: EntityRule, policyNamespace: string | undefined): Selector {
  return parsedEntityRuleSelector(entity, policyNamespace) ?? parseCanonicalSelector('all()')
}
