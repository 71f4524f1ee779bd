import {describe, expect, it, vi} from 'vitest'
import type {Resource} from '../../src/api/resource.js'
import {formatResources, OutputError, parseOutputFormat} from '../../src/cli/output/index.js'
import {tabwrite} from '../../src/cli/output/tabwriter.js'
import {cases, list, step, stored} from './output-helpers.js'

/** The ST harness merges streams and rstrips output when the exit code is 0. */
const rstrip = (s: string): string => s.replace(/\s+$/, '')

function res(kind: string, name: string, spec: Record<string, unknown>, namespace?: string): Resource {
  return {apiVersion: 'projectcalico.org/v3', kind, metadata: {name, ...(namespace ? {namespace} : {})}, spec}
}

describe('tabwriter (Go text/tabwriter, minwidth 5, padding 3)', () => {
  it('sizes each column per block and leaves trailing cells unpadded', () => {
    const text = 'a\tb\tc\naaaa\tbbbbbbb\nx\nlong cell\ty\n'
    expect(tabwrite(text)).toBe('a      b    c\naaaa   bbbbbbb\nx\nlong cell   y\n')
  })

  it('pads every tab-terminated cell, including the last column, to at least minwidth', () => {
    expect(tabwrite('A\tBB\t\n1\t2\t\n')).toBe('A    BB   \n1    2    \n')
  })

  it('counts width in runes', () => {
    expect(tabwrite('é\tx\t\nab\ty\t\n')).toBe('é    x    \nab   y    \n')
  })
})

