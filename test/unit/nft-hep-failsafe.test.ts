// Failsafe ports against untracked (doNotTrack, raw) and preDNAT (mangle) host endpoint policy, on the rendered table
// through the evaluator: Felix jumps to its failsafe chains from those chains too, so neither kind of policy can cut
// the node off from SSH, and raw lets failsafe replies through to be tracked. The same with real packets through the
// agent: test/dataplane/agent-failsafe.test.ts. Also: forward (applyOnForward) host endpoint chains are tracked, as
// Felix's are, so the replies of an allowed forwarded connection pass (agent-hep.test.ts has it with real packets);
// and the built-in projectcalico-default-allow profile opens a host endpoint.
import {describe, expect, it} from 'vitest'

import {computePolicyState, type CalcResource, type PolicySpec} from '../../src/dataplane/calc/index.js'
import {TableEvaluator, renderTable, type Packet} from '../../src/dataplane/nftables/index.js'

const V3 = 'projectcalico.org/v3'
const NODE = 'n1'
const HOST = '192.168.1.10'
const REMOTE = '192.168.1.20'

const hep: CalcResource = {apiVersion: V3, kind: 'HostEndpoint', metadata: {name: 'h', labels: {hostep: 'true'}}, spec: {node: NODE, interfaceName: 'eth0', expectedIPs: [HOST]}}
const gnp = (spec: PolicySpec): CalcResource => ({apiVersion: V3, kind: 'GlobalNetworkPolicy', metadata: {name: 'deny-all'}, spec: {selector: "hostep == 'true'", ...spec}})
const fc: CalcResource = {apiVersion: V3, kind: 'FelixConfiguration', metadata: {name: 'default'}, spec: {ipv6Support: false}}

const inbound = (dport: number, extra: Partial<Packet> = {}): Packet => ({family: 4, saddr: REMOTE, daddr: HOST, proto: 6, sport: 40000, dport, iifname: 'eth0', ctState: 'new', ...extra})
const outbound = (dport: number, extra: Partial<Packet> = {}): Packet => ({family: 4, saddr: HOST, daddr: REMOTE, proto: 6, sport: 40000, dport, oifname: 'eth0', ctState: 'new', ...extra})

function evaluator(policy: PolicySpec): TableEvaluator {
  return new TableEvaluator(renderTable(computePolicyState(NODE, [hep, gnp(policy), fc])))
}

describe('failsafe ports under untracked and preDNAT host endpoint policy', () => {
  const untracked = {doNotTrack: true, applyOnForward: true, types: ['Ingress', 'Egress'], ingress: [{action: 'Deny' as const}], egress: [{action: 'Deny' as const}]}

  it('an untracked deny-all drops in raw, except failsafe ports in both directions', () => {
    const ev = evaluator(untracked)
    expect(ev.evaluatePath(['prerouting', 'input'], inbound(8080)).verdict).toBe('drop')
    expect(ev.evaluatePath(['prerouting', 'input'], inbound(22))).toMatchObject({verdict: 'accept', notrack: false})
    expect(ev.evaluatePath(['output', 'postrouting'], outbound(8080)).verdict).toBe('drop')
    expect(ev.evaluatePath(['output', 'postrouting'], outbound(2379))).toMatchObject({verdict: 'accept', notrack: false})
  })

  it('raw lets the replies of failsafe connections through (source port), to be accepted as tracked in filter', () => {
    const ev = evaluator(untracked)
    // The reply of the node's own connection to etcd (outbound failsafe 2379) and of an SSH session (inbound 22).
    expect(ev.evaluatePath(['prerouting', 'input'], {...inbound(40000), sport: 2379, ctState: 'established'}).verdict).toBe('accept')
    expect(ev.evaluatePath(['output', 'postrouting'], {...outbound(40000), sport: 22, ctState: 'established'}).verdict).toBe('accept')
    // Another reply is still subject to the untracked deny.
    expect(ev.evaluatePath(['prerouting', 'input'], {...inbound(40000), sport: 8080, ctState: 'established'}).verdict).toBe('drop')
  })

  it('a preDNAT deny-all drops in mangle, except inbound failsafe ports', () => {
    const ev = evaluator({preDNAT: true, applyOnForward: true, types: ['Ingress'], ingress: [{action: 'Deny'}]})
    expect(ev.evaluatePath(['prerouting', 'input'], inbound(8080)).verdict).toBe('drop')
    expect(ev.evaluatePath(['prerouting', 'input'], inbound(22)).verdict).toBe('accept')
    expect(ev.evaluatePath(['prerouting', 'input'], inbound(68, {proto: 17})).verdict).toBe('accept')
    // Conntrack first, as in Felix's preDNAT chain: an invalid packet is dropped even to a failsafe port, also when
    // it is forwarded (the failsafe would accept it in mangle, and filter's forward path has no endpoint chain here).
    const forwarded = {daddr: '10.20.0.1', oifname: 'eth1'}
    expect(ev.evaluatePath(['prerouting', 'forward'], {...inbound(22), ...forwarded}).verdict).toBe('accept')
    expect(ev.evaluatePath(['prerouting', 'forward'], {...inbound(22, {ctState: 'invalid'}), ...forwarded}).verdict).toBe('drop')
    expect(ev.evaluatePath(['prerouting', 'input'], inbound(22, {ctState: 'invalid'})).verdict).toBe('drop')
  })
})

