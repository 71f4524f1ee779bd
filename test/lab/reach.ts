// Reachability checks for lab tests: probes from several namespaces at once, and waiting until the measured
// reachability converges to what a test expects (the agent programs the kernel asynchronously after a datastore
// change, so a single measurement right after a write could see the previous rules).
import type {Lab} from './lab.js'

/** From where, to which address and port, over which protocol. */
export type Probe = readonly [from: {netns: string; name: string}, address: string, port: number, proto: 'tcp' | 'udp']

/** One boolean per probe, in order; probes from the same namespace run in one helper process. */
export async function measure(lab: Lab, probes: readonly Probe[], timeoutMs = 700): Promise<boolean[]> {
  const bySource = new Map<string, {from: Probe[0]; indexes: number[]}>()
  probes.forEach(([from], i) => {
    const g = bySource.get(from.netns) ?? {from, indexes: []}
    g.indexes.push(i)
    bySource.set(from.netns, g)
  })
  const out: boolean[] = new Array(probes.length).fill(false)
  await Promise.all(
    [...bySource.values()].map(async ({from, indexes}) => {
      const res = await lab.probe(from, indexes.map((i) => {
        const [, address, port, proto] = probes[i]!
        return [address, port, proto] as const
      }), timeoutMs)
      indexes.forEach((i, j) => (out[i] = res[j]!))
    }),
  )
  return out
}

/** Probe timeout between pods of one node: an open path answers well within it even on a loaded machine. */
export const POD_PROBE_TIMEOUT_MS = 400

/** Whether `from` reaches `to`'s first address on a TCP port, by one probe (no waiting for convergence). */
export async function reaches(lab: Lab, from: {netns: string}, to: {ips: readonly string[]}, port: number, timeoutMs = POD_PROBE_TIMEOUT_MS): Promise<boolean> {
  const [ok] = await lab.probe(from, [[to.ips[0]!, port, 'tcp']], timeoutMs)
  return ok!
}

export function describeProbe([from, address, port, proto]: Probe): string {
  return `${from.name} → ${address}:${port}/${proto}`
}

/**
 * Measures until every probe gives the wanted result or `timeoutMs` passes. Returns the mismatches of the last
 * measurement (empty when it converged), e.g. `remote → 192.168.77.1:22/tcp: want open, got closed`.
 */
export async function untilReach(lab: Lab, probes: readonly Probe[], want: readonly boolean[], timeoutMs = 10_000): Promise<string[]> {
  if (want.length !== probes.length) throw new Error(`untilReach: ${probes.length} probes but ${want.length} expectations`)
  const end = Date.now() + timeoutMs
  for (;;) {
    const got = await measure(lab, probes)
    const diff = probes.flatMap((p, i) => (got[i] === want[i] ? [] : [`${describeProbe(p)}: want ${want[i] ? 'open' : 'closed'}, got ${got[i] ? 'open' : 'closed'}`]))
    if (diff.length === 0 || Date.now() > end) return diff
    await new Promise((r) => setTimeout(r, 200))
  }
}

/**
 * Probes every pod from every other, one source at a time, over TCP and UDP on `port` (to each of a pod's addresses,
 * or to its first only) and lists the failures as `from -> address/proto`: none when the pods form a full mesh.
 * One measurement, no waiting for convergence (for pods wired by CNI, which needs no agent to reach each other).
 */
export async function meshFailures(
  lab: Lab,
  pods: readonly {netns: string; name: string; ips: readonly string[]}[],
  port: number,
  opts: {timeoutMs: number; addresses: 'all' | 'first'},
): Promise<string[]> {
  const failures: string[] = []
  for (const from of pods) {
    const targets = pods
      .filter((p) => p !== from)
      .flatMap((p) => (opts.addresses === 'all' ? p.ips : p.ips.slice(0, 1)).flatMap((ip) => [[ip, port, 'tcp'] as const, [ip, port, 'udp'] as const]))
    const res = await lab.probe(from, targets, opts.timeoutMs)
    res.forEach((ok, i) => {
      if (!ok) failures.push(`${from.name} -> ${targets[i]![0]}/${targets[i]![2]}`)
    })
  }
  return failures
}
