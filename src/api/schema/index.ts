// Registry: the runtime schema of every v3 kind calicoctl manages, keyed by kind.
import {BGPConfigurationSchema, BGPFilterSchema, BGPPeerSchema} from './bgp.js'
import {CalicoNodeStatusSchema, ClusterInformationSchema, KubeControllersConfigurationSchema} from './cluster.js'
import type {StructSchema} from './dsl.js'
import {
  GlobalNetworkSetSchema, HostEndpointSchema, NetworkSetSchema, NodeSchema, WorkloadEndpointSchema,
} from './endpoints.js'
import {FelixConfigurationSchema} from './felix.js'
import {IPAMConfigurationSchema, IPPoolSchema, IPReservationSchema} from './ipam.js'
import {
  GlobalNetworkPolicySchema, NetworkPolicySchema, ProfileSchema, StagedGlobalNetworkPolicySchema,
  StagedKubernetesNetworkPolicySchema, StagedNetworkPolicySchema, TierSchema,
} from './policy.js'

export * from './dsl.js'

export interface KindSchema {
  kind: string
  /** `<Kind>List`, the only list kind accepted in input files. */
  listKind: string
  /** The whole object: kind, apiVersion, metadata, spec[, status]. */
  resource: StructSchema
  spec: StructSchema
  status?: StructSchema
}

function fieldStruct(resource: StructSchema, json: string): StructSchema | undefined {
  const t = resource.byJson.get(json)?.type
  return t?.kind === 'object' ? t.schema() : undefined
}

function kindSchemaOf(resource: StructSchema): KindSchema {
  const spec = fieldStruct(resource, 'spec')
  if (!spec) throw new Error(`schema for ${resource.name} has no spec`)
  const status = fieldStruct(resource, 'status')
  return {kind: resource.name, listKind: `${resource.name}List`, resource, spec, ...(status ? {status} : {})}
}

const RESOURCES: readonly StructSchema[] = [
  BGPConfigurationSchema, BGPFilterSchema, BGPPeerSchema, CalicoNodeStatusSchema, ClusterInformationSchema,
  FelixConfigurationSchema, GlobalNetworkPolicySchema, GlobalNetworkSetSchema, HostEndpointSchema,
  IPAMConfigurationSchema, IPPoolSchema, IPReservationSchema, KubeControllersConfigurationSchema,
  NetworkPolicySchema, NetworkSetSchema, NodeSchema, ProfileSchema, StagedGlobalNetworkPolicySchema,
  StagedKubernetesNetworkPolicySchema, StagedNetworkPolicySchema, TierSchema, WorkloadEndpointSchema,
]

const byKind: ReadonlyMap<string, KindSchema> = new Map(RESOURCES.map((r) => [r.name, kindSchemaOf(r)]))

/** The schema of a kind (exact, case-sensitive kind name as in documents), or undefined if not a v3 CLI kind. */
export function kindSchema(kind: string): KindSchema | undefined {
  return byKind.get(kind)
}

export function allKindSchemas(): KindSchema[] {
  return [...byKind.values()]
}

let structsByName: Map<string, StructSchema> | undefined

/** Every struct reachable from the registered kinds, by Go type name (`Rule`, `FelixConfigurationSpec`, ...). */
export function structSchema(name: string): StructSchema | undefined {
  if (!structsByName) {
    const found = new Map<string, StructSchema>()
    const visit = (s: StructSchema): void => {
      if (found.has(s.name)) return
      found.set(s.name, s)
      for (const fl of s.fields) {
        let t = fl.type
        while (t.kind === 'list' || t.kind === 'map') t = t.kind === 'list' ? t.items : t.values
        if (t.kind === 'object') visit(t.schema())
      }
    }
    for (const k of byKind.values()) visit(k.resource)
    structsByName = found
  }
  return structsByName.get(name)
}
