// `calicoctl node checksystem` for this agent: instead of calicoctl's iptables-era module list, it asks the kernel
// directly whether every nftables feature the rendered table uses is available (each probe is an `nft --check`
// transaction, validated by the kernel and never committed), and checks the kernel version, tools and sysctls.
import {readFile} from 'node:fs/promises'
import {renderFullScript, renderTable} from '../dataplane/nftables/index.js'
import {computePolicyState} from '../dataplane/calc/index.js'
import {run} from '../dataplane/linux/exec.js'
import {Nft} from '../dataplane/linux/nft.js'

export type CheckStatus = 'OK' | 'FAIL' | 'SKIP'

export interface CheckResult {
  group: string
  name: string
  status: CheckStatus
  /** Why it failed (the kernel's or tool's message), for the report. */
  detail?: string
  /** Optional features only warn. */
  optional?: boolean
}

/** Felix's minimum for its nftables mode (felix-dataplane.md §2.8): inet vmaps, fib and ct status all work there. */
export const MIN_KERNEL: readonly [number, number] = [5, 13]

/** `6.1.0-18-amd64` → [6, 1]; undefined when unparseable. */
export function kernelVersion(release: string): [number, number] | undefined {
  const m = /^(\d+)\.(\d+)/.exec(release.trim())
  return m ? [Number(m[1]), Number(m[2])] : undefined
}

export function versionAtLeast(v: readonly [number, number], min: readonly [number, number]): boolean {
  return v[0] > min[0] || (v[0] === min[0] && v[1] >= min[1])
}

/** The nftables features the agent's table uses, each as a self-contained transaction in a scratch table. */
export function featureProbes(table: string): {name: string; script: string; optional?: boolean}[] {
  const t = `inet ${table}`
  const base = `add table ${t}\nadd chain ${t} c\n`
  const rule = (r: string): string => `${base}add rule ${t} c ${r}\n`
  return [
    {name: 'nf_tables (inet)', script: `add table ${t}\n`},
    {name: 'interval sets', script: `add table ${t}\nadd set ${t} s { type ipv4_addr; flags interval; }\nadd element ${t} s { 10.0.0.0/8 }\n`},
    {name: 'concatenated sets', script: `add table ${t}\nadd set ${t} s { type ipv4_addr . inet_proto . inet_service; }\nadd element ${t} s { 10.0.0.1 . tcp . 80 }\n`},
    {name: 'verdict maps', script: `${base}add map ${t} m { type ifname : verdict; }\nadd element ${t} m { "cali0" : goto c }\n`},
    {name: 'conntrack (nft_ct)', script: rule('ct state established,related accept')},
    {name: 'ct status dnat', script: rule('ct status dnat accept')},
    {name: 'meta mark', script: rule('meta mark set mark or 0x10000')},
    {name: 'fib (nft_fib_inet)', script: `add table ${t}\nadd chain ${t} p { type filter hook prerouting priority -300; policy accept; }\nadd rule ${t} p fib saddr . mark . iif oif missing drop\n`},
    {name: 'reject (nft_reject)', script: `add table ${t}\nadd chain ${t} f { type filter hook forward priority 0; policy accept; }\nadd rule ${t} f reject\n`},
    {name: 'notrack', script: `add table ${t}\nadd chain ${t} r { type filter hook prerouting priority -300; policy accept; }\nadd rule ${t} r notrack\n`},
    // IP pools' natOutgoing: an inet nat base chain (nft_chain_nat) whose rule masquerades (nft_masq).
    {name: 'masquerade (nft_masq)', script: `add table ${t}\nadd set ${t} s { type ipv4_addr; flags interval; }\nadd chain ${t} n { type nat hook postrouting priority 110; policy accept; }\nadd rule ${t} n ip saddr @s ip daddr != @s masquerade\n`},
    {name: 'log (nft_log)', script: rule('log prefix "calico-check"'), optional: true},
  ]
}

