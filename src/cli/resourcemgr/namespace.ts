// calicoctl's per-resource namespace rules (commands/common/resources.go handleNamespace).
import type {KindInfo} from '../../api/kinds.js'
import type {Resource} from '../../api/resource.js'

export interface NamespaceFlags {
  /** `-n/--namespace`; '' when not given. */
  namespace?: string
  /** `-A/--all-namespaces`. */
  allNamespaces?: boolean
}

/**
 * Resolves the namespace a resource is acted on in, mutating `res.metadata.namespace`. An empty namespace on a
 * namespaced kind afterwards means "every namespace" (only meaningful for lists).
 */
export function resolveNamespace(res: Resource, info: KindInfo, flags: NamespaceFlags): void {
  const cliNs = flags.namespace ?? ''
  const allNs = flags.allNamespaces ?? false
  const resNs = res.metadata.namespace ?? ''
  if (info.namespaced) {
    if (allNs && cliNs !== '') throw new Error('cannot use both --namespace and --all-namespaces flags at the same time')
    if (resNs === '' && cliNs !== '') res.metadata.namespace = cliNs
    else if (allNs) res.metadata.namespace = ''
    else if (resNs === '' && cliNs === '') res.metadata.namespace = 'default'
    else if (resNs !== '' && cliNs !== '' && resNs !== cliNs) {
      throw new Error(`resource namespace does not match client namespace. ${resNs} != ${cliNs}`)
    }
    return
  }
  if (resNs !== '') {
    throw new Error(
      `namespace should not be specified for a non-namespaced resource. ${info.kind} is not a namespaced resource`,
    )
  }
  if (allNs || cliNs !== '') throw new Error(`${info.kind} is not namespaced`)
}
