// `calicoctl cluster diags` (calicoctl's commands/cluster/diags.go): a cluster-wide snapshot taken with kubectl into
// calico-diagnostics-<UTC YYYYMMDD_HHMMSS>/ in a temp dir, archived in the current directory. What it collects, in
// calicoctl's order and layout: censored TLS secrets (tls/), the logs and descriptions of up to --max-logs pods per
// workload of every calico/tigera namespace with --focus-nodes first (nodes/<node>/<ns>/, linked from links/<ns>/),
// the dataplane of each calico-node pod as this project's agent programs it (nft and ip; no BPF or iptables dumps,
// which this agent does not use), then the cluster: kubectl version, every Calico CRD kind, the calico-system and
// tigera-operator namespaces, core Kubernetes resources. kubectl reaches the cluster the calicoctl config points to.
//
// Differences from calicoctl, on purpose: Calico's manifest installs run calico-node in kube-system, so calico-named
// workloads there are included too; TLS secrets are looked for only in namespaces that exist, and the
// last-applied-configuration annotation of a collected one (a copy of its data) is censored as well; calicoctl's Enterprise-only third-party resources and its operator annotation scan are
// left out; a failed kubectl call leaves `<file>.error` and a line in summary.txt instead of only a printed line.
import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import yaml from 'js-yaml'

import type {DatastoreConfig} from '../../datastore/config.js'
import {mapConcurrent} from '../../lib/map-concurrent.js'
import {Collector, formatSummary, StepSkipped, type Step} from './collect.js'
import {runCommand} from './exec.js'
import {writeTarGz} from './tar.js'

/** A flag value calicoctl refuses; it prints the message on stdout and exits 1. */
export class DiagsFlagError extends Error {}

export interface ClusterDiagsFlags {
  since: string
  maxLogs: number
  maxParallelism: number
  focusNodes: string
  skipTempDirCleanup: boolean
}

/** calicoctl's checks (argutils.ValidateSinceDuration, ValidateMaxLogs); `--since ""` means all logs (`0s`). */
export function validateClusterDiagsFlags(flags: ClusterDiagsFlags): ClusterDiagsFlags {
  const since = flags.since === '' ? '0s' : flags.since
  if (!/^[0-9]+[smh]$/.test(since)) throw new DiagsFlagError(`Error executing command: invalid duration for since flag (try 10s, 5m, or 1h): ${since}`)
  if (flags.maxLogs < 0) throw new DiagsFlagError('Error executing command: negative value for max-logs flag')
  // calicoctl's errgroup would wait forever with no slot at all.
  if (flags.maxParallelism < 1) throw new DiagsFlagError('Error executing command: max-parallelism must be at least 1')
  return {...flags, since}
}

/** calico-diagnostics-<UTC 20060102_150405>: the bundle's top directory; the archive adds `.tar.gz`. */
export function bundleName(now: Date): string {
  const iso = now.toISOString()
  return `calico-diagnostics-${iso.slice(0, 10).replaceAll('-', '')}_${iso.slice(11, 19).replaceAll(':', '')}`
}

/** How kubectl reaches the cluster of a calicoctl config: its flags, and KUBECONFIG (which may list several files). */
export interface KubectlConnection {
  args: string[]
  env: Record<string, string>
}

/**
 * The kubectl flags for a Kubernetes-datastore config (kubeconfig, API endpoint, certificates, token, context). For
 * another datastore, kubectl's own defaults apply, as calicoctl's plain `kubectl` calls use them.
 * `inlineKubeconfigFile` is where the caller wrote `kubeconfigInline`, if set.
 */