describe('ps / wide tables (calicoctl-cases.yaml crud-get-basic-and-tables)', () => {
  const pool1 = stored('ippool_name1_rev1_v4')
  const pool2 = stored('ippool_name2_rev1_v6')

  it('prints the ps table with trailing cell padding and a closing blank line', async () => {
    const out = await formatResources([pool1], 'ps')
    // Raw bytes from calicoctl-surface.md §8.
    expect(out).toBe("NAME           CIDR          SELECTOR       \nippool-name1   10.0.1.0/24   foo == 'bar'   \n\n")
    expect(rstrip(out)).toBe(step('crud-get-basic-and-tables', 'get ippool ippool-name1').expect?.output_equals)
    expect(rstrip(out)).toBe(cases.tables.ippool_name1_rev1_table)
  })

  it('prints the wide IPPool columns', async () => {
    const out = await formatResources([pool1], 'wide')
    expect(rstrip(out)).toBe(step('crud-get-basic-and-tables', 'get ippool ippool-name1 -o wide').expect?.output_equals)
    expect(rstrip(out)).toBe(cases.tables.ippool_name1_rev1_wide_table)
  })

  it('prints one table per named result (get-delete-multiple-names)', async () => {
    const out = await formatResources([pool1, pool2], 'ps')
    const s = step('get-delete-multiple-names', 'get ippool ippool-name1 blah ippool-name2 --export')
    expect(out).toBe(s.expect?.stdout_equals)
    expect(rstrip(out)).toBe(step('get-delete-multiple-names', 'get ippool ippool-name1 ippool-name2 --export').expect?.output_equals)
  })

  it('prints a header only for an empty list', async () => {
    expect(await formatResources([list('IPPool', [])], 'ps')).toBe('NAME   CIDR   SELECTOR   \n\n')
  })

  it('defaults IPIP/VXLAN modes to Never and prints a nil assignmentMode as <nil>', async () => {
    const out = await formatResources([list('IPPool', [res('IPPool', 'p', {cidr: '10.0.0.0/8'})])], 'wide')
    expect(out.split('\n')[1]).toBe('p      10.0.0.0/8   false   Never      Never       false      false              ' + ' '.repeat(11) + '<nil>            ')
  })

  it('prepends NAMESPACE for namespaced kinds when -n/-A is given, not for others', async () => {
    const np = res('NetworkPolicy', 'default.p1', {tier: 'default', order: 100, selector: "type=='database'"}, 'ns1')
    const withNs = await formatResources([list('NetworkPolicy', [np])], 'ps', {printNamespace: true})
    expect(withNs).toBe('NAMESPACE   NAME         TIER      \nns1         default.p1   default   \n\n')
    const pool = await formatResources([list('IPPool', [pool1])], 'ps', {printNamespace: true})
    expect(pool.startsWith('NAME ')).toBe(true)
    const wide = await formatResources([list('NetworkPolicy', [np])], 'wide')
    expect(wide).toBe("NAME         TIER      ORDER   SELECTOR           \ndefault.p1   default   100     type=='database'   \n\n")
  })

  it('has no NAME column in the WorkloadEndpoint ps table', async () => {
    const wep = stored('workloadendpoint_name1_rev1')
    const out = await formatResources([list('WorkloadEndpoint', [wep])], 'ps')
    expect(out).toBe('WORKLOAD   NODE    NETWORKS     INTERFACE   \nabcd       node1   1.2.3.4/32   cali1234    \n\n')
    const wide = await formatResources([list('WorkloadEndpoint', [{...wep, spec: {...wep.spec, ipNATs: [{internalIP: '1.2.3.4', externalIP: '9.9.9.9'}]}}])], 'wide')
    expect(wide.split('\n')[1]).toBe('node1-k8s-abcd-eth0   abcd       node1   1.2.3.4/32   cali1234    prof1,prof2   {1.2.3.4 9.9.9.9}   ')
  })

  it('falls back for BGPPeer NODE: node, else nodeSelector, else (global)', async () => {
    const peers = list('BGPPeer', [
      stored('bgppeer_name1_rev1_v4'),
      res('BGPPeer', 'sel', {peerIP: '10.0.0.1', nodeSelector: 'rack == "a"', asNumber: 65000}),
      res('BGPPeer', 'glob', {peerIP: '10.0.0.2'}),
    ])
    expect(await formatResources([peers], 'ps')).toBe(
      'NAME                  PEERIP          NODE          ASN     \n' +
      'bgppeer-name-123abc   192.168.0.250   node1         64514   \n' +
      'sel                   10.0.0.1        rack == "a"   65000   \n' +
      'glob                  10.0.0.2        (global)      0       \n\n',
    )
  })

  it('shows the Node ASN, or the global AS in parentheses, looked up once and only when needed', async () => {
    const nodes = list('Node', [
      stored('node_name1_rev1'),
      res('Node', 'node2', {bgp: {ipv4Address: '10.0.0.2/24', asNumber: 65001}}),
      res('Node', 'node3', {}),
    ])
    const lookup = vi.fn(async () => ({...res('BGPConfiguration', 'default', {asNumber: 64999})}))
    const out = await formatResources([nodes], 'wide', {getDefaultBGPConfiguration: lookup})
    expect(out).toBe(
      'NAME    ASN       IPV4          IPV6               \n' +
      'node1   (64999)   1.2.3.4/24    aa:bb:cc::ff/120   \n' +
      'node2   65001     10.0.0.2/24                      \n' +
      'node3                                              \n\n',
    )
    expect(lookup).toHaveBeenCalledTimes(1)

    const none = await formatResources([nodes], 'wide', {getDefaultBGPConfiguration: async () => undefined})
    expect(none).toContain('(64512)')
    const failing = await formatResources([nodes], 'wide', {getDefaultBGPConfiguration: async () => { throw new Error('etcd down') }})
    expect(failing).toContain('(unknown)')

    const psLookup = vi.fn(async () => undefined)
    await formatResources([nodes], 'ps', {getDefaultBGPConfiguration: psLookup})
    expect(psLookup).not.toHaveBeenCalled()
    await formatResources([list('Node', [nodes.items[1], nodes.items[2]])], 'wide', {getDefaultBGPConfiguration: psLookup})
    expect(psLookup).not.toHaveBeenCalled()
  })

  it('sorts Tier lists by order with nil last and prints orders as Go float64', async () => {
    const tiers = list('Tier', [
      res('Tier', 'nil-order', {}),
      res('Tier', 'default', {order: 1000000}),
      res('Tier', 'kube-admin', {order: 1000}),
      res('Tier', 'half', {order: 10.5}),
    ])
    expect(await formatResources([tiers], 'ps')).toBe(
      'NAME         ORDER   \nhalf         10.5    \nkube-admin   1000    \ndefault      1e+06   \nnil-order    <nil>   \n\n',
    )
  })

  it('joins and truncates long net lists at 80 characters (ipreservation/nets truncation cases)', async () => {
    const expected = (id: string, args: string): string => (step(id, args).expect?.output_contains as string[])[0]
    const resv = await formatResources([list('IPReservation', [stored('ipresv_name1_rev1_v4_long')])], 'wide')
    expect(resv).toContain(expected('ipreservation-wide-truncation', 'get IPReservation -o wide'))
    const cell = resv.split('\n')[1].split(/\s+/)[1]
    expect(cell.length).toBe(80)
    expect(cell.endsWith('...')).toBe(true)
    const gns = await formatResources([list('GlobalNetworkSet', [stored('globalnetworkset_name1_rev1_large')])], 'wide')
    expect(gns).toContain(expected('nets-truncation', 'get GlobalNetworkSet -o wide'))
    const ns = await formatResources([list('NetworkSet', [stored('networkset_name1_rev1_large')])], 'wide', {printNamespace: true})
    expect(ns).toContain(expected('nets-truncation', 'get NetworkSet -o wide -n namespace-1'))
    const short = await formatResources([list('GlobalNetworkSet', [stored('globalnetworkset_name1_rev1')])], 'wide')
    expect(short).toContain(expected('nets-no-truncation', 'get GlobalNetworkSet -o wide'))
  })

  it('renders the remaining kinds with their Go zero values', async () => {
    const out = async (r: Resource, f = 'wide'): Promise<string> => (await formatResources([r], f)).split('\n')[1]
    expect(await out(stored('bgpconfig_name1_rev1'))).toBe('default   Info          true          6512       ')
    expect(await out(res('BGPConfiguration', 'b', {}))).toBe('b      ' + ' '.repeat(14) + '-             -          ')
    expect(await out(stored('clusterinfo_name1_rev1'))).toBe('default   cluster-guid1                                 true             ')
    expect(await out(stored('hostendpoint_name1_rev1'))).toBe('endpoint1   host1   eth0' + ' '.repeat(14) + 'prof1,prof2   ')
    expect(await out(res('Profile', 'p', {labelsToApply: {z: '1', a: 'b'}}))).toBe('p      a=b,z=1   ')
    expect(await out(res('IPAMConfiguration', 'default', {strictAffinity: true}))).toBe('default   true             false                0                  ')
    expect(await out(res('BGPFilter', 'f', {exportV4: [{}, {}], importV6: [{}]}))).toBe('f      2             0             0             1             ')
    expect(await out(res('CalicoNodeStatus', 's', {node: 'n1', classes: ['Agents', 'BGP']}))).toBe('s      n1     Agents,BGP   ')
    expect(await out(stored('stagedk8snetworkpolicy_name1_rev1'))).toBe(
      'mystagedk8spolicy1   &LabelSelector{MatchLabels:map[string]string{role: db,},MatchExpressions:[]LabelSelectorRequirement{},}   ',
    )
  })
})

