// A dataplane for in-process plugin tests (no root): it records what the plugin asked for instead of touching the
// kernel, and can be told to fail. `live` is what a real host would have after the calls so far.
import type {Dataplane, SetupResult, WorkloadNetwork} from '../../src/cni/dataplane.js'
import {CniError} from '../../src/cni/errors.js'

/** The CNI environment the container runtime passes for one pod's eth0 (in-process plugin tests). */
export function cniEnv(command: string, pod: {containerID: string; namespace: string; name: string; cniPath: string}): Record<string, string> {
  return {
    CNI_COMMAND: command,
    CNI_CONTAINERID: pod.containerID,
    CNI_NETNS: '/var/run/netns/test',
    CNI_IFNAME: 'eth0',
    CNI_PATH: pod.cniPath,
    CNI_ARGS: `IgnoreUnknown=1;K8S_POD_NAMESPACE=${pod.namespace};K8S_POD_NAME=${pod.name};K8S_POD_INFRA_CONTAINER_ID=${pod.containerID}`,
  }
}

export class RecordingDataplane implements Dataplane {
  readonly live = new Map<string, WorkloadNetwork>()
  failSetup?: Error
  failCheck?: Error
  teardowns: {hostVeth: string; hostSideToo: boolean}[] = []

  async requireNetns(path: string): Promise<void> {
    if (path.endsWith('/gone')) throw new CniError(3, `failed to open netns "${path}"`)
  }

  async setup(net: WorkloadNetwork): Promise<SetupResult> {
    this.live.set(net.hostVeth, net)
    if (this.failSetup) throw this.failSetup
    return {hostMac: 'ee:ee:ee:ee:ee:ee', containerMac: '02:00:00:00:00:01'}
  }

  async teardown(hostVeth: string, _netns: string, _iface: string, hostSideToo: boolean): Promise<void> {
    this.teardowns.push({hostVeth, hostSideToo})
    if (hostSideToo) this.live.delete(hostVeth)
  }

  async check(net: WorkloadNetwork): Promise<void> {
    if (this.failCheck) throw this.failCheck
    const have = this.live.get(net.hostVeth)
    if (!have) throw new CniError(999, `host interface ${net.hostVeth} does not exist`)
    for (const a of net.addresses) if (!have.addresses.includes(a)) throw new CniError(999, `interface ${net.containerIface} lacks address ${a}`)
  }
}
