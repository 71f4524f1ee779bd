// The plan of `calicoctl node diags`: calicoctl's steps and file names, what is skipped when a tool is missing, and
// the archive's name.
import {describe, expect, it} from 'vitest'

import {describeStep} from '../../src/cli/diags/collect.js'
import {localStamp, nodeDiagsSteps, type NodeProbes} from '../../src/cli/diags/node.js'

function probes(tools: readonly string[], logDirProblem?: string): NodeProbes {
  const unused = (): Promise<string> => Promise.reject(new Error('not run by the plan'))
  return {hasTool: (t) => tools.includes(t), agent: unused, nodeStatus: unused, checksystem: unused, sysctls: unused, logDirProblem}
}

describe('nodeDiagsSteps', () => {
  it("lists calicoctl's commands and files, then the agent's endpoints, node status, checksystem, sysctls and logs", () => {
    const steps = nodeDiagsSteps(probes(['iptables-save', 'ip6tables-save', 'ipset', 'journalctl', 'ss']), '/var/log/calico')
    expect(steps.map((s) => [s.file, describeStep(s)])).toEqual([
      ['date', 'date'],
      ['hostname', 'hostname'],
      ['ipv4_route', 'ip -4 route'],
      ['ipv6_route', 'ip -6 route'],
      ['ipv4_addr', 'ip -4 addr'],
      ['ipv6_addr', 'ip -6 addr'],
      ['ipv4_rule', 'ip -4 rule'],
      ['ipv6_rule', 'ip -6 rule'],
      ['ip_link', 'ip -d link'],
      ['nft_ruleset', 'nft -n -a list ruleset'],
      ['ipv4_tables', 'iptables-save -c'],
      ['ipv6_tables', 'ip6tables-save -c'],
      ['ipsets', 'ipset list'],
      ['journalctl_calico_node', 'journalctl -u calico-node.service --no-pager'],
      ['ss', 'ss -a -n'],
      ['agent_readiness', 'GET http://localhost:9099/readiness'],
      ['agent_metrics', 'GET http://localhost:9091/metrics'],
      ['node_status', 'calicoctl node status'],
      ['checksystem', 'calicoctl node checksystem'],
      ['sysctls', 'read /proc/sys (9 keys)'],
      ['logs', 'copy /var/log/calico'],
    ])
    expect(steps.every((s) => s.unavailable === undefined)).toBe(true)
    expect(steps.find((s) => s.file === 'nft_ruleset')?.info).toBe('Dumping nftables')
  })

  it('skips the optional tools that are not installed, but always runs the ones the agent needs', () => {
    const steps = nodeDiagsSteps(probes([]), '/var/log/calico')
    const skipped = Object.fromEntries(steps.filter((s) => s.unavailable !== undefined).map((s) => [s.file, s.unavailable]))
    expect(skipped).toEqual({
      ipv4_tables: 'iptables-save is not installed (not found in $PATH)',
      ipv6_tables: 'ip6tables-save is not installed (not found in $PATH)',
      ipsets: 'ipset is not installed (not found in $PATH)',
      journalctl_calico_node: 'journalctl is not installed (not found in $PATH)',
    })
    // Without ss or netstat, ss is still tried, so its absence is recorded as a failure.
    expect(steps.map(describeStep)).toContain('ss -a -n')
  })

  it('falls back to netstat without ss, and skips a log directory that cannot be copied', () => {
    const steps = nodeDiagsSteps(probes(['netstat'], 'stat /x: no such file or directory'), '/x')
    expect(steps.find((s) => s.file === 'netstat')).toMatchObject({info: 'Dumping netstat', argv: ['netstat', '-a', '-n']})
    expect(steps.find((s) => s.file === 'logs')?.unavailable).toBe('stat /x: no such file or directory')
  })
})

it('stamps the archive in local time, as Go formats 20060102_150405', () => {
  expect(localStamp(new Date(2026, 0, 2, 3, 4, 5))).toBe('20260102_030405')
  expect(localStamp(new Date(2026, 11, 31, 23, 59, 59))).toBe('20261231_235959')
})
