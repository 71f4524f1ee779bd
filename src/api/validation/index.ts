// Entry points: validate a whole resource by kind, or one Go sub-structure on its own (as Calico's tests do).

import type {ErroredField} from '../errors.js'
import type {Resource} from '../resource.js'
import type {Obj, ValidateOptions} from './collector.js'
import {Collector, isObj} from './collector.js'
import {
  validateBGPConfigurationSpec, validateBGPFilterOperation, validateBGPFilterRule, validateBGPFilterSpec,
  validateBGPPeerSpec,
} from './bgp.js'
import {
  checkReservedNamespaceLabel, validateEndpointPort, validateHostEndpointSpec, validateIPNAT, validateNetworkSetSpec,
  validateNodeSpec, validateNodeStatus, validateProfileSpec, validateProtoPort, validateWorkloadEndpointPort,
  validateWorkloadEndpointSpec,
} from './endpoints.js'
import {validateFelixConfigurationSpec} from './felix.js'
import type {MetaParts} from './meta.js'
import {checkNameLength, readMeta, validateObjectMeta} from './meta.js'
import {
  validateBlockAffinitySpec, validateCalicoNodeStatusSpec, validateIPAMBlockSpec, validateIPAMConfigurationSpec,
  validateKubeControllersConfigurationSpec, validateNodeControllerConfig, validateReconcilerConfig, validateTemplate,
  validateTier,
} from './misc.js'
import {DNS1123_SUBDOMAIN_MAX, GLOBAL_NETWORK_POLICY_NAME_RE, NAME_LABEL_FMT, NETWORK_POLICY_NAME_RE} from './names.js'
import {validateIPPoolSpec, validateIPReservationSpec} from './pools.js'
import {checkProtocol} from './ports.js'
import {
  validateEntityRule, validateHTTPMatch, validateICMP, validatePolicySpec, validateRule,
  validateStagedKubernetesPolicySpec, validateStagedPolicySpec,
} from './rules.js'

export type {ValidateOptions} from './collector.js'
export {ValidationMemo} from './collector.js'

const NP = {global: false, specName: 'NetworkPolicySpec'} as const
const GNP = {global: true, specName: 'GlobalNetworkPolicySpec'} as const

function policyName(c: Collector, m: MetaParts, re: RegExp): void {
  checkNameLength(c, 'metadata.name', m.name, DNS1123_SUBDOMAIN_MAX)
  if (!re.test(m.name)) {
    c.go('metadata.name', 'Metadata.Name', m.name,
      `name must consist of lower case alphanumeric characters or '-' (regex: ${NAME_LABEL_FMT})`)
  }
}

type KindValidator = (c: Collector, spec: Obj, meta: MetaParts, res: Resource) => void

const KIND_VALIDATORS: Readonly<Record<string, KindValidator>> = {
  NetworkPolicy: (c, spec, m) => validatePolicySpec(c, spec, 'spec', NP, () => policyName(c, m, NETWORK_POLICY_NAME_RE)),
  GlobalNetworkPolicy: (c, spec, m) =>
    validatePolicySpec(c, spec, 'spec', GNP, () => policyName(c, m, GLOBAL_NETWORK_POLICY_NAME_RE)),
  StagedNetworkPolicy: (c, spec, m) =>
    validateStagedPolicySpec(c, spec, 'spec', NP, () => policyName(c, m, NETWORK_POLICY_NAME_RE)),
  StagedGlobalNetworkPolicy: (c, spec, m) =>
    validateStagedPolicySpec(c, spec, 'spec', GNP, () => policyName(c, m, GLOBAL_NETWORK_POLICY_NAME_RE)),
  StagedKubernetesNetworkPolicy: (c, spec, m, res) => {
    checkNameLength(c, 'metadata.name', m.name, DNS1123_SUBDOMAIN_MAX)
    validateStagedKubernetesPolicySpec(c, res.metadata, spec, 'spec')
  },
  Tier: (c, spec, m) => validateTier(c, m.name, spec, 'spec'),
  IPPool: (c, spec) => validateIPPoolSpec(c, spec, 'spec'),
  IPReservation: (c, spec) => validateIPReservationSpec(c, spec, 'spec'),
  BGPPeer: (c, spec) => validateBGPPeerSpec(c, spec, 'spec'),
  BGPConfiguration: (c, spec) => validateBGPConfigurationSpec(c, spec, 'spec'),
  BGPFilter: (c, spec) => validateBGPFilterSpec(c, spec, 'spec'),
  FelixConfiguration: (c, spec, m) => validateFelixConfigurationSpec(c, spec, 'spec', m.name),
  KubeControllersConfiguration: (c, spec) => validateKubeControllersConfigurationSpec(c, spec, 'spec'),
  HostEndpoint: (c, spec) => validateHostEndpointSpec(c, spec, 'spec'),
  WorkloadEndpoint: (c, spec) => validateWorkloadEndpointSpec(c, spec, 'spec'),
  Node: (c, spec, _m, res) => {
    validateNodeSpec(c, spec, 'spec')
    if (isObj(res.status)) validateNodeStatus(c, res.status, 'status')
  },
  GlobalNetworkSet: (c, spec, m) => {
    validateNetworkSetSpec(c, spec, 'spec')
    checkReservedNamespaceLabel(c, m)
  },
  NetworkSet: (c, spec, m) => {
    validateNetworkSetSpec(c, spec, 'spec')
    checkReservedNamespaceLabel(c, m)
  },
  Profile: (c, spec) => validateProfileSpec(c, spec, 'spec'),
  BlockAffinity: (c, spec) => validateBlockAffinitySpec(c, spec, 'spec'),
  IPAMConfiguration: (c, spec) => validateIPAMConfigurationSpec(c, spec, 'spec'),
  IPAMBlock: (c, spec) => validateIPAMBlockSpec(c, spec, 'spec'),
  CalicoNodeStatus: (c, spec) => validateCalicoNodeStatusSpec(c, spec, 'spec'),
}

