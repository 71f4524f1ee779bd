// The two plugins' commands. `calico` (cni-plugin/pkg/plugin, pkg/k8s): ADD assigns addresses (for a Kubernetes pod
// in Calico's k8s policy mode as the Pod's and Namespace's annotations direct), plumbs the veth and writes the
// WorkloadEndpoint (on the Kubernetes datastore: annotates the Pod, whose view the endpoint is); DEL undoes all of
// it idempotently; CHECK verifies it against prevResult.
// `calico-ipam` (pkg/ipamplugin): the same address management as a standalone IPAM plugin. I/O is reached only
// through PluginDeps, so the orchestration is testable without root.
import {ResourceDoesNotExistError, ResourceUpdateConflictError} from '../api/errors.js'
import {hostCIDRText} from '../api/net.js'
import type {Resource} from '../api/resource.js'
import type {Backend} from '../datastore/backend.js'
import {ResourceClient} from '../datastore/client.js'
import {IPAMClient} from '../ipam/index.js'
import {addressSource, allowedSourcePrefixes, checkFloatingIPs, ipamForPod, requestedMAC, type AddressSource} from './annotations.js'
import type {CniEnv, NetConf} from './config.js'
import {DEFAULT_ROUTES, type Dataplane} from './dataplane.js'
import {determineMTU, determineNodename} from './datastore.js'
import {execPlugin, findPlugin} from './delegate.js'
import {buildWorkloadEndpoint} from './endpoint.js'
import {CNI_CODES, CniError} from './errors.js'
import {HOST_LOCAL, hostLocalRoutes, podCIDRsByFamily, RELEASE_POD_CIDRS, usesPodCIDR, withPodCIDRs} from './hostlocal.js'
import {ipamAdd, ipamCheck, ipamDel, ipamReleaseIPs, type IpamRelease, type IpamRequest} from './ipam.js'
import {isVirtLauncher, vmHandleID, vmiInfoForPod, type VmiInfo} from './kubevirt.js'
import type {Logger} from './log.js'
import {hostVethName, ipamHandleID, wepName, workloadIdentifiers, type WorkloadIdentifiers} from './names.js'
import {ApiNotFoundError, podFacts, readsNamespaceForIpam, readsPod, withPodReader, type PodFacts} from './pods.js'
import {decodeResult, encodeResult, type CniIPConfig, type DecodedResult} from './result.js'

export const CALICO_IPAM = 'calico-ipam'

export interface PluginDeps {
  openBackend(conf: NetConf): Promise<Backend>
  dataplane: Dataplane
  log: Logger
  /** The raw stdin and environment, for handing to a delegated IPAM plugin unchanged. */
  stdin: string
  processEnv: NodeJS.ProcessEnv
  now?: () => Date
}

interface Context {
  conf: NetConf
  env: CniEnv
  ids: WorkloadIdentifiers
  handleID: string
  backend: Backend
  deps: PluginDeps
  /** The pod's namespace labels when the API server was asked (IP pools' namespaceSelector). */
  namespaceLabels?: Record<string, string>
  /** The KubeVirt VM the pod runs, looked up once per invocation (see podVm). */
  vm?: Promise<PodVm | undefined>
}

/** A KubeVirt VM pod, and whether IPAMConfig keeps its VM's addresses across pods (kubeVirtVMAddressPersistence). */
interface PodVm {
  info: VmiInfo
  persist: boolean
}

async function withContext<T>(conf: NetConf, env: CniEnv, deps: PluginDeps, fn: (ctx: Context) => Promise<T>): Promise<T> {
  const ids = workloadIdentifiers(env, determineNodename(conf))
  const backend = await deps.openBackend(conf)
  try {
    return await fn({conf, env, ids, handleID: ipamHandleID(conf.name, env.containerID), backend, deps})
  } finally {
    await backend.close().catch(() => undefined)
  }
}

// ------------------------------------------------------------------ IPAM (in-process or delegated)

/** Calico IPAM for this container: auto-assignment, or the addresses given (CNI_ARGS `IP=`, the `ipAddrs` annotation). */
async function calicoIpamAdd(ctx: Context, requestedIPs?: readonly string[]): Promise<CniIPConfig[]> {
  const {conf, env, deps} = ctx
  const vm = await podVm(ctx)
  if (vm !== undefined && vm.info.migrationJobUID !== '' && !vm.persist) {
    throw new CniError(CNI_CODES.internal, 'live migration target pod is not allowed when KubeVirtVMAddressPersistence is disabled')
  }
  const req: IpamRequest = {conf, ids: ctx.ids, handleID: await ipamHandle(ctx), now: deps.now?.() ?? new Date()}
  if (vm?.persist) req.vm = vm.info
  if (requestedIPs !== undefined) req.requestedIPs = requestedIPs
  else if (env.args.IP) req.requestedIPs = [env.args.IP]
  else {
    const labels = await ipamNamespaceLabels(ctx)
    if (labels !== undefined) req.namespaceLabels = labels
  }
  return ipamAdd(ctx.backend, req, deps.log)
}

