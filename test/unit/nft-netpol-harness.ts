// The netpol conformance model (test/fixtures/netpol/README.md): 3 namespaces × 3 pods on one node, driven through
// the incremental PolicyCalculator, rendered to nftables, and probed with the table evaluator.
import {readFileSync, readdirSync} from 'node:fs'
import {join} from 'node:path'
import yaml from 'js-yaml'
import {convertK8sNetworkPolicy, type K8sNetworkPolicy} from '../../src/api/k8s-networkpolicy.js'
import {PolicyCalculator, asCalcResource, computePolicyState, namespaceProfile, type CalcResource, type PolicyState} from '../../src/dataplane/calc/index.js'
import {TableEvaluator, renderTable, type NftTable} from '../../src/dataplane/nftables/index.js'

export const NODE = 'node1'
export const NAMESPACES = ['x', 'y', 'z'] as const
export const PODS = ['a', 'b', 'c'] as const
export const POD_CIDR = '10.65.0.0/16'
export const ALL_PODS = NAMESPACES.flatMap((ns) => PODS.map((p) => `${ns}/${p}`))

export function podIP(pod: string): string {
  const [ns, name] = pod.split('/') as [string, string]
  return `10.65.${NAMESPACES.indexOf(ns as 'x')}.${10 + PODS.indexOf(name as 'a')}`
}

export function podIface(pod: string): string {
  return `cali${pod.replace('/', '')}0`
}

export interface Probe {
  protocol: 'TCP' | 'UDP'
  port: number
  expected: string
}

export interface Step {
  name: string
  actions: Record<string, unknown>[]
  probes?: Probe[]
}

export interface NetpolCase {
  id: string
  file: string
  steps: Step[]
}

export function loadCases(dir: string): NetpolCase[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => {
      const doc = yaml.load(readFileSync(join(dir, f), 'utf8')) as {id: string; steps: Step[]}
      return {id: doc.id, file: f, steps: doc.steps}
    })
}

/** Parses a 9×9 truth table: rows = client, columns = server; true = connects. */
export function parseTable(text: string): Map<string, boolean> {
  const lines = text.trim().split('\n').map((l) => l.trim().split(/\s+/))
  const header = lines[0]!.slice(1)
  const out = new Map<string, boolean>()
  for (const row of lines.slice(1)) {
    const from = row[0]!
    row.slice(1).forEach((cell, i) => out.set(`${from}>${header[i]}`, cell === '.'))
  }
  return out
}

/** Fills a manifest's `{{podCIDR}}` and `{{ip x/b}}` placeholders (fixture README). */
export function substitute<T>(v: T): T {
  if (typeof v === 'string') {
    return v.replace(/\{\{\s*podCIDR\s*\}\}/g, POD_CIDR).replace(/\{\{\s*ip\s+([xyz]\/[abc])\s*\}\}/g, (_, p: string) => podIP(p)) as T
  }
  if (Array.isArray(v)) return v.map(substitute) as T
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, substitute(x)])) as T
  return v
}

type Manifest = {apiVersion: string; kind: string; metadata: {name: string; namespace?: string}; spec?: unknown}

/** The world of one case: labels and policies as the datastore holds them, fed to a long-lived calculator. */
export class NetpolWorld {
  readonly calc = new PolicyCalculator(NODE)
  private readonly podLabels = new Map<string, Record<string, string>>()
  private readonly nsLabels = new Map<string, Record<string, string>>()
  /** Calico-side resources by `kind/ns/name`. */
  private readonly resources = new Map<string, CalcResource>()
  /** Kubernetes policy key `ns/name` → the Calico resource key it became. */
  private readonly k8sPolicies = new Map<string, string>()

  constructor() {
    for (const ns of NAMESPACES) {
      this.nsLabels.set(ns, {ns, 'kubernetes.io/metadata.name': ns})
      this.sendNamespace(ns)
    }
    for (const pod of ALL_PODS) {
      this.podLabels.set(pod, {pod: pod.split('/')[1]!})
      this.sendPod(pod)
    }
  }

  private set(r: CalcResource): void {
    this.resources.set(`${r.kind}/${r.metadata.namespace ?? ''}/${r.metadata.name}`, r)
    this.calc.update({type: 'set', resource: r})
  }

  private remove(key: string): void {
    const r = this.resources.get(key)
    if (!r) return
    this.resources.delete(key)
    this.calc.update({type: 'delete', kind: r.kind, name: r.metadata.name!, ...(r.metadata.namespace ? {namespace: r.metadata.namespace} : {})})
  }

