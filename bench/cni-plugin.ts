// One CNI ADD and one DEL, process by process, as a kubelet runs them (root: it builds a netns lab on etcd):
// bin/calico run in the node's namespace with `ip netns exec`, wall time and CPU time (task-clock, children such as
// `ip` included) of each plugin process from `perf stat`, which resolves microseconds where GNU time gives
// centiseconds; medians over BENCH_PODS pods. With BENCH_COMPARE=<checkout> (a built copy of another commit,
// e.g. `git archive` of it with node_modules linked) its bin/calico is measured in the same rounds, alternating
// with this one, so load changes fall on both alike; `node -e 0` in the same namespace is the floor (Node's start).
import {join} from 'node:path'
import {Lab, labSkipReason, type LabNode} from '../test/lab/lab.js'
import {ROOT} from '../test/lab/plugin.js'
import {median} from './lib.js'

const PODS = Number(process.env.BENCH_PODS ?? 30)
const COMPARE = process.env.BENCH_COMPARE

interface Sample {
  ms: number
  cpuMs: number
}

/** Runs argv in the node's namespace under `perf stat`; throws with its output when it fails. */
async function timedInNode(lab: Lab, node: LabNode, argv: string[], input: string, env: NodeJS.ProcessEnv): Promise<Sample> {
  const r = await lab.exec(node.netns, ['perf', 'stat', '-x,', '-e', 'task-clock,duration_time', '--', ...argv], input, env)
  if (r.code !== 0) throw new Error(`${argv.join(' ')} exited ${r.code}: ${r.stdout}${r.stderr}`)
  const cpu = /^([\d.]+),msec,task-clock,/m.exec(r.stderr)
  const wall = /^(\d+),ns,duration_time,/m.exec(r.stderr)
  if (!cpu || !wall) throw new Error(`no perf stat figures in: ${r.stderr}`)
  return {ms: Number(wall[1]) / 1e6, cpuMs: Number(cpu[1])}
}

function line(label: string, samples: Sample[], floor: Sample[]): string {
  const ms = median(samples.map((s) => s.ms))
  const cpu = median(samples.map((s) => s.cpuMs))
  const floorMs = median(floor.map((s) => s.ms))
  const floorCpu = median(floor.map((s) => s.cpuMs))
  return `  ${label.padEnd(34)} wall ${ms.toFixed(0).padStart(5)} ms (${(ms / floorMs).toFixed(2)}x)  cpu ${cpu.toFixed(0).padStart(5)} ms (${(cpu / floorCpu).toFixed(2)}x)`
}

const reason = labSkipReason()
if (reason !== undefined) {
  console.log(`bench/cni-plugin: ${reason}`)
} else {
  const lab = await Lab.start({datastore: 'etcd'})
  try {
    await lab.addPool('bench-pool', '10.96.0.0/16', {blockSize: 26})
    const node = await lab.addNode('bench-node')
    const builds = [{name: 'this build', root: ROOT}, ...(COMPARE ? [{name: `compare (${COMPARE})`, root: COMPARE}] : [])]
    const add = builds.map(() => [] as Sample[])
    const del = builds.map(() => [] as Sample[])
    const floor: Sample[] = []
    const conf = JSON.stringify(lab.netConf(node))
    for (let i = 0; i < PODS; i++) {
      floor.push(await timedInNode(lab, node, [process.execPath, '-e', '0'], '', {PATH: process.env.PATH}))
      for (const [b, build] of builds.entries()) {
        const {netns, netnsPath} = await lab.addPodNetns()
        const containerID = `bench-${b}-${i}`
        const env = (command: string): NodeJS.ProcessEnv => ({
          PATH: process.env.PATH,
          CNI_COMMAND: command,
          CNI_CONTAINERID: containerID,
          CNI_NETNS: netnsPath,
          CNI_IFNAME: 'eth0',
          CNI_PATH: join(build.root, 'bin'),
          CNI_ARGS: `IgnoreUnknown=1;K8S_POD_NAMESPACE=bench;K8S_POD_NAME=pod-${b}-${i};K8S_POD_INFRA_CONTAINER_ID=${containerID}`,
        })
        const plugin = [process.execPath, join(build.root, 'bin', 'calico')]
        add[b].push(await timedInNode(lab, node, plugin, conf, env('ADD')))
        del[b].push(await timedInNode(lab, node, plugin, conf, env('DEL')))
        await lab.removeNetns(netns)
      }
    }
    console.log(`CNI plugin processes on etcd, ${PODS} pods (medians; ratios to \`node -e 0\` in the same namespace):`)
    console.log(line('node -e 0 (floor)', floor, floor))
    for (const [b, build] of builds.entries()) {
      console.log(line(`ADD, ${build.name}`, add[b], floor))
      console.log(line(`DEL, ${build.name}`, del[b], floor))
    }
  } finally {
    await lab.destroy()
  }
}