/** The KubeVirt VM a virt-launcher pod runs (ipamplugin getVMIInfoForPod, getKubeVirtVMAddressPersistence). */
function podVm(ctx: Context): Promise<PodVm | undefined> {
  ctx.vm ??= (async () => {
    if (!isVirtLauncher(ctx.ids)) return undefined
    let info: VmiInfo | undefined
    try {
      info = await withPodReader(ctx.conf, ctx.backend, (reader) => vmiInfoForPod(reader, ctx.ids))
    } catch (err) {
      if (err instanceof ApiNotFoundError) throw err
      throw new CniError(err instanceof CniError ? err.code : CNI_CODES.internal, `failed to get VMI info: ${(err as Error).message}`)
    }
    if (info === undefined) return undefined
    // Persistence is on unless IPAMConfig turns it off; an unreadable configuration counts as the default.
    const config = await new IPAMClient(ctx.backend).getIPAMConfig().catch(() => undefined)
    return {info, persist: config?.kubeVirtVMAddressPersistence !== 'Disabled'}
  })()
  return ctx.vm
}

/** The IPAM handle of the container's addresses: its VM's when they persist, else the container's own. */
async function ipamHandle(ctx: Context): Promise<string> {
  const vm = await podVm(ctx)
  return vm?.persist ? vmHandleID(ctx.conf.name, vm.info.namespace, vm.info.name) : ctx.handleID
}

/** A live-migration target's addresses are still routed to its source pod until the migration completes. */
async function migrationTarget(ctx: Context): Promise<boolean> {
  const vm = await podVm(ctx)
  return vm?.persist === true && vm.info.migrationJobUID !== ''
}

/** What DEL releases; undefined when a VM pod is already gone, which leaves nothing to clean up (ipamplugin cmdDel). */
async function ipamRelease(ctx: Context): Promise<IpamRelease | undefined> {
  const {ids} = ctx
  let vm: PodVm | undefined
  try {
    vm = await podVm(ctx)
  } catch (err) {
    if (!(err instanceof ApiNotFoundError)) throw err
    ctx.deps.log.info('pod already deleted; nothing to clean up', {pod: ids.pod})
    return undefined
  }
  const release: IpamRelease = {handleID: await ipamHandle(ctx), legacyHandleID: ids.orchestrator === 'k8s' ? `${ids.namespace}.${ids.pod}` : ids.containerID}
  if (vm?.persist) release.vm = {info: vm.info, pod: {namespace: ids.namespace, name: ids.pod}}
  return release
}

/**
 * The namespace's labels for IP pools' namespaceSelector: those read with the pod, else read now when calico-ipam
 * would read them (it has Kubernetes access), else none.
 */
async function ipamNamespaceLabels(ctx: Context): Promise<Record<string, string> | undefined> {
  if (ctx.namespaceLabels !== undefined) return ctx.namespaceLabels
  if (!readsNamespaceForIpam(ctx.conf, ctx.ids)) return undefined
  const {namespace} = ctx.ids
  try {
    return await withPodReader(ctx.conf, ctx.backend, async (reader) => (await reader.readNamespace(namespace)).labels)
  } catch (err) {
    throw new CniError(err instanceof CniError ? err.code : CNI_CODES.internal, `failed to get namespace ${namespace}: ${(err as Error).message}`)
  }
}

/**
 * The network configuration a delegated IPAM plugin is given: as received, except that host-local's `usePodCidr`
 * subnets become the Node's pod CIDRs for a Kubernetes pod's ADD, and a placeholder for DEL and CHECK, which
 * host-local answers by container ID (Calico's CmdAddK8s and DeleteIPAM).
 */
async function delegatedIpamStdin(ctx: Context, command: 'ADD' | 'DEL' | 'CHECK'): Promise<string> {
  const {conf, ids, deps} = ctx
  if (conf.ipam.type !== HOST_LOCAL || !usesPodCIDR(conf.raw)) return deps.stdin
  if (command !== 'ADD') return JSON.stringify(withPodCIDRs(conf.raw, RELEASE_POD_CIDRS))
  if (ids.orchestrator !== 'k8s') return deps.stdin
  const node = conf.k8sNodeName ?? ids.node
  const cidrs = podCIDRsByFamily(node, await withPodReader(conf, ctx.backend, (reader) => reader.readNodePodCIDRs(node)))
  deps.log.info('passing the pod CIDR to host-local', {node, ...cidrs})
  return JSON.stringify(withPodCIDRs(conf.raw, cidrs))
}