export async function checkSystem(): Promise<CheckResult[]> {
  const results: CheckResult[] = []
  const release = (await readFile('/proc/sys/kernel/osrelease', 'utf8').catch(() => '')).trim()
  const v = kernelVersion(release)
  results.push({
    group: 'kernel version',
    name: release || 'unknown',
    status: v && versionAtLeast(v, MIN_KERNEL) ? 'OK' : 'FAIL',
    detail: v && versionAtLeast(v, MIN_KERNEL) ? undefined : `Minimum kernel version to run Calico is ${MIN_KERNEL.join('.')}. Detected kernel version: ${release || 'unknown'}`,
  })

  const nft = new Nft()
  let nftOk = true
  for (const [tool, args] of [['nft', ['--version']], ['ip', ['-V']]] as const) {
    try {
      const out = (await run(tool, args)).stdout.trim()
      results.push({group: 'tools', name: tool, status: 'OK', detail: out})
    } catch (err) {
      if (tool === 'nft') nftOk = false
      results.push({group: 'tools', name: tool, status: 'FAIL', detail: (err as Error).message})
    }
  }

  const scratch = `calico-check-${process.pid}`
  for (const p of featureProbes(scratch)) {
    if (!nftOk) {
      results.push({group: 'nftables features', name: p.name, status: 'SKIP', optional: p.optional})
      continue
    }
    try {
      await nft.check(p.script)
      results.push({group: 'nftables features', name: p.name, status: 'OK', optional: p.optional})
    } catch (err) {
      results.push({group: 'nftables features', name: p.name, status: 'FAIL', optional: p.optional, detail: (err as Error).message})
    }
  }
  // The whole start-up table the agent would program on a cluster holding only calico/node's default pool (which has
  // natOutgoing; here with VXLAN too, and this node with a VTEP address, for VXLAN's rules), in a scratch table.
  if (nftOk) {
    const v3 = 'projectcalico.org/v3'
    const state = computePolicyState('checksystem', [
      {apiVersion: v3, kind: 'IPPool', metadata: {name: 'default-ipv4-ippool'}, spec: {cidr: '192.168.0.0/16', natOutgoing: true, vxlanMode: 'Always'}},
      {apiVersion: v3, kind: 'Node', metadata: {name: 'checksystem'}, spec: {ipv4VXLANTunnelAddr: '192.168.0.1'}},
    ])
    const script = renderFullScript(renderTable(state, {tableName: scratch}))
    try {
      await nft.check(script)
      results.push({group: 'nftables features', name: 'agent ruleset', status: 'OK'})
    } catch (err) {
      results.push({group: 'nftables features', name: 'agent ruleset', status: 'FAIL', detail: (err as Error).message})
    }
  }

  for (const path of ['/proc/sys/net/ipv4/ip_forward', '/proc/sys/net/ipv4/conf/all/rp_filter']) {
    const exists = await readFile(path, 'utf8').then(() => true, () => false)
    results.push({group: 'sysctls', name: path.replace('/proc/sys/', '').replaceAll('/', '.'), status: exists ? 'OK' : 'FAIL'})
  }
  return results
}

/** calicoctl's layout: a heading per group, then `\t\t%-20s\t\t\t\t\t%s` lines, warnings for what failed. */
export function formatCheckResults(results: readonly CheckResult[]): {text: string; ok: boolean} {
  const lines: string[] = []
  let group = ''
  for (const r of results) {
    if (r.group !== group) {
      group = r.group
      lines.push(`Checking ${group}...`)
    }
    lines.push(`\t\t${r.name.padEnd(20)}\t\t\t\t\t${r.status}`)
    if (r.status === 'FAIL') {
      const why = r.detail ? `: ${r.detail.split('\n').find((l) => l.trim() !== '')?.trim() ?? ''}` : ''
      lines.push(r.optional ? `WARNING: Unable to detect optional module/feature ${r.name}; continuing${why}` : `WARNING: Unable to detect ${r.name}${why}`)
    }
  }
  const ok = results.every((r) => r.status !== 'FAIL' || r.optional)
  if (ok) lines.push('System meets minimum system requirements to run Calico!')
  return {text: `${lines.join('\n')}\n`, ok}
}
