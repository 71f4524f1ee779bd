// Smaller kinds: Tier, KubeControllersConfiguration, IPAM objects and CalicoNodeStatus.

import type {Obj} from './collector.js'
import {
  at, Collector, crdEnum, crdPattern, crdRange, isSet, join, num, obj, objs, str, strMap, strs,
} from './collector.js'
import {checkAnnotations, checkLabelsTag, checkNameLength} from './meta.js'
import {DNS1123_LABEL_MAX, NAME_LABEL_FMT, TIER_NAME_RE} from './names.js'
import {parseCIDROrIP} from './cnet.js'
import {checkNameTag} from './tags.js'
import {checkSelector} from './selectors.js'

/** Built-in tiers have a fixed order and default action. */
const BUILTIN_TIERS: Readonly<Record<string, {order: number; action: string}>> = {
  'default': {order: 1000000, action: 'Deny'},
  'kube-admin': {order: 1000, action: 'Pass'},
  'kube-baseline': {order: 10000000, action: 'Pass'},
}

export function validateTier(c: Collector, name: string, spec: Obj, path: string): void {
  const action = str(c, spec, 'defaultAction', path)
  if (isSet(action) && action !== 'Deny' && action !== 'Pass') c.oneOf(join(path, 'defaultAction'), 'DefaultAction', action, ['Deny', 'Pass'])
  // Tier struct check (after the fields): names appear inside policy names, so no dots and at most 63 bytes.
  checkNameLength(c, 'metadata.name', name, DNS1123_LABEL_MAX)
  if (!TIER_NAME_RE.test(name)) {
    c.go('metadata.name', 'Metadata.Name', name,
      `name must consist of lower case alphanumeric characters or '-' (regex: ${NAME_LABEL_FMT})`)
  }
  const order = num(c, spec, 'order', path)
  const builtin = BUILTIN_TIERS[name]
  if (!builtin) return
  // The schema defaults defaultAction to Deny before these rules run.
  const effective = action ?? 'Deny'
  if (effective !== builtin.action) c.schema('', `The '${name}' tier must have default action '${builtin.action}'`, null, 'Tier')
  if (order !== builtin.order) c.schema('', `${name} tier order must be ${builtin.order}`, null, 'Tier')
}

function checkOneOf(c: Collector, o: Obj, key: string, goName: string, path: string, allowed: readonly string[]): void {
  const v = str(c, o, key, path)
  if (isSet(v) && !allowed.includes(v)) c.oneOf(join(path, key), goName, v, allowed)
  crdEnum(c, join(path, key), v || undefined, allowed)
}

export function validateTemplate(c: Collector, t: Obj, path: string): void {
  checkNameTag(c, join(path, 'generateName'), 'GenerateName', str(c, t, 'generateName', path))
  const cidrs = strs(c, t, 'interfaceCIDRs', path)
  if (cidrs && !cidrs.every((s) => parseCIDROrIP(s))) c.tag(join(path, 'interfaceCIDRs'), 'InterfaceCIDRs', cidrs, 'cidrs')
  const pattern = str(c, t, 'interfacePattern', path)
  if (isSet(pattern)) {
    try {
      new RegExp(pattern)
    } catch {
      c.tag(join(path, 'interfacePattern'), 'InterfacePattern', pattern, 'regexp')
    }
  }
  checkLabelsTag(c, join(path, 'labels'), 'Labels', strMap(c, t, 'labels', path))
  checkSelector(c, join(path, 'nodeSelector'), 'NodeSelector', str(c, t, 'nodeSelector', path))
  checkAnnotations(c, join(path, 'annotations'), strMap(c, t, 'annotations', path))
}

export function validateNodeControllerConfig(c: Collector, node: Obj, path: string): void {
  str(c, node, 'reconcilerPeriod', path)
  checkOneOf(c, node, 'syncLabels', 'SyncLabels', path, ['Enabled', 'Disabled'])
  const hep = obj(c, node, 'hostEndpoint', path)
  if (!hep) return
  const hp = join(path, 'hostEndpoint')
  checkOneOf(c, hep, 'autoCreate', 'AutoCreate', hp, ['Enabled', 'Disabled'])
  const cdhe = str(c, hep, 'createDefaultHostEndpoint', hp)
  if (isSet(cdhe) && cdhe !== 'Enabled' && cdhe !== 'Disabled') {
    c.tag(join(hp, 'createDefaultHostEndpoint'), 'CreateDefaultHostEndpoint', cdhe, 'createDefaultHostEndpoint')
  }
  for (const [t, i] of objs(c, hep, 'templates', hp)) validateTemplate(c, t, at(join(hp, 'templates'), i))
}

/** The controllers that only carry a reconciler period. */
export function validateReconcilerConfig(c: Collector, o: Obj, path: string): void {
  str(c, o, 'reconcilerPeriod', path)
}