/** Every problem Calico's validator would report for the resource (empty when valid). Does not modify it. */
export function validateResourceFields(res: Resource, opts: ValidateOptions = {}): ErroredField[] {
  const c = new Collector(opts.crd ?? true, opts.memo)
  const metaRaw: unknown = res.metadata
  const meta = readMeta(c, isObj(metaRaw) ? metaRaw : {})
  validateObjectMeta(c, meta)
  const specRaw: unknown = res.spec
  if (specRaw !== undefined && specRaw !== null && !isObj(specRaw)) c.type('spec', 'object', specRaw)
  const spec: Obj = isObj(specRaw) ? specRaw : {}
  KIND_VALIDATORS[res.kind]?.(c, spec, meta, res)
  return c.fields
}

/** Go sub-structures that can be validated on their own, by their Calico type name. */
export const FRAGMENT_VALIDATORS = {
  Rule: (c, v) => validateRule(c, v, ''),
  EntityRule: (c, v) => validateEntityRule(c, v, ''),
  ICMPFields: (c, v) => validateICMP(c, v, ''),
  HTTPMatch: (c, v) => validateHTTPMatch(c, v, ''),
  ProtoPort: (c, v) => validateProtoPort(c, v, ''),
  IPNAT: (c, v) => validateIPNAT(c, v, ''),
  WorkloadEndpointPort: (c, v) => validateWorkloadEndpointPort(c, v, ''),
  EndpointPort: (c, v) => validateEndpointPort(c, v, ''),
  WorkloadEndpointSpec: (c, v) => validateWorkloadEndpointSpec(c, v, ''),
  HostEndpointSpec: (c, v) => validateHostEndpointSpec(c, v, ''),
  NodeSpec: (c, v) => validateNodeSpec(c, v, ''),
  NodeStatus: (c, v) => validateNodeStatus(c, v, ''),
  GlobalNetworkSetSpec: (c, v) => validateNetworkSetSpec(c, v, ''),
  NetworkSetSpec: (c, v) => validateNetworkSetSpec(c, v, ''),
  ProfileSpec: (c, v) => validateProfileSpec(c, v, ''),
  IPPoolSpec: (c, v) => validateIPPoolSpec(c, v, ''),
  BGPPeerSpec: (c, v) => validateBGPPeerSpec(c, v, ''),
  BGPConfigurationSpec: (c, v) => validateBGPConfigurationSpec(c, v, ''),
  BGPFilterRuleV4: (c, v) => validateBGPFilterRule(c, v, '', 4),
  BGPFilterRuleV6: (c, v) => validateBGPFilterRule(c, v, '', 6),
  BGPFilterOperation: (c, v) => validateBGPFilterOperation(c, v, ''),
  FelixConfigurationSpec: (c, v) => validateFelixConfigurationSpec(c, v, ''),
  KubeControllersConfigurationSpec: (c, v) => validateKubeControllersConfigurationSpec(c, v, ''),
  NodeControllerConfig: (c, v) => validateNodeControllerConfig(c, v, ''),
  PolicyControllerConfig: (c, v) => validateReconcilerConfig(c, v, ''),
  WorkloadEndpointControllerConfig: (c, v) => validateReconcilerConfig(c, v, ''),
  ServiceAccountControllerConfig: (c, v) => validateReconcilerConfig(c, v, ''),
  NamespaceControllerConfig: (c, v) => validateReconcilerConfig(c, v, ''),
  Template: (c, v) => validateTemplate(c, v, ''),
  BlockAffinitySpec: (c, v) => validateBlockAffinitySpec(c, v, ''),
} as const satisfies Record<string, (c: Collector, v: Obj) => void>

export type FragmentType = keyof typeof FRAGMENT_VALIDATORS | 'Protocol'

/**
 * Validates one sub-structure on its own (paths are relative to it). `Protocol` takes the raw protocol value.
 * By default only the Go validators run, as for a sub-structure in Calico; pass `{crd: true}` to add CRD rules.
 */
export function validateFragment(type: FragmentType, value: unknown, opts: ValidateOptions = {}): ErroredField[] {
  const c = new Collector(opts.crd ?? false)
  if (type === 'Protocol') checkProtocol(c, '', value)
  else if (!isObj(value)) c.type('', 'object', value)
  else FRAGMENT_VALIDATORS[type](c, value)
  return c.fields
}