export function kubectlConnection(config: DatastoreConfig, inlineKubeconfigFile?: string): KubectlConnection {
  if (config.datastoreType !== 'kubernetes') return {args: [], env: {}}
  const args: string[] = []
  const env: Record<string, string> = {}
  if (inlineKubeconfigFile !== undefined) args.push('--kubeconfig', inlineKubeconfigFile)
  else if (config.kubeconfig) env.KUBECONFIG = config.kubeconfig
  if (config.k8sAPIEndpoint) args.push('--server', config.k8sAPIEndpoint)
  if (config.k8sCAFile) args.push('--certificate-authority', config.k8sCAFile)
  if (config.k8sCertFile) args.push('--client-certificate', config.k8sCertFile)
  if (config.k8sKeyFile) args.push('--client-key', config.k8sKeyFile)
  if (config.k8sAPIToken) args.push('--token', config.k8sAPIToken)
  if (config.k8sInsecureSkipTLSVerify) args.push('--insecure-skip-tls-verify')
  if (config.k8sCurrentContext) args.push('--context', config.k8sCurrentContext)
  return {args, env}
}

// ---------- TLS secrets ----------

/** The TLS secrets calicoctl collects (name, namespace); each is also looked for in tigera-operator. */
export const TLS_SECRETS: readonly (readonly [string, string])[] = [
  ['calico-kube-controllers-metrics-tls', 'calico-system'],
  ['calico-node-prometheus-server-tls', 'calico-system'],
  ['node-certs', 'calico-system'],
  ['typha-certs', 'calico-system'],
  ['calico-node-prometheus-client-tls', 'tigera-prometheus'],
  ['calico-node-prometheus-tls', 'tigera-prometheus'],
  ['deep-packet-inspection-tls', 'tigera-dpi'],
  ['tigera-secure-elasticsearch-cert', 'tigera-elasticsearch'],
  ['tigera-secure-internal-elasticsearch-cert', 'tigera-prometheus'],
  ['tigera-secure-linseed-cert', 'tigera-prometheus'],
  ['tigera-ee-elasticsearch-metrics-tls', 'tigera-prometheus'],
  ['tigera-fluentd-prometheus-tls', 'tigera-fluentd'],
  ['intrusion-detection-tls', 'tigera-intrusion-detection'],
  ['tigera-secure-kibana-cert', 'tigera-kibana'],
  ['manager-tls', 'tigera-manager'],
  ['internal-manager-tls', 'tigera-manager'],
  ['tigera-voltron', 'tigera-manager'],
  ['tigera-packetcapture-server-tls', 'tigera-packetcapture'],
  ['tigera-managed-cluster-connection', 'tigera-guardian'],
  ['tigera-compliance-benchmarker-tls', 'tigera-compliance'],
  ['tigera-compliance-controller-tls', 'tigera-compliance'],
  ['tigera-compliance-reporter-tls', 'tigera-compliance'],
  ['tigera-compliance-server-tls', 'tigera-compliance'],
  ['tigera-compliance-snapshotter-tls', 'tigera-compliance'],
  ['tigera-dex-tls', 'tigera-dex'],
]

/** Data keys that hold public certificates, kept as they are; every other value is censored. */
const PUBLIC_KEYS = new Set(['tls.crt', 'cert', 'cert.crt', 'apiserver.crt', 'managed-cluster.crt', 'management-cluster.crt'])

/** `<censored>` as a Secret's data holds it (base64), so the collected YAML reads like calicoctl's. */
export const CENSORED = Buffer.from('<censored>').toString('base64')

export interface KubeSecret {
  metadata?: {annotations?: Record<string, string>; [k: string]: unknown}
  data?: Record<string, string>
  stringData?: Record<string, string>
  [k: string]: unknown
}

/** The secret with every non-certificate value censored (calicoctl's censorSecret), and its copy in kubectl's annotation. */
export function censorSecret(secret: KubeSecret): KubeSecret {
  const data = Object.fromEntries(Object.entries(secret.data ?? {}).map(([k, v]) => [k, PUBLIC_KEYS.has(k) ? v : CENSORED]))
  const out: KubeSecret = {...secret, data}
  if (secret.stringData) out.stringData = Object.fromEntries(Object.keys(secret.stringData).map((k) => [k, '<censored>']))
  const annotations = secret.metadata?.annotations
  const applied = 'kubectl.kubernetes.io/last-applied-configuration'
  if (annotations?.[applied] !== undefined) out.metadata = {...secret.metadata, annotations: {...annotations, [applied]: '<censored>'}}
  return out
}

