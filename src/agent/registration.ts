// Creates or updates this node's Node resource with its addresses and AS number, as calico/node does at start-up.
// Written straight through the Backend with compare-and-swap, keeping fields owned by other writers
// (IPIP/VXLAN tunnel addresses, orchRefs, wireguard) as they are. On the Kubernetes datastore the Calico Node is a
// view of the core Node (its projectcalico.org/* annotations): it can be updated but not created, so a node that
// kubelet has not registered yet is reported as such (calico/node exits there; the agent's caller retries).
import {randomUUID} from 'node:crypto'
import {
  OperationNotSupportedError, ResourceAlreadyExistsError, ResourceDoesNotExistError, ResourceUpdateConflictError,
} from '../api/errors.js'
import {metav1Time} from '../api/gotime.js'
import type {Node, NodeSpec} from '../api/types/endpoints.js'
import type {Backend} from '../datastore/backend.js'

export interface NodeRegistration {
  name: string
  /** CIDR form (`192.0.2.5/24`); undefined leaves the stored value alone. */
  ipv4Address?: string
  ipv6Address?: string
  asNumber?: number
}

/** The spec after registration: only the BGP fields given are set, everything else is kept. */
export function mergeNodeSpec(current: NodeSpec | undefined, reg: NodeRegistration): NodeSpec {
  const spec: NodeSpec = {...current}
  const bgp = {...current?.bgp}
  if (reg.ipv4Address !== undefined) bgp.ipv4Address = reg.ipv4Address
  if (reg.ipv6Address !== undefined) bgp.ipv6Address = reg.ipv6Address
  if (reg.asNumber !== undefined) bgp.asNumber = reg.asNumber
  if (Object.keys(bgp).length > 0) spec.bgp = bgp
  return spec
}

/** The datastore cannot create Nodes (Kubernetes: only kubelet does) and this one does not exist yet. */
export class NodeNotRegisteredError extends Error {
  constructor(readonly nodeName: string) {
    super(`node "${nodeName}" does not exist in the Kubernetes API: on the Kubernetes datastore the Calico Node is a view of the core Node, which kubelet registers; start kubelet on this node (or check that --name matches the Kubernetes node name)`)
  }
}

/** Returns the stored Node after the write (or unchanged, when nothing differed). */
export async function registerNode(backend: Backend, reg: NodeRegistration, now: () => Date = () => new Date()): Promise<Node> {
  const key = {kind: 'Node', name: reg.name}
  // Another writer (calicoctl, the IPAM tunnel allocator) may race us: retry the read-modify-write.
  for (let attempt = 0; ; attempt++) {
    let current
    try {
      current = await backend.get<Node>(key)
    } catch (err) {
      if (!(err instanceof ResourceDoesNotExistError)) throw err
    }
    try {
      if (!current) {
        const node: Node = {
          apiVersion: 'projectcalico.org/v3',
          kind: 'Node',
          metadata: {name: reg.name, uid: randomUUID(), creationTimestamp: metav1Time(now())},
          spec: mergeNodeSpec(undefined, reg),
        }
        return (await backend.create(key, node).catch((err: unknown) => {
          throw err instanceof OperationNotSupportedError ? new NodeNotRegisteredError(reg.name) : err
        })).value
      }
      const spec = mergeNodeSpec(current.value.spec, reg)
      if (JSON.stringify(spec) === JSON.stringify(current.value.spec ?? {})) return current.value
      return (await backend.update(key, {...current.value, spec}, current.revision)).value
    } catch (err) {
      const raced = err instanceof ResourceUpdateConflictError || err instanceof ResourceAlreadyExistsError
      if (!raced || attempt >= 5) throw err
    }
  }
}