describe('applyOnForward host endpoint chains', () => {
  it('accept the replies of an allowed forwarded connection, whatever the policy says about their direction', () => {
    const eth1: CalcResource = {apiVersion: V3, kind: 'HostEndpoint', metadata: {name: 'h1', labels: {hostep: 'true'}}, spec: {node: NODE, interfaceName: 'eth1', expectedIPs: ['192.168.88.1']}}
    const port80 = [{action: 'Allow' as const, protocol: 'TCP' as const, destination: {ports: [80]}}]
    const ev = new TableEvaluator(renderTable(computePolicyState(NODE, [hep, eth1, gnp({applyOnForward: true, types: ['Ingress', 'Egress'], ingress: port80, egress: port80}), fc])))
    const request: Packet = {family: 4, saddr: REMOTE, daddr: '192.168.88.2', proto: 6, sport: 40000, dport: 80, iifname: 'eth0', oifname: 'eth1', ctState: 'new'}
    const reply: Packet = {family: 4, saddr: '192.168.88.2', daddr: REMOTE, proto: 6, sport: 80, dport: 40000, iifname: 'eth1', oifname: 'eth0', ctState: 'established'}
    expect(ev.evaluatePath(['prerouting', 'forward', 'postrouting'], request).verdict).toBe('accept')
    expect(ev.evaluatePath(['prerouting', 'forward', 'postrouting'], reply).verdict).toBe('accept')
    // A new connection in the reply's direction is still policed, and so is the request to another port.
    expect(ev.evaluatePath(['prerouting', 'forward', 'postrouting'], {...reply, ctState: 'new'}).verdict).toBe('drop')
    expect(ev.evaluatePath(['prerouting', 'forward', 'postrouting'], {...request, dport: 81}).verdict).toBe('drop')
  })
})

describe("Calico's built-in projectcalico-default-allow profile", () => {
  it('opens a host endpoint that names it, although no datastore stores it; a stored copy cannot close it', () => {
    const open: CalcResource = {...hep, spec: {...hep.spec, profiles: ['projectcalico-default-allow']}}
    const stored: CalcResource = {apiVersion: V3, kind: 'Profile', metadata: {name: 'projectcalico-default-allow'}, spec: {ingress: [{action: 'Deny'}]}}
    for (const resources of [[open, fc], [open, stored, fc]]) {
      const ev = new TableEvaluator(renderTable(computePolicyState(NODE, resources)))
      expect(ev.evaluatePath(['prerouting', 'input'], inbound(8080)).verdict).toBe('accept')
      expect(ev.evaluatePath(['output', 'postrouting'], outbound(8080)).verdict).toBe('accept')
    }
    // Another profile the datastore lacks still fails closed.
    const missing: CalcResource = {...hep, spec: {...hep.spec, profiles: ['no-such-profile']}}
    expect(new TableEvaluator(renderTable(computePolicyState(NODE, [missing, fc]))).evaluatePath(['prerouting', 'input'], inbound(8080)).verdict).toBe('drop')
  })
})