/** The secrets to look for, limited to namespaces that exist (the rest cannot hold them). */
export function tlsSecretTargets(namespaces: ReadonlySet<string>): {name: string; namespace: string}[] {
  const out: {name: string; namespace: string}[] = []
  for (const [name, ns] of TLS_SECRETS) {
    for (const namespace of [ns, 'tigera-operator']) if (namespaces.has(namespace)) out.push({name, namespace})
  }
  return out
}

// ---------- pods ----------

export interface LabelSelector {
  matchLabels?: Record<string, string>
  matchExpressions?: {key: string; operator: string; values?: string[]}[]
}

/**
 * The workload's selector as a label-selector string (metav1.LabelSelectorAsMap then labels.SelectorFromSet: sorted
 * `k=v` pairs); only `In` with one value converts, as in calicoctl.
 */
export function selectorString(selector: LabelSelector | undefined): string {
  const labels: Record<string, string> = {...selector?.matchLabels}
  for (const e of selector?.matchExpressions ?? []) {
    if (e.operator !== 'In' || e.values?.length !== 1) {
      throw new Error(`operator "${e.operator}" without a single value cannot be converted into the old label selector format`)
    }
    labels[e.key] = e.values[0]!
  }
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join(',')
}

export interface PodInfo {
  name: string
  node: string
  /** Containers (init included) with an earlier incarnation whose logs explain a restart. */
  restarted: string[]
}

interface KubePod {
  metadata?: {name?: string}
  spec?: {nodeName?: string}
  status?: {containerStatuses?: ContainerStatus[]; initContainerStatuses?: ContainerStatus[]}
}
interface ContainerStatus {
  name: string
  restartCount?: number
  lastState?: {terminated?: unknown}
}

export function podInfo(pod: KubePod): PodInfo {
  const statuses = [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? [])]
  return {
    name: pod.metadata?.name ?? '',
    node: pod.spec?.nodeName ?? '',
    restarted: statuses.filter((s) => (s.restartCount ?? 0) > 0 || s.lastState?.terminated !== undefined).map((s) => s.name),
  }
}

/** The node order for log collection: the focus nodes first, then every other node of the cluster. */
export function nodeOrder(focusNodes: string, clusterNodes: readonly string[]): string[] {
  const focus = focusNodes.split(',').map((n) => n.trim()).filter((n) => n !== '')
  return [...new Set([...focus, ...clusterNodes])]
}

/**
 * Up to `maxLogs` of a workload's pods, taken node by node in `nodes` order (calicoctl's walk); pods on nodes not in
 * the list (unscheduled, or the node list could not be read) come after.
 */
export function selectPods(pods: readonly PodInfo[], nodes: readonly string[], maxLogs: number): PodInfo[] {
  const order = [...nodes, ...new Set(pods.map((p) => p.node).filter((n) => !nodes.includes(n)))]
  return order.flatMap((node) => pods.filter((p) => p.node === node)).slice(0, maxLogs)
}

/** A pod's logs (and its restarted containers' previous logs) and description, as calicoctl's diagsCmdsForPod. */
export function podSteps(namespace: string, pod: PodInfo, since: string): Step[] {
  const node = pod.node || 'unscheduled'
  const base = `nodes/${node}/${namespace}/${pod.name}`
  const link = `links/${namespace}/${pod.name}`
  return [
    {
      info: `Collect logs for pod ${pod.name}`,
      argv: ['kubectl', 'logs', `--since=${since}`, '-n', namespace, pod.name, '--all-containers'],
      file: `${base}.log`,
      link: `${link}.log`,
    },
    {info: `Collect describe for pod ${pod.name}`, argv: ['kubectl', '-n', namespace, 'describe', 'pods', pod.name], file: `${base}.txt`, link: `${link}.txt`},
    ...pod.restarted.map((c) => ({
      info: `Collect previous logs for container ${c} in pod ${pod.name}`,
      argv: ['kubectl', 'logs', '--previous', `--since=${since}`, '-n', namespace, pod.name, '-c', c],
      file: `${base}.${c}.previous.log`,
      link: `${link}.${c}.previous.log`,
    })),
  ]
}