export function validateKubeControllersConfigurationSpec(c: Collector, spec: Obj, path: string): void {
  crdEnum(c, join(path, 'logSeverityScreen'), str(c, spec, 'logSeverityScreen', path) || undefined,
    ['None', 'Debug', 'Info', 'Warning', 'Error', 'Fatal', 'Panic'])
  checkOneOf(c, spec, 'healthChecks', 'HealthChecks', path, ['Enabled', 'Disabled'])
  str(c, spec, 'etcdV3CompactionPeriod', path)
  crdRange(c, join(path, 'prometheusMetricsPort'), num(c, spec, 'prometheusMetricsPort', path), 0, 65535)
  crdRange(c, join(path, 'debugProfilePort'), num(c, spec, 'debugProfilePort', path), 0, 65535)
  const controllers = obj(c, spec, 'controllers', path)
  if (!controllers) return
  const cp = join(path, 'controllers')
  const node = obj(c, controllers, 'node', cp)
  if (node) validateNodeControllerConfig(c, node, join(cp, 'node'))
  for (const k of ['policy', 'workloadEndpoint', 'serviceAccount', 'namespace'] as const) {
    const o = obj(c, controllers, k, cp)
    if (o) validateReconcilerConfig(c, o, join(cp, k))
  }
  const lb = obj(c, controllers, 'loadBalancer', cp)
  if (lb) crdEnum(c, join(join(cp, 'loadBalancer'), 'assignIPs'), str(c, lb, 'assignIPs', join(cp, 'loadBalancer')) || undefined, ['AllServices', 'RequestedServicesOnly'])
  const migration = obj(c, controllers, 'migration', cp)
  if (migration) checkOneOf(c, migration, 'policyNameMigrator', 'PolicyNameMigrator', join(cp, 'migration'), ['Enabled', 'Disabled'])
}

export function validateBlockAffinitySpec(c: Collector, spec: Obj, path: string): void {
  const deleted = spec.deleted
  if (deleted === true || deleted === 'true') c.go(join(path, 'deleted'), 'Spec.Deleted', spec, 'spec.Deleted cannot be set to "true"')
  const state = str(c, spec, 'state', path)
  crdEnum(c, join(path, 'state'), state, ['', 'confirmed', 'pending', 'pendingDeletion'])
}

export function validateIPAMConfigurationSpec(c: Collector, spec: Obj, path: string): void {
  const max = num(c, spec, 'maxBlocksPerHost', path)
  if (max !== undefined && max < 0) c.go(join(path, 'maxBlocksPerHost'), 'MaxBlocksPerHost', max, 'must be greater than or equal to 0')
  crdRange(c, join(path, 'maxBlocksPerHost'), max, 0, 1000000)
  crdRange(c, join(path, 'ipCooldownSeconds'), num(c, spec, 'ipCooldownSeconds', path), 0, 1200)
  crdEnum(c, join(path, 'kubeVirtVMAddressPersistence'), str(c, spec, 'kubeVirtVMAddressPersistence', path) || undefined,
    ['Enabled', 'Disabled'])
}

/** IPAM blocks are written by the IPAM library; only the affinity format is constrained by the schema. */
export function validateIPAMBlockSpec(c: Collector, spec: Obj, path: string): void {
  crdPattern(c, join(path, 'affinity'), str(c, spec, 'affinity', path), '^(host|virtual):[a-zA-Z0-9\\.\\-_]+$')
}

export function validateCalicoNodeStatusSpec(c: Collector, spec: Obj, path: string): void {
  const node = str(c, spec, 'node', path)
  if (!isSet(node)) c.tag(join(path, 'node'), 'Node', node, 'required')
  else checkNameTag(c, join(path, 'node'), 'Node', node)
  const classes = strs(c, spec, 'classes', path)
  if (!classes || classes.length === 0) c.tag(join(path, 'classes'), 'Classes', classes, 'required')
  else if (new Set(classes).size !== classes.length) c.tag(join(path, 'classes'), 'Classes', classes, 'unique')
  ;(classes ?? []).forEach((x, i) => crdEnum(c, at(join(path, 'classes'), i), x, ['Agent', 'BGP', 'Routes']))
  const period = num(c, spec, 'updatePeriodSeconds', path)
  if (period === undefined) c.tag(join(path, 'updatePeriodSeconds'), 'UpdatePeriodSeconds', period, 'required')
  else if (period < 0) c.bound(join(path, 'updatePeriodSeconds'), 'UpdatePeriodSeconds', period, 'gte', 0)
  else if (period > 86400) c.bound(join(path, 'updatePeriodSeconds'), 'UpdatePeriodSeconds', period, 'lte', 86400)
}