async function assignAddresses(ctx: Context): Promise<CniIPConfig[]> {
  const {conf, env, deps} = ctx
  if (conf.ipam.type === CALICO_IPAM) return calicoIpamAdd(ctx)
  const stdin = await delegatedIpamStdin(ctx, 'ADD')
  const result = decodeResult(await execPlugin(findPlugin(conf.ipam.type, env.path), 'ADD', deps.processEnv, stdin))
  if (!result || result.ips.length === 0) throw new CniError(CNI_CODES.internal, `IPAM plugin ${conf.ipam.type} returned no addresses`)
  return result.ips
}

/**
 * The pod's addresses from where its annotations say (k8s CmdAddK8s): IPAM as configured, the `ipAddrs` addresses
 * through Calico IPAM (after releasing what the pod's endpoint held before), or the `ipAddrsNoIpam` ones as given.
 */
async function podAddresses(ctx: Context, source: AddressSource): Promise<CniIPConfig[]> {
  switch (source.kind) {
    case 'ipam':
      return assignAddresses(ctx)
    case 'noIpam':
      return source.ips.map((ip) => ({address: hostCIDRText(ip)}))
    case 'ipAddrs': {
      const previous = await getEndpoint(new ResourceClient(ctx.backend), ctx.ids)
      const nets = (previous?.spec as {ipNetworks?: unknown} | undefined)?.ipNetworks
      if (Array.isArray(nets)) await ipamReleaseIPs(ctx.backend, nets.map(String), ctx.deps.log)
      try {
        return await calicoIpamAdd(ctx, source.ips)
      } catch (err) {
        throw new CniError(err instanceof CniError ? err.code : CNI_CODES.internal, `error getting IP from IPAM: ${(err as Error).message}`)
      }
    }
  }
}

async function releaseAddresses(ctx: Context): Promise<void> {
  const {conf, env, deps} = ctx
  if (conf.ipam.type === CALICO_IPAM) {
    const release = await ipamRelease(ctx)
    return release && ipamDel(ctx.backend, release, deps.log)
  }
  await execPlugin(findPlugin(conf.ipam.type, env.path), 'DEL', deps.processEnv, await delegatedIpamStdin(ctx, 'DEL'))
}

// ------------------------------------------------------------------ calico

/**
 * The routes inside a Kubernetes pod (CmdAddK8s): host-local's own `routes` when it names any (with the defaults
 * first under `include_default_routes`), else the defaults (undefined).
 */
function containerRoutes(conf: NetConf, ids: WorkloadIdentifiers): string[] | undefined {
  if (ids.orchestrator !== 'k8s' || conf.ipam.type !== HOST_LOCAL) return undefined
  const routes = hostLocalRoutes(conf.raw)
  if (routes.length === 0) return undefined
  return conf.includeDefaultRoutes ? [...DEFAULT_ROUTES, ...routes] : routes
}

/** The pod's facts: from the API server in Calico's k8s policy mode, else from the configuration (see pods.ts). */
async function readPodFacts(conf: NetConf, ctx: Context): Promise<PodFacts> {
  if (!readsPod(conf, ctx.ids)) return podFacts(conf, ctx.ids, undefined)
  return withPodReader(conf, ctx.backend, (reader) => podFacts(conf, ctx.ids, reader))
}

