// Calico's CustomResourceDefinitions, generated from src/api's schema: the crd.projectcalico.org/v1
// set (libcalico-go/config/crd: names, scopes, status subresources) and the projectcalico.org/v3 set
// (api/config/crd). IPAM's internal objects have no v3 API schema, so theirs are written out here.
// manifests/crds is this module's output (scripts/gen-crds.mjs); a test keeps the two equal.

import {dump} from 'js-yaml'
import {kindInfo} from '../../api/kinds.js'
import {crdManifest, type CustomResourceDefinition, type OpenAPISchema} from '../../api/schema/openapi.js'
import {V1_GROUP, V3_GROUP, type CalicoGroup} from './convert.js'
import {CRD_KINDS} from './resources.js'

const V1_STATUS_KINDS = new Set(['CalicoNodeStatus', 'IPPool', 'KubeControllersConfiguration', 'Tier'])

const str: OpenAPISchema = {type: 'string'}
const bool: OpenAPISchema = {type: 'boolean'}
const int: OpenAPISchema = {type: 'integer'}
const stringMap: OpenAPISchema = {type: 'object', additionalProperties: str}

function ipamBlockSpec(): OpenAPISchema {
  return {
    type: 'object',
    properties: {
      affinity: str,
      affinityClaimTime: {type: 'string', format: 'date-time'},
      allocations: {type: 'array', items: {type: 'integer'}},
      attributes: {
        type: 'array',
        items: {
          type: 'object',
          properties: {alternateOwnerAttrs: stringMap, handle_id: str, releasedAt: {type: 'string', format: 'date-time'}, secondary: stringMap},
        },
      },
      cidr: str,
      deleted: bool,
      sequenceNumber: {type: 'integer', format: 'int64', default: 0},
      sequenceNumberForAllocation: {type: 'object', additionalProperties: {type: 'integer', format: 'int64'}},
      strictAffinity: bool,
      unallocated: {type: 'array', items: int},
    },
  }
}

function blockAffinitySpec(group: CalicoGroup): OpenAPISchema {
  // v1 stores `deleted` as the string "true"/"false"; v3 made it a bool.
  return {type: 'object', properties: {cidr: str, deleted: group === V1_GROUP ? str : {type: 'boolean', default: false}, node: str, state: str, type: str}}
}

function ipamHandleSpec(): OpenAPISchema {
  return {type: 'object', properties: {block: {type: 'object', additionalProperties: int}, deleted: bool, handleID: str}}
}

function ipamConfigSpec(): OpenAPISchema {
  return {
    type: 'object',
    properties: {
      autoAllocateBlocks: bool,
      ipCooldownSeconds: {type: 'integer', minimum: 0, maximum: 1200},
      kubeVirtVMAddressPersistence: {type: 'string', enum: ['Enabled', 'Disabled']},
      maxBlocksPerHost: {type: 'integer', minimum: 0, maximum: 2147483647},
      strictAffinity: bool,
    },
  }
}

function handWritten(group: CalicoGroup, kind: string, plural: string, spec: OpenAPISchema): CustomResourceDefinition {
  const version = group === V1_GROUP ? 'v1' : 'v3'
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {name: `${plural}.${group}`},
    spec: {
      group,
      names: {kind, listKind: `${kind}List`, plural, singular: kind.toLowerCase()},
      scope: 'Cluster',
      versions: [{
        name: version,
        served: true,
        storage: true,
        schema: {openAPIV3Schema: {type: 'object', properties: {apiVersion: str, kind: str, metadata: {type: 'object'}, spec}}},
        ...(group === V3_GROUP ? {subresources: {status: {}}} : {}),
      }],
    },
  }
}

/** Every Calico CRD of one API group, sorted by plural (as Calico's file names are). */
export function calicoCrds(group: CalicoGroup): CustomResourceDefinition[] {
  const out: CustomResourceDefinition[] = []
  for (const kind of CRD_KINDS) {
    if (kind === 'IPAMConfiguration' && group === V1_GROUP) continue
    const base = crdManifest(kind)
    if (group === V3_GROUP) {
      out.push(base)
      continue
    }
    const plural = (kindInfo(kind)?.plural ?? base.spec.names.plural)
    const [version] = base.spec.versions
    const v1Version = {name: 'v1', served: true, storage: true, schema: version.schema, ...(V1_STATUS_KINDS.has(kind) ? {subresources: {status: {} as Record<string, never>}} : {})}
    out.push({...base, metadata: {name: `${plural}.${V1_GROUP}`}, spec: {...base.spec, group: V1_GROUP, versions: [v1Version]}})
  }
  out.push(handWritten(group, 'IPAMBlock', 'ipamblocks', ipamBlockSpec()))
  out.push(handWritten(group, 'BlockAffinity', 'blockaffinities', blockAffinitySpec(group)))
  out.push(handWritten(group, 'IPAMHandle', 'ipamhandles', ipamHandleSpec()))
  if (group === V1_GROUP) out.push(handWritten(group, 'IPAMConfig', 'ipamconfigs', ipamConfigSpec()))
  return out.sort((a, b) => (a.spec.names.plural < b.spec.names.plural ? -1 : 1))
}

const HEADER = '# Generated from src/api/schema by src/datastore/kubernetes/crds.ts (npm run gen:crds). Do not edit.\n'

/** The manifests/crds tree: v1 CRDs at the top (what `kubectl apply -f manifests/crds` installs), v3 under v3/. */
export function crdFiles(): {path: string; text: string}[] {
  const render = (crd: CustomResourceDefinition) => HEADER + dump(crd, {noRefs: true, lineWidth: -1})
  return [
    ...calicoCrds(V1_GROUP).map((crd) => ({path: `crd.projectcalico.org_${crd.spec.names.plural}.yaml`, text: render(crd)})),
    ...calicoCrds(V3_GROUP).map((crd) => ({path: `v3/projectcalico.org_${crd.spec.names.plural}.yaml`, text: render(crd)})),
  ]
}