/**
 * The node's dataplane as the agent programs it, read inside its calico-node pod. Without calicoctl's `-t`: a
 * terminal would turn the dumps' line ends into CRLF, and kubectl only warns that it has none to give.
 */
export function calicoNodeSteps(namespace: string, pod: string, node: string): Step[] {
  const exec = ['kubectl', 'exec', '-n', namespace, pod, '-c', 'calico-node', '--']
  const dir = `nodes/${node}`
  const dumps: [string, string[], string][] = [
    ['nftables', ['nft', '-n', '-a', 'list', 'ruleset'], 'nft-ruleset.txt'],
    ['ip routes', ['ip', 'route', 'show', 'table', 'all'], 'ip-route.txt'],
    ['ipv6 routes', ['ip', '-6', 'route', 'show', 'table', 'all'], 'ip-route-v6.txt'],
    ['ip rule', ['ip', 'rule'], 'ip-rule.txt'],
    ['ip addr', ['ip', 'addr'], 'ip-addr.txt'],
    ['ip link', ['ip', 'link'], 'ip-link.txt'],
    ['ip neigh', ['ip', 'neigh'], 'ip-neigh.txt'],
  ]
  return dumps.map(([what, cmd, file]) => ({info: `Collect ${what} for node ${node}`, argv: [...exec, ...cmd], file: `${dir}/${file}`}))
}

/** Namespaces whose workloads are collected: calicoctl's (names containing calico or tigera), and kube-system. */
export function diagsNamespaces(all: readonly string[]): string[] {
  return all.filter((ns) => ns.includes('calico') || ns.includes('tigera') || ns === 'kube-system')
}

/** In kube-system only Calico's own workloads count (calico-node, calico-kube-controllers, calico-typha). */
export function isDiagsWorkload(namespace: string, name: string): boolean {
  return namespace !== 'kube-system' || name.includes('calico')
}

// ---------- cluster-wide ----------

/** `kubectl get <resource>` as YAML and as a wide table, into `<file>.yaml` and `<file>.txt`. */
function yamlAndWide(label: string, get: string[], file: string): Step[] {
  return [
    {info: `Collect ${label} (yaml)`, argv: ['kubectl', 'get', ...get, '-o', 'yaml'], file: `${file}.yaml`},
    {info: `Collect ${label} (wide text)`, argv: ['kubectl', 'get', ...get, '-o', 'wide'], file: `${file}.txt`},
  ]
}

/** The go-template calicoctl lists CRDs with: `<name>=<storage version> ` per CRD. */
export const CRD_TEMPLATE = '{{range .items}}{{.metadata.name}}={{range .spec.versions}}{{if .storage}}{{.name}}{{end}}{{end}} {{end}}'

/** Steps for every Calico (or Tigera) CRD kind in the listing, each by its fully qualified `<plural>.<version>.<group>`. */
export function crdSteps(listing: string): {steps: Step[]; names: Set<string>} {
  const names = new Set<string>()
  const steps: Step[] = []
  for (const entry of listing.split(/\s+/).filter((e) => e !== '')) {
    const [crd = '', version = ''] = entry.split('=', 2)
    if (!crd.includes('projectcalico') && !crd.includes('tigera')) continue
    names.add(crd)
    const dot = crd.indexOf('.')
    const resource = version && dot > 0 ? `${crd.slice(0, dot)}.${version}.${crd.slice(dot + 1)}` : crd
    steps.push(...yamlAndWide(`Calico ${resource}`, [resource, '-A'], `cluster/crd/${crd}`))
  }
  return {steps, names}
}