  private sendNamespace(ns: string): void {
    this.set(namespaceProfile(ns, this.nsLabels.get(ns)!))
  }

  private sendPod(pod: string): void {
    const [ns, name] = pod.split('/') as [string, string]
    const ports = [80, 81].flatMap((port) => (['tcp', 'udp'] as const).map((p) => ({name: `serve-${port}-${p}`, protocol: p.toUpperCase(), port})))
    this.set({
      apiVersion: 'projectcalico.org/v3',
      kind: 'WorkloadEndpoint',
      metadata: {
        name: `${NODE}-k8s-${name}-eth0`,
        namespace: ns,
        labels: {...this.podLabels.get(pod)!, 'projectcalico.org/namespace': ns, 'projectcalico.org/orchestrator': 'k8s'},
      },
      spec: {
        node: NODE,
        orchestrator: 'k8s',
        pod: name,
        endpoint: 'eth0',
        interfaceName: podIface(pod),
        ipNetworks: [`${podIP(pod)}/32`],
        profiles: [`kns.${ns}`],
        ports,
      },
    })
  }

  act(action: Record<string, unknown>): void {
    const [verb, raw] = Object.entries(action)[0]!
    const arg = substitute(raw) as Record<string, unknown>
    switch (verb) {
      case 'apply': {
        const m = arg as unknown as Manifest
        if (m.apiVersion === 'networking.k8s.io/v1') {
          const {policy} = convertK8sNetworkPolicy(m as unknown as K8sNetworkPolicy, {naming: 'knp'})
          const r = asCalcResource(policy)!
          const key = `${m.metadata.namespace}/${m.metadata.name}`
          const prev = this.k8sPolicies.get(key)
          const next = `${r.kind}/${r.metadata.namespace ?? ''}/${r.metadata.name}`
          if (prev && prev !== next) this.remove(prev)
          this.k8sPolicies.set(key, next)
          this.set(r)
        } else {
          this.set(m as unknown as CalcResource)
        }
        return
      }
      case 'delete': {
        const d = arg as {apiVersion: string; kind: string; namespace?: string; name: string}
        if (d.apiVersion === 'networking.k8s.io/v1') {
          const key = `${d.namespace}/${d.name}`
          const ck = this.k8sPolicies.get(key)
          if (ck) this.remove(ck)
          this.k8sPolicies.delete(key)
        } else {
          this.remove(`${d.kind}/${d.namespace ?? ''}/${d.name}`)
        }
        return
      }
      case 'deleteAllNetworkPolicies':
        for (const ck of this.k8sPolicies.values()) this.remove(ck)
        this.k8sPolicies.clear()
        return
      case 'labelPod':
      case 'unlabelPod': {
        const a = arg as {pod: string; labels?: Record<string, string>; keys?: string[]}
        const labels = {...this.podLabels.get(a.pod)!, ...(a.labels ?? {})}
        for (const k of a.keys ?? []) delete labels[k]
        this.podLabels.set(a.pod, labels)
        this.sendPod(a.pod)
        return
      }
      case 'labelNamespace':
      case 'unlabelNamespace': {
        const a = arg as {namespace: string; labels?: Record<string, string>; keys?: string[]}
        const labels = {...this.nsLabels.get(a.namespace)!, ...(a.labels ?? {})}
        for (const k of a.keys ?? []) delete labels[k]
        this.nsLabels.set(a.namespace, labels)
        this.sendNamespace(a.namespace)
        return
      }
      default:
        throw new Error(`unknown action ${verb}`)
    }
  }

  /** The state computed from scratch from the same resources (to cross-check the incremental index). */
  fullState(): PolicyState {
    return computePolicyState(NODE, this.resources.values())
  }
}

/** Probes every client→server pair through the rendered table: prerouting (raw, mangle) then forward. */
export function probeTable(table: NftTable, protocol: 'TCP' | 'UDP', port: number): Map<string, boolean> {
  const ev = new TableEvaluator(table)
  const out = new Map<string, boolean>()
  for (const from of ALL_PODS) {
    for (const to of ALL_PODS) {
      const r = ev.evaluatePath(['prerouting', 'forward'], {
        family: 4,
        saddr: podIP(from),
        daddr: podIP(to),
        proto: protocol === 'TCP' ? 6 : 17,
        sport: 40000,
        dport: port,
        iifname: podIface(from),
        oifname: podIface(to),
        ctState: 'new',
      })
      out.set(`${from}>${to}`, r.verdict === 'accept')
    }
  }
  return out
}

export function renderState(state: PolicyState): NftTable {
  return renderTable(state)
}
