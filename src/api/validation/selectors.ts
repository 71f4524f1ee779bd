// Selector fields: syntax is checked with the shared selector parser; global() placement follows Calico's rules.

import {validateSelector} from '../selector.js'
import {Collector} from './collector.js'

/** A `validate:"selector"` field: reports the Go tag failure under the Go field name. */
export function checkSelector(c: Collector, path: string, name: string, expr: string | undefined): void {
  if (expr === undefined) return
  const problem = validateSelector(expr)
  if (problem !== undefined) c.tag(path, name, expr, 'selector', `invalid selector: ${problem}`)
}

/** CEL rules refuse anything that mentions global( outside an EntityRule namespaceSelector. */
export function mentionsGlobal(expr: string | undefined): boolean {
  return expr !== undefined && expr.includes('global(')
}

/** An EntityRule namespaceSelector may be exactly global(), but global() cannot be combined with anything else. */
export function isLoneGlobal(expr: string): boolean {
  return expr.replace(/\s+/g, '') === 'global()'
}