/** ADD: the CNI result, already in the configuration's cniVersion. */
export async function cmdAdd(conf: NetConf, env: CniEnv, deps: PluginDeps): Promise<Record<string, unknown>> {
  return withContext(conf, env, deps, async (base) => {
    const {ids, backend, deps: {log}} = base
    const started = Date.now()
    await deps.dataplane.requireNetns(env.netns)
    const pod = await readPodFacts(conf, base)
    // Everything the annotations decide is checked before an address is taken, so a refusal leaves nothing to undo.
    const ctx: Context = {...base, conf: {...conf, ipam: ipamForPod(conf.ipam, pod.namespaceAnnotations, pod.annotations)}}
    if (pod.namespaceLabels !== undefined) ctx.namespaceLabels = pod.namespaceLabels
    const source = addressSource(ctx.conf, pod.annotations)
    checkFloatingIPs(ctx.conf, pod.annotations)
    const spoofable = allowedSourcePrefixes(pod.annotations)
    const mac = requestedMAC(pod.annotations)
    const routes = containerRoutes(conf, ids)
    const assigned = await podAddresses(ctx, source)
    const addresses = assigned.map((ip) => hostCIDRText(ip.address))
    const hostRoutes = ctx.conf.ipam.type === CALICO_IPAM && (await migrationTarget(ctx)) ? {hostRoutes: false} : {}
    const hostVeth = hostVethName(ids)
    log.info('assigned addresses', {workload: wepName(ids), addresses, source: source.kind, ms: Date.now() - started})
    let plumbing = false
    try {
      const mtu = determineMTU(conf)
      plumbing = true
      const links = await deps.dataplane.setup({hostVeth, containerNetns: env.netns, containerIface: env.ifName, mtu, addresses, ...hostRoutes, ...(routes ? {routes} : {}), ...(mac ? {containerMac: mac} : {})})
      log.debug('interfaces ready', {hostVeth, ms: Date.now() - started})
      // On the Kubernetes datastore this write is a patch of the Pod's annotations (podIP, podIPs, containerID):
      // the endpoint itself is derived from the Pod.
      const wep = buildWorkloadEndpoint(ids, {...pod, allowSpoofedSourcePrefixes: spoofable}, {hostName: hostVeth, mac: links.containerMac, ipNetworks: addresses}, conf.name)
      await new ResourceClient(backend).apply(wep)
      log.debug('endpoint written', {workload: wep.metadata.name, ms: Date.now() - started})
      return encodeResult(
        {
          interfaces: [{name: hostVeth, mac: links.hostMac}, {name: env.ifName, mac: links.containerMac, sandbox: env.netns}],
          ips: addresses.map((address) => ({address, interface: 1})),
          dns: {},
        },
        conf.cniVersion,
      )
    } catch (err) {
      // Leave nothing behind: the runtime will DEL or retry the ADD, and neither may find half a workload.
      log.error('ADD failed; cleaning up', {error: String(err)})
      if (plumbing) await deps.dataplane.teardown(hostVeth, env.netns, env.ifName, true).catch((e) => log.error('cleanup of interfaces failed', {error: String(e)}))
      if (source.kind !== 'noIpam') await releaseAddresses(ctx).catch((e) => log.error('releasing addresses failed', {error: String(e)}))
      throw err
    }
  })
}

async function getEndpoint(client: ResourceClient, ids: WorkloadIdentifiers): Promise<Resource | undefined> {
  try {
    return await client.get('WorkloadEndpoint', wepName(ids), ids.namespace)
  } catch (err) {
    if (err instanceof ResourceDoesNotExistError) return undefined
    throw err
  }
}

/** DEL: idempotent; what is already gone is not an error. */
export async function cmdDel(conf: NetConf, env: CniEnv, deps: PluginDeps): Promise<void> {
  await withContext(conf, env, deps, async (ctx) => {
    const {ids} = ctx
    const ours = await deleteEndpoint(ctx)
    await releaseAddresses(ctx)
    await deps.dataplane.teardown(hostVethName(ids), env.netns, env.ifName, ours)
  })
}

/** A conditional delete that keeps losing to other writers gives up after this many tries (k8s CmdDelK8s). */
const ENDPOINT_DELETE_ATTEMPTS = 6

/**
 * Deletes the container's endpoint when it is this container's, conditional on the revision read (on the
 * Kubernetes datastore: empties the Pod's address annotations if the Pod is still the one read). A concurrent
 * change means reading again. Returns whether the endpoint was ours (or gone): only then is the host veth ours.
 */
async function deleteEndpoint(ctx: Context): Promise<boolean> {
  const {ids, env, deps: {log}} = ctx
  const client = new ResourceClient(ctx.backend)
  for (let attempt = 1; ; attempt++) {
    const wep = await getEndpoint(client, ids)
    if (wep === undefined) return true
    const owner = (wep.spec as {containerID?: unknown} | undefined)?.containerID
    // A pod recreated under the same name has a new container: its endpoint and host veth are not ours to remove.
    if (owner !== undefined && owner !== '' && owner !== env.containerID) {
      log.warning('endpoint belongs to another container; leaving it', {workload: wepName(ids), owner: String(owner)})
      return false
    }
    try {
      await client.delete('WorkloadEndpoint', wep.metadata.name ?? '', ids.namespace, {resourceVersion: wep.metadata.resourceVersion})
      return true
    } catch (err) {
      if (err instanceof ResourceDoesNotExistError) return true
      if (!(err instanceof ResourceUpdateConflictError)) throw err
      if (attempt === ENDPOINT_DELETE_ATTEMPTS) {
        throw new CniError(CNI_CODES.tryAgainLater, `error deleting endpoint: endpoint was modified before it could be deleted: ${err.message}`)
      }
      log.info('endpoint changed before it could be deleted; reading it again', {workload: wepName(ids), attempt})
    }
  }
}