/** projectcalico.org/v3 kinds served by the Calico API server (not CRDs), from `kubectl api-resources --no-headers`. */
export function apiResourceSteps(listing: string, collected: ReadonlySet<string>): Step[] {
  const steps: Step[] = []
  for (const line of listing.split('\n')) {
    const fields = line.trim().split(/\s+/)
    if (fields.length < 3) continue
    const plural = fields[0]!
    const crd = `${plural}.projectcalico.org`
    if (collected.has(crd)) continue
    const apiVersion = fields.slice(1).find((f) => f.includes('/'))
    const [group, version] = apiVersion?.split('/', 2) ?? []
    const resource = group && version ? `${plural}.${version}.${group}` : crd
    steps.push(...yamlAndWide(`Calico ${resource}`, [resource, '-A'], `cluster/crd/${crd}`))
  }
  return steps
}

const CORE_RESOURCES = [
  'configmaps', 'daemonsets', 'deployments', 'endpoints', 'endpointslices', 'pods', 'pv', 'pvc', 'sc', 'services',
  'statefulsets', 'jobs', 'cronjobs', 'backendlbpolicies', 'backendtlspolicies', 'gatewayclasses', 'gateways',
  'grpcroutes', 'httproutes', 'referencegrants', 'tcproutes', 'tlsroutes', 'udproutes',
]

/** calico-system, tigera-operator and the core Kubernetes resources, as calicoctl collects them. */
export function clusterSteps(): Step[] {
  const k = 'cluster/kubernetes'
  return [
    ...yamlAndWide('all in tigera-operator', ['all', '-n', 'tigera-operator'], 'cluster/tigera-operator/tigera-operator'),
    ...yamlAndWide('all in calico-system', ['all', '-n', 'calico-system'], 'cluster/calico-system/calico-system'),
    ...CORE_RESOURCES.flatMap((r) => yamlAndWide(r, [r, '--all-namespaces'], `${k}/${r}`)),
    ...yamlAndWide('nodes', ['nodes'], `${k}/nodes`),
    ...yamlAndWide('namespaces', ['namespaces'], `${k}/namespaces`),
    ...yamlAndWide('k8s networkpolicies', ['networkpolicies.networking.k8s.io', '-A'], `${k}/networkpolicies`),
    ...yamlAndWide('k8s adminnetworkpolicies', ['adminnetworkpolicies.policy.networking.k8s.io', '-A'], `${k}/adminnetworkpolicies`),
    ...yamlAndWide('k8s baselineadminnetworkpolicies', ['baselineadminnetworkpolicies.policy.networking.k8s.io', '-A'], `${k}/baselineadminnetworkpolicies`),
    ...yamlAndWide('multus network-attachment-definitions', ['network-attachment-definitions.k8s.cni.cncf.io', '-A'], `${k}/network-attachment-definitions`),
    ...yamlAndWide('k8s validatingwebhookconfigurations', ['validatingwebhookconfigurations.admissionregistration.k8s.io'], `${k}/validatingwebhookconfigurations`),
    ...yamlAndWide('k8s mutatingwebhookconfigurations', ['mutatingwebhookconfigurations.admissionregistration.k8s.io'], `${k}/mutatingwebhookconfigurations`),
    ...yamlAndWide('k8s apiservices', ['apiservices.apiregistration.k8s.io'], `${k}/apiservices`),
  ]
}

// ---------- the run ----------

export interface ClusterDiagsOptions extends ClusterDiagsFlags {
  config: DatastoreConfig
  cwd: string
  now: Date
  print: (line: string) => void
}

const names = (listing: string | undefined): string[] => (listing ?? '').split(/\s+/).filter((n) => n !== '')

