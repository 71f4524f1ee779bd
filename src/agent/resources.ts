// The agent's validation filter (Felix's ValidationFilter): every stored object is decoded and validated before
// the calculation sees it; one that fails is treated as absent (so an update that breaks a resource removes its
// old effect rather than keeping stale rules) and reported once per revision.
import {decodeResource} from '../api/decode.js'
import {applyDefaults} from '../api/defaults.js'
import type {Resource} from '../api/resource.js'
import {validateResource} from '../api/validate.js'
import {asCalcResource, type CalcEvent, type CalcKind, type CalcResource} from '../dataplane/calc/index.js'
import type {Key} from '../datastore/backend.js'

/** The kinds the node agent watches: everything the policy calculation reads. */
export const AGENT_KINDS: readonly CalcKind[] = [
  'FelixConfiguration',
  'Tier',
  'Profile',
  'GlobalNetworkSet',
  'NetworkSet',
  'GlobalNetworkPolicy',
  'NetworkPolicy',
  'StagedGlobalNetworkPolicy',
  'StagedNetworkPolicy',
  'StagedKubernetesNetworkPolicy',
  'HostEndpoint',
  'WorkloadEndpoint',
]

export type Checked = {ok: true; resource: CalcResource} | {ok: false; reason: string}

/** Decodes, defaults and validates one stored value as calicoctl would before writing it. */
export function checkStoredValue(key: Key, value: unknown): Checked {
  let res: Resource
  try {
    res = applyDefaults(decodeResource(value))
    validateResource(res)
  } catch (err) {
    return {ok: false, reason: (err as Error).message}
  }
  if (res.kind !== key.kind) return {ok: false, reason: `stored under kind ${key.kind} but is a ${res.kind}`}
  const calc = asCalcResource(res as Resource<object, object>)
  return calc ? {ok: true, resource: calc} : {ok: false, reason: `kind ${res.kind} is not a policy input`}
}

export function deletion(key: Key): CalcEvent {
  const ev: CalcEvent = {type: 'delete', kind: key.kind as CalcKind, name: key.name}
  if (key.namespace !== undefined) ev.namespace = key.namespace
  return ev
}

export const keyText = (key: Key): string => (key.namespace ? `${key.kind}(${key.namespace}/${key.name})` : `${key.kind}(${key.name})`)