describe('custom-columns and format errors (calicoctl-cases.yaml output-formats)', () => {
  const gns = list('GlobalNetworkSet', [stored('globalnetworkset_name1_rev1')])

  it('prints the requested headings', async () => {
    const out = await formatResources([gns], 'custom-columns=NAME,NETS')
    for (const s of step('output-formats', 'get globalnetworkset -o custom-columns=NAME,NETS').expect?.output_contains as string[]) {
      expect(out).toContain(s)
    }
    expect(out).toBe('NAME       NETS' + ' '.repeat(46) + '\nnet-set1   10.0.0.1,11.0.0.0/16,feed:beef::1,dead:beef::96   \n\n')
  })

  it('does not prepend NAMESPACE to custom columns but accepts it explicitly', async () => {
    const ns = list('NetworkSet', [res('NetworkSet', 'n', {nets: ['10.0.0.0/8']}, 'ns1')])
    expect(await formatResources([ns], 'custom-columns=NAME', {printNamespace: true})).toBe('NAME   \nn      \n\n')
    expect(await formatResources([ns], 'custom-columns=NAMESPACE,NAME')).toBe('NAMESPACE   NAME   \nns1         n      \n\n')
  })

  it('rejects unknown headings listing the valid ones', async () => {
    const msg = (step('output-formats', 'get globalnetworkset -o custom-columns=FOO').expect?.output_contains as string[])[0]
    await expect(formatResources([gns], 'custom-columns=FOO')).rejects.toThrow(OutputError)
    await expect(formatResources([gns], 'custom-columns=FOO')).rejects.toThrow(`${msg}NAME, NETS`)
  })

  it.each([
    ['go-template=', 'get globalnetworkset -o go-template='],
    ['go-template-file=', 'get globalnetworkset -o go-template-file='],
    ['custom-columns=', 'get globalnetworkset -o custom-columns='],
    ['xml', 'get globalnetworkset -o xml'],
  ])('parseOutputFormat(%j) fails with calicoctl text', (o, args) => {
    const msg = (step('output-formats', args).expect?.output_contains as string[])[0]
    expect(() => parseOutputFormat(o)).toThrow(new OutputError(msg))
  })

  it('parses every valid format', () => {
    expect(parseOutputFormat('ps')).toEqual({type: 'ps'})
    expect(parseOutputFormat('wide')).toEqual({type: 'wide'})
    expect(parseOutputFormat('yml')).toEqual({type: 'yaml'})
    expect(parseOutputFormat('json')).toEqual({type: 'json'})
    expect(parseOutputFormat('custom-columns=A,B')).toEqual({type: 'custom-columns', columns: ['A', 'B']})
    expect(parseOutputFormat('go-template={{.}}=x')).toEqual({type: 'go-template', template: '{{.}}=x'})
    expect(parseOutputFormat('go-template-file=/t')).toEqual({type: 'go-template-file', path: '/t'})
  })

  it('bolds the header only when colour is requested', async () => {
    const plain = await formatResources([gns], 'ps')
    const coloured = await formatResources([gns], 'ps', {color: true})
    expect(plain).not.toContain('\x1b[')
    expect(coloured).toBe('\x1b[1mNAME       \x1b[22m\nnet-set1   \n\n')
  })
})