/** Collects the bundle and writes the archive in `cwd`; resolves with the archive's path. */
export async function runClusterDiags(opts: ClusterDiagsOptions): Promise<string> {
  opts.print('==== Begin collecting diagnostics. ====')
  const tmp = await mkdtemp(join(tmpdir(), 'calico-diags-'))
  opts.print(`Created temporary directory: ${tmp}`)
  // An inline kubeconfig (credentials) gets a file of its own outside the bundle, removed in any case.
  let secretDir: string | undefined
  try {
    let inline: string | undefined
    if (opts.config.datastoreType === 'kubernetes' && opts.config.kubeconfigInline) {
      secretDir = await mkdtemp(join(tmpdir(), 'calico-kubeconfig-'))
      inline = join(secretDir, 'config')
      await writeFile(inline, opts.config.kubeconfigInline, {mode: 0o600})
    }
    const name = bundleName(opts.now)
    const dir = join(tmp, name)
    const conn = kubectlConnection(opts.config, inline)
    const env = {...process.env, ...conn.env}
    // The connection flags go after `kubectl`, never into the bundle's record of what ran (they may hold a token).
    const command = (argv: readonly string[]): readonly string[] => (argv[0] === 'kubectl' ? ['kubectl', ...conn.args, ...argv.slice(1)] : argv)
    const collector = new Collector({dir, print: opts.print, command, env, numbered: true})
    const parallel = (steps: Step[]): Promise<unknown> => collector.run(steps, opts.maxParallelism)
    const kubectlJson = async <T>(args: string[], file: string): Promise<T | undefined> => {
      const out = await collector.query({argv: ['kubectl', ...args, '-o', 'json'], file})
      if (out === undefined) return undefined
      try {
        return JSON.parse(out) as T
      } catch (err) {
        opts.print(`ERROR reading kubectl ${args.join(' ')}: ${(err as Error).message}`)
        return undefined
      }
    }

    // Independent calls run in phases, each at most --max-parallelism at a time.
    const limited = <T>(calls: (() => Promise<T>)[]): Promise<T[]> => mapConcurrent(calls, opts.maxParallelism, (call) => call())
    const [namespaceListing, nodeListing] = await limited([
      () => collector.query({argv: ['kubectl', 'get', 'namespaces', '-o', 'jsonpath={.items[*].metadata.name}'], file: 'namespaces'}),
      () => collector.query({argv: ['kubectl', 'get', 'nodes', '-o', 'jsonpath={.items[*].metadata.name}'], file: 'nodes/nodes'}),
    ])
    const allNamespaces = names(namespaceListing)
    await collectTlsSecrets(opts.print, parallel, new Set(allNamespaces), {command, env})

    // The pods of every Calico workload: the workloads, then their pods, then the pods' logs and descriptions.
    const order = nodeOrder(opts.focusNodes, names(nodeListing))
    const namespaces = diagsNamespaces(allNamespaces)
    for (const ns of namespaces) opts.print(`Collecting detailed diags for namespace ${ns}...`)
    type Workload = {metadata?: {name?: string}; spec?: {selector?: LabelSelector}}
    const lists = await limited(
      namespaces.flatMap((ns) =>
        ['daemonsets', 'deployments', 'statefulsets'].map((kind) => async () => ({ns, list: await kubectlJson<{items?: Workload[]}>(['get', kind, '-n', ns], `nodes/${ns}.${kind}`)})),
      ),
    )
    const workloads: {ns: string; name: string; selector: string}[] = []
    for (const {ns, list} of lists) {
      for (const w of list?.items ?? []) {
        const name = w.metadata?.name ?? ''
        if (!isDiagsWorkload(ns, name)) continue
        try {
          workloads.push({ns, name, selector: selectorString(w.spec?.selector)})
        } catch (err) {
          opts.print(`ERROR forming pod selector: ${(err as Error).message}`)
        }
      }
    }
    const podLists = await limited(
      workloads.map((w) => async () => ({ns: w.ns, pods: await kubectlJson<{items?: KubePod[]}>(['get', 'pods', '-n', w.ns, '-l', w.selector], `nodes/${w.ns}.${w.name}.pods`)})),
    )
    const podStepList: Step[] = []
    for (const {ns, pods} of podLists) {
      for (const pod of selectPods((pods?.items ?? []).map(podInfo), order, opts.maxLogs)) {
        opts.print(`Collecting detailed diags for pod ${pod.name} in namespace ${ns} on node ${pod.node}...`)
        if (pod.name.startsWith('calico-node-') && pod.node !== '') {
          opts.print(`Collecting dataplane diags for calico-node: ${pod.name}`)
          podStepList.push(...calicoNodeSteps(ns, pod.name, pod.node))
        }
        podStepList.push(...podSteps(ns, pod, opts.since))
      }
    }
    await parallel(podStepList)

    opts.print('Collecting kubernetes version...')
    await parallel([{info: 'Collect kubernetes Client and Server version', argv: ['kubectl', 'version', '-o', 'yaml'], file: 'cluster/version.yaml'}])
    const [crdListing, served] = await limited([
      () =>
        collector.query({
          info: 'Collect Calico CRD list',
          argv: ['kubectl', 'get', 'customresourcedefinition', '-o', 'go-template', '--template', CRD_TEMPLATE],
          file: 'cluster/crd/customresourcedefinitions',
        }),
      () => collector.query({argv: ['kubectl', 'api-resources', '--api-group=projectcalico.org', '--no-headers'], file: 'cluster/crd/api-resources'}),
    ])
    const crds = crdSteps(crdListing ?? '')
    await parallel([...crds.steps, ...apiResourceSteps(served ?? '', crds.names)])
    opts.print('Collecting core kubernetes resources...')
    await parallel(clusterSteps())

    await writeFile(join(dir, 'summary.txt'), formatSummary(collector.results))
    opts.print('\n==== Producing a diagnostics bundle. ====')
    const archive = `${name}.tar.gz`
    try {
      await writeTarGz(dir, name, join(opts.cwd, archive))
    } catch (err) {
      throw new Error(`Could not create new archive ${archive}: ${(err as Error).message}`)
    }
    opts.print(`Diagnostic bundle created at ./${archive}`)
    return join(opts.cwd, archive)
  } finally {
    if (secretDir !== undefined) await rm(secretDir, {recursive: true, force: true})
    if (!opts.skipTempDirCleanup) await rm(tmp, {recursive: true, force: true})
  }
}