/** CHECK needs a version that has it (0.4.0+) and the result being checked. */
function requirePrevResult(conf: NetConf): DecodedResult {
  if (conf.cniVersion !== '0.4.0' && conf.cniVersion !== '1.0.0') {
    throw new CniError(CNI_CODES.incompatibleVersion, 'config version does not allow CHECK', `config is "${conf.cniVersion}"`)
  }
  const prev = decodeResult(conf.prevResult)
  if (!prev) throw new CniError(CNI_CODES.invalidNetworkConfig, 'Required prevResult missing')
  return prev
}

/** The addresses prevResult gives the container's interface (all of them when interfaces are not indexed). */
function prevResultAddresses(conf: NetConf, env: CniEnv): string[] {
  const prev = requirePrevResult(conf)
  return prev.ips
    .filter((ip) => {
      const iface = ip.interface === undefined ? undefined : prev.interfaces[ip.interface]
      return iface === undefined || iface.name === env.ifName
    })
    .map((ip) => ip.address)
}

/** CHECK: the interfaces, routes, endpoint and IPAM allocation prevResult describes all exist. */
export async function cmdCheck(conf: NetConf, env: CniEnv, deps: PluginDeps): Promise<void> {
  const expected = prevResultAddresses(conf, env).map(hostCIDRText)
  await withContext(conf, env, deps, async (ctx) => {
    const {ids} = ctx
    const hostVeth = hostVethName(ids)
    const routes = containerRoutes(conf, ids)
    const hostRoutes = conf.ipam.type === CALICO_IPAM && (await migrationTarget(ctx)) ? {hostRoutes: false} : {}
    await deps.dataplane.check({hostVeth, containerNetns: env.netns, containerIface: env.ifName, mtu: determineMTU(conf), addresses: expected, ...hostRoutes, ...(routes ? {routes} : {})})
    const wep = await getEndpoint(new ResourceClient(ctx.backend), ids)
    if (!wep) throw new CniError(CNI_CODES.internal, `WorkloadEndpoint ${ids.namespace}/${wepName(ids)} does not exist`)
    const spec = wep.spec as {interfaceName?: unknown; ipNetworks?: unknown}
    if (spec.interfaceName !== hostVeth) throw new CniError(CNI_CODES.internal, `WorkloadEndpoint interface is ${String(spec.interfaceName)}, expected ${hostVeth}`)
    const nets = Array.isArray(spec.ipNetworks) ? spec.ipNetworks.map(String) : []
    for (const cidr of expected) if (!nets.includes(cidr)) throw new CniError(CNI_CODES.internal, `WorkloadEndpoint lacks address ${cidr}`)
    if (conf.ipam.type === CALICO_IPAM) await ipamCheck(ctx.backend, await ipamHandle(ctx), expected)
    else await execPlugin(findPlugin(conf.ipam.type, env.path), 'CHECK', deps.processEnv, await delegatedIpamStdin(ctx, 'CHECK'))
  })
}

// ------------------------------------------------------------------ calico-ipam

/** calico-ipam ADD: the IPAM result (addresses with their block prefix, a route to each). */
export async function ipamPluginAdd(conf: NetConf, env: CniEnv, deps: PluginDeps): Promise<Record<string, unknown>> {
  return withContext(conf, env, deps, async (ctx) => {
    const ips = await calicoIpamAdd(ctx)
    // A migration target gets no routes, which tells the calico plugin to leave the host routes to the source pod.
    const routes = (await migrationTarget(ctx)) ? [] : ips.map((ip) => ({dst: ip.address}))
    return encodeResult({ips, routes, dns: {}}, conf.cniVersion)
  })
}

export async function ipamPluginDel(conf: NetConf, env: CniEnv, deps: PluginDeps): Promise<void> {
  await withContext(conf, env, deps, async (ctx) => {
    const release = await ipamRelease(ctx)
    if (release) await ipamDel(ctx.backend, release, deps.log)
  })
}

export async function ipamPluginCheck(conf: NetConf, env: CniEnv, deps: PluginDeps): Promise<void> {
  const prev = requirePrevResult(conf)
  await withContext(conf, env, deps, async (ctx) => ipamCheck(ctx.backend, await ipamHandle(ctx), prev.ips.map((ip) => ip.address)))
}
