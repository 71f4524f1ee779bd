// Calico's label-selector language: the public entry point. Parsing goes through a shared bounded cache, so
// callers may parse the same expression repeatedly at the cost of a map lookup.
//
//   parseSelector("app == 'web' && !has(canary)").matches({app: 'web'})  // true
//
// Grammar, evaluation and canonical form follow libcalico-go/lib/selector exactly (see selector/*.ts).

import {SelectorCache, type Selector} from './selector/compiled.js'
import {
  entityRuleSelector as scopeEntityRuleSelector,
  namespaceSelectorForEndpoints as scopeNamespaceSelector,
  parsedEntityRuleSelector as scopeParsedEntityRuleSelector,
  type EntityRuleSelectors,
} from './selector/scope.js'

export {SelectorParseError} from './selector/parser.js'
export {SelectorCache, selectorFromTree} from './selector/compiled.js'
export type {LabelLookup, Labels, Selector} from './selector/compiled.js'
export type {LabelOp, SelectorNode} from './selector/ast.js'
export {possibleToSatisfy} from './selector/restrictions.js'
export type {LabelRestriction} from './selector/restrictions.js'
export {isValidSelectorLabel, MAX_LABEL_LENGTH} from './selector/tokenizer.js'
export {
  LABEL_NAME,
  LABEL_NAMESPACE,
  LABEL_ORCHESTRATOR,
  LABEL_SERVICE_ACCOUNT,
  NAMESPACE_LABEL_PREFIX,
  SERVICE_ACCOUNT_LABEL_PREFIX,
} from './selector/scope.js'
export type {EntityRuleSelectors} from './selector/scope.js'

const shared = new SelectorCache()

/**
 * Parses a selector expression. "" (or only blanks) is all(). Throws SelectorParseError, whose `column` is
 * 1-based and whose message ends with "at column N".
 */
export function parseSelector(expr: string): Selector {
  return shared.parse(expr)
}

/**
 * parseSelector(), and the selector's canonical text (toString()) finds the same instance in the shared cache from
 * then on, so printing a built selector canonically and parsing that text again costs one parse.
 */
export function parseCanonicalSelector(expr: string): Selector {
  return shared.parseCanonical(expr)
}

/** The parse error message for an invalid selector, or undefined when it is valid (Calico's Validate). */
export function validateSelector(expr: string): string | undefined {
  return shared.validate(expr)
}

/**
 * Calico's selector.Normalise: trims surrounding whitespace and returns the canonical form, or the trimmed
 * input unchanged when it does not parse.
 */
export function normaliseSelector(expr: string): string {
  const trimmed = expr.trim()
  return shared.validate(trimmed) === undefined ? shared.parse(trimmed).toString() : trimmed
}

/** Drops every cached parse result (tests, or after a burst of one-off selectors). */
export function clearSelectorCache(): void {
  shared.clear()
}

/**
 * The endpoint selector an EntityRule's selector / namespaceSelector / serviceAccounts fields amount to,
 * scoped to `policyNamespace` for namespaced policies (Calico's rules.go getEndpointSelector). '' means
 * the rule does not restrict endpoints by selector. Throws SelectorParseError on an invalid field.
 */
export function entityRuleSelector(rule: EntityRuleSelectors, policyNamespace?: string): string {
  return scopeEntityRuleSelector(rule, policyNamespace, shared)
}

/**
 * entityRuleSelector() parsed (undefined for ''), the instance its canonical text finds in the shared cache, built
 * without parsing the scoped text where it can be. Throws SelectorParseError as parsing the scoped text would.
 */
export function parsedEntityRuleSelector(rule: EntityRuleSelectors, policyNamespace?: string): Selector | undefined {
  return scopeParsedEntityRuleSelector(rule, policyNamespace, shared)
}

/** A namespaceSelector rewritten to match endpoints by their inherited "pcns." labels (all()/global() mapped). */
export function namespaceSelectorForEndpoints(namespaceSelector: string): string {
  return scopeNamespaceSelector(namespaceSelector, shared)
}