async function collectTlsSecrets(
  print: (line: string) => void,
  parallel: (steps: Step[]) => Promise<unknown>,
  namespaces: ReadonlySet<string>,
  run: {command: (argv: readonly string[]) => readonly string[]; env: NodeJS.ProcessEnv},
): Promise<void> {
  print('Collecting (censored) TLS secrets')
  const steps: Step[] = tlsSecretTargets(namespaces).map(({name, namespace}) => {
    const argv = ['kubectl', 'get', 'secret', '-n', namespace, name, '-o', 'json']
    return {
      info: `Collecting secret ${namespace}/${name} (censoring sensitive data)`,
      what: argv.join(' '),
      file: `tls/${namespace}_${name}.yaml`,
      produce: async () => {
        const r = await runCommand(run.command(argv), {env: run.env})
        // A secret that does not exist is the usual case (most belong to other products): nothing to record.
        if (r.error !== undefined && /\(NotFound\)/.test(r.stderr)) throw new StepSkipped(`unable to get secret ${namespace}/${name}, skipping...`)
        if (r.error !== undefined) throw new Error(`${r.error}: ${r.stderr.trim()}`)
        // sigs.k8s.io/yaml (calicoctl's) writes keys sorted.
        return yaml.dump(censorSecret(JSON.parse(r.stdout) as KubeSecret), {sortKeys: true, lineWidth: -1})
      },
    }
  })
  await parallel(steps)
}
