// The profiles Calico synthesises for Kubernetes (libcalico-go k8s/conversion): one per namespace (`kns.<ns>`)
// and per service account (`ksa.<ns>.<sa>`), carrying their labels to endpoints with a `pcns.`/`pcsa.` prefix. The
// built-in `projectcalico-default-allow` is src/api/builtin.ts's.
import {NAMESPACE_LABEL_PREFIX, SERVICE_ACCOUNT_LABEL_PREFIX} from './endpoint-match.js'
import type {CalcResource, ProfileSpec} from './types.js'

type ProfileResource = CalcResource & {kind: 'Profile'}

function prefixed(prefix: string, labels: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(labels)) out[prefix + k] = v
  return out
}

/** `kns.<ns>`: allows all traffic (a pod with no policy is open) and applies the namespace's labels. */
export function namespaceProfile(namespace: string, labels: Readonly<Record<string, string>>): ProfileResource {
  // The namespace name is always visible to namespaceSelectors (Calico adds projectcalico.org/name).
  const all = {...labels, 'projectcalico.org/name': namespace}
  const spec: ProfileSpec = {ingress: [{action: 'Allow'}], egress: [{action: 'Allow'}], labelsToApply: prefixed(NAMESPACE_LABEL_PREFIX, all)}
  return {apiVersion: 'projectcalico.org/v3', kind: 'Profile', metadata: {name: `kns.${namespace}`}, spec}
}

/** `ksa.<ns>.<sa>`: no rules, only the service account's labels. */
export function serviceAccountProfile(namespace: string, serviceAccount: string, labels: Readonly<Record<string, string>>): ProfileResource {
  const all = {...labels, 'projectcalico.org/name': serviceAccount}
  return {
    apiVersion: 'projectcalico.org/v3',
    kind: 'Profile',
    metadata: {name: `ksa.${namespace}.${serviceAccount}`},
    spec: {labelsToApply: prefixed(SERVICE_ACCOUNT_LABEL_PREFIX, all)},
  }
}
