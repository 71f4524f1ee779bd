import {describe, expect, it} from 'vitest'

import {isCalicoManagedLoadBalancer, renderCheck, serializeReport} from '../../src/cli/ipam/check.js'
import type {CheckData, CheckReport, KubeService} from '../../src/cli/ipam/check.js'
import {applyConfigUpdate, configureReport, ConfigureError, parseConfigureFlags} from '../../src/cli/ipam/configure.js'
import {parseBool as parseGoBool} from '../../src/cli/strconv.js'
import {mergeReports, parseReport} from '../../src/cli/ipam/release.js'
import {KUBECONFIG_MISSING, listKubeServices, serviceFromKube, serviceLister} from '../../src/cli/ipam/services.js'
import {parseSplitNumber, splitPoolName, splitPoolResource, SplitError} from '../../src/cli/ipam/split.js'
import {DEFAULT_IPAM_CONFIG} from '../../src/ipam/index.js'
import {block, NOW} from './ipam-fixtures.js'

const flags = (f: Partial<Parameters<typeof parseConfigureFlags>[0]>) => ({
  strictaffinity: '',
  'max-blocks-per-host': '',
  'kubevirt-ip-persistence': '',
  'ip-cooldown-seconds': -1,
  ...f,
})

describe('ipam configure', () => {
  it.each<[Partial<Parameters<typeof parseConfigureFlags>[0]>, string]>([
    [{}, 'at least one configuration option must be specified'],
    [{strictaffinity: 'maybe'}, 'invalid value. Use true or false to set strictaffinity'],
    [{'max-blocks-per-host': 'x'}, 'invalid value for maxblockhost. Use a valid number'],
    [{'max-blocks-per-host': '1.5'}, 'invalid value for maxblockhost. Use a valid number'],
    [{'kubevirt-ip-persistence': 'On'}, 'invalid value for --kubevirt-ip-persistence. Use Enabled or Disabled'],
  ])('refuses %j', (f, message) => {
    expect(() => parseConfigureFlags(flags(f))).toThrow(new ConfigureError(message))
  })
  it('accepts strconv.ParseBool spellings only', () => {
    for (const s of ['1', 't', 'T', 'TRUE', 'true', 'True']) expect(parseGoBool(s)).toBe(true)
    for (const s of ['0', 'f', 'F', 'FALSE', 'false', 'False']) expect(parseGoBool(s)).toBe(false)
    for (const s of ['yes', 'tRUE', '']) expect(parseGoBool(s)).toBeUndefined()
  })
  it('changes only the given settings and reports them in order', () => {
    const update = parseConfigureFlags(flags({'max-blocks-per-host': '+4', strictaffinity: 'true', 'ip-cooldown-seconds': 0}))
    expect(update).toEqual({strictAffinity: true, maxBlocksPerHost: 4, ipCooldownSeconds: 0})
    expect(applyConfigUpdate({...DEFAULT_IPAM_CONFIG}, update)).toEqual({...DEFAULT_IPAM_CONFIG, strictAffinity: true, maxBlocksPerHost: 4})
    expect(configureReport(update)).toBe(
      'Successfully set StrictAffinity to: true\nSuccessfully set MaxBlocksPerHost to: 4\nSuccessfully set IPCooldownSeconds to: 0\n',
    )
    expect(configureReport(parseConfigureFlags(flags({'kubevirt-ip-persistence': 'Disabled'})))).toBe(
      'Successfully set KubeVirtVMAddressPersistence to: Disabled\n',
    )
  })
})

describe('LoadBalancer services', () => {
  const svc = (extra: Partial<KubeService>): KubeService => ({namespace: 'ns', name: 's', type: 'LoadBalancer', annotations: {}, ingressIPs: [], ...extra})
  it('follows kube-controllers IsCalicoManagedLoadBalancer', () => {
    expect(isCalicoManagedLoadBalancer(svc({}), 'AllServices')).toBe(true)
    expect(isCalicoManagedLoadBalancer(svc({type: 'ClusterIP'}), 'AllServices')).toBe(false)
    expect(isCalicoManagedLoadBalancer(svc({loadBalancerClass: 'metallb'}), 'AllServices')).toBe(false)
    expect(isCalicoManagedLoadBalancer(svc({}), 'RequestedServicesOnly')).toBe(false)
    expect(isCalicoManagedLoadBalancer(svc({loadBalancerClass: 'calico'}), 'RequestedServicesOnly')).toBe(true)
    expect(isCalicoManagedLoadBalancer(svc({annotations: {'projectcalico.org/ipv4pools': '["p"]'}}), 'RequestedServicesOnly')).toBe(true)
    expect(isCalicoManagedLoadBalancer(svc({loadBalancerIP: '1.2.3.4', loadBalancerClass: 'other'}), 'RequestedServicesOnly')).toBe(false)
    expect(isCalicoManagedLoadBalancer(svc({}), undefined)).toBe(false)
  })
})

function checkData(extra: Partial<CheckData> = {}): CheckData {
  return {
    cluster: {guid: 'g1', clusterType: 'k8s', revision: '7', locked: false},
    blocks: [
      block('10.65.79.0/30', 'n1', [
        [1, 'used', {node: 'n1', pod: 'p1', namespace: 'ns'}],
        [1, 'leak', {node: 'n2'}],
      ]),
    ],
    activePools: ['10.65.0.0/16'],
    nodeIPs: [{ip: '10.65.79.3', owner: 'Node(n1)'}],
    workloadIPs: [{ip: '10.65.79.0', owner: 'Workload(ns/p1)'}, {ip: '192.168.9.9', owner: 'Workload(ns/p9)'}],
    handles: [
      {id: 'used', uid: null, revision: '3'},
      {id: 'leak', uid: null, revision: '4'},
      {id: 'orphan', uid: null, revision: '5'},
    ],
    now: NOW,
    ...extra,
  }
}

describe('ipam check rendering', () => {
  it('prints the summary lines and counts problems', () => {
    const {text} = renderCheck(checkData(), {showAllIPs: false, showProblemIPs: false, version: 'v3.32.0'})
    const lines = text.split('\n')
    expect(lines.slice(0, 6)).toEqual([
      'Checking IPAM for inconsistencies...',
      '',
      'Loading all IPAM blocks...',
      'Found 1 IPAM blocks.',
      ' IPAM block 10.65.79.0/30 affinity=host:n1:',
      'IPAM blocks record 2 allocations.',
    ])
    for (const want of [
      'Found 1 node tunnel IPs.',
      'No configuration for LoadBalancer kubecontroller found, skipping service check',
      'Found 2 workload IPs.',
      'Workloads and nodes are using 3 IPs.',
      '  n1 has 1 allocations',
      'Node with most allocations has 1; median is 1',
      'Found 1 IPs that are allocated in IPAM but not actually in use.',
      'Found 1 in-use IPs that are not in active IP pools.',
      'Found 1 in-use IPs that are in active IP pools but have no corresponding IPAM allocation.',
      'Found 1 handles with no matching IPs (and 2 handles with matches).',
      'Found 0 handles mentioned in blocks with no matching handle resource.',
      'Found 0 invalid IPAMBlocks.',
      'Check complete; found 4 problems.',
    ]) {
      expect(lines).toContain(want)
    }
    expect(text).not.toContain('leaked; attrs')
  })
  it('lists problem addresses with --show-problem-ips and everything with --show-all-ips', () => {
    const problems = renderCheck(checkData(), {showAllIPs: false, showProblemIPs: true, version: 'v'}).text
    expect(problems).toContain('  10.65.79.1 leaked; attrs Main:leak Extra:node=n2\n')
    expect(problems).toContain('  192.168.9.9 in use by Workload(ns/p9) is not in any active IP pool.\n')
    expect(problems).toContain('  10.65.79.3 in use by Node(n1) and in active IPAM pool but has no IPAM allocation.\n')
    expect(problems).not.toContain('allocated; attrs')
    const all = renderCheck(checkData(), {showAllIPs: true, showProblemIPs: false, version: 'v'}).text
    expect(all).toContain(' IPAM block 10.65.79.0/30 affinity=host:n1:\n  10.65.79.0 allocated; attrs Main:used Extra:namespace=ns,node=n1,pod=p1\n')
    expect(all).toContain('  10.65.79.0 belongs to Workload(ns/p1)\n')
    expect(all).toContain("  orphan doesn't have any active IPs.\n")
    expect(all).toContain('  10.65.79.1 leaked; attrs')
  })
  it('shows Windows-reserved addresses as in use while listing the block', () => {
    const data = checkData({blocks: [block('10.65.79.0/30', 'win', [[1, 'windows-reserved-ipam-handle', {}]])], handles: []})
    const {text, result} = renderCheck(data, {showAllIPs: true, showProblemIPs: false, version: 'v'})
    expect(text).toContain('  10.65.79.0 belongs to Reserved for Windows\n  10.65.79.0 allocated; attrs Main:windows-reserved-ipam-handle Extra:\n')
    expect(result.leakedIPs).toEqual([])
  })
  it('counts LoadBalancer services when the controller is configured', () => {
    const {text, result} = renderCheck(checkData({services: {count: 1, ips: [{ip: '10.65.79.1', owner: 'svc'}]}}), {
      showAllIPs: false,
      showProblemIPs: false,
      version: 'v',
    })
    expect(text).toContain('Found 1 service load balancer(s).\n')
    expect(result.leakedIPs).toEqual([])
  })
  it('builds the JSON report of check.go', () => {
    const {report} = renderCheck(checkData(), {showAllIPs: false, showProblemIPs: false, version: 'v3.32.0'})
    expect(Object.keys(report)).toEqual(['version', 'clusterGUID', 'datastoreLocked', 'clusterInformationRevision', 'clusterType', 'allocations', 'leakedHandles'])
    expect(report.leakedHandles).toEqual([{ID: 'orphan', UID: null, Revision: '5'}])
    const used = report.allocations['10.65.79.0'][0]
    expect(Object.keys(used)).toEqual(['ip', 'handle', 'sequenceNumber', 'pod', 'namespace', 'node', 'inUse', 'owners'])
    expect(used).toMatchObject({handle: 'used', node: 'n1', inUse: true, owners: ['Workload(ns/p1)']})
    expect(report.allocations['10.65.79.1'][0]).toMatchObject({inUse: false, borrowed: true, owners: null})
    const json = serializeReport({...report, clusterType: '<&>'})
    expect(json).toContain('"clusterType": "\\u003c\\u0026\\u003e"')
    expect(json.startsWith('{\n  "version": "v3.32.0",\n')).toBe(true)
  })
})

describe('ipam release --from-report merging', () => {
  const report = (allocs: [string, boolean, number?][], handles: [string, string][]): CheckReport => ({
    version: 'v',
    clusterGUID: 'g',
    datastoreLocked: true,
    clusterInformationRevision: '1',
    clusterType: '',
    allocations: Object.fromEntries(allocs.map(([ip, inUse, seq]) => [ip, [{ip, handle: `h-${ip}`, sequenceNumber: seq, inUse, owners: null}]])),
    leakedHandles: handles.map(([ID, Revision]) => ({ID, UID: null, Revision})),
  })
  it('releases only what every report calls leaked, with the last report’s details', () => {
    const a = report([['10.0.0.2', false, 1], ['10.0.0.1', false, 1], ['10.0.0.3', true]], [['x', '5'], ['y', '6']])
    const b = report([['10.0.0.2', false, 2], ['10.0.0.1', true], ['10.0.0.3', false], ['10.0.0.10', false]], [['x', '5'], ['y', '7']])
    const merged = mergeReports([a, b])
    expect(merged.ips).toEqual([{address: '10.0.0.2', handle: 'h-10.0.0.2', sequenceNumber: 2}])
    expect(merged.handles).toEqual([{id: 'x', uid: null, revision: '5'}])
  })
  it('takes everything from a single report, in address order, skipping cooling-down addresses', () => {
    const r = report([['10.0.0.10', false], ['10.0.0.9', false]], [])
    r.allocations['10.0.0.11'] = [{ip: '10.0.0.11', inUse: false, coolingDown: true, owners: null}]
    expect(mergeReports([r]).ips.map((o) => o.address)).toEqual(['10.0.0.9', '10.0.0.10'])
  })
  it('reads back what check writes', () => {
    const {report: written} = renderCheck(checkData(), {showAllIPs: false, showProblemIPs: false, version: 'v'})
    expect(parseReport(serializeReport(written))).toEqual(written)
    expect(() => parseReport('[]')).toThrow('not a JSON object')
    expect(() => parseReport('{"allocations": {"10.0.0.1": [{"inUse": false}]}}')).toThrow("the report's allocations of 10.0.0.1 are malformed")
    expect(parseReport('{"leakedHandles": [{"ID": "h", "Revision": "3"}, 7]}').leakedHandles).toEqual([{ID: 'h', UID: null, Revision: '3'}])
  })
})

describe('ipam split helpers', () => {
  it('parses NUMBER like strconv.Atoi', () => {
    expect(parseSplitNumber('4')).toBe(4)
    expect(() => parseSplitNumber('four')).toThrow(
      new SplitError('error reading number to split IP pools into. four is not a valid number: strconv.Atoi: parsing "four": invalid syntax'),
    )
  })
  it('names the new pools and cuts long names', () => {
    expect(splitPoolName('ippool-name1', 0)).toBe('split-ippool-name1-0')
    const long = 'a'.repeat(250)
    expect(splitPoolName(long, 3)).toBe(`split-${'a'.repeat(245)}-3`)
  })
  it('copies labels and spec with the new CIDR, enabled', () => {
    const old = {
      apiVersion: 'projectcalico.org/v3',
      kind: 'IPPool',
      metadata: {name: 'p', uid: 'u', resourceVersion: '9', creationTimestamp: 't', labels: {a: 'b'}},
      spec: {cidr: '10.0.1.0/24', blockSize: 27, nodeSelector: 'all()', disabled: true},
    }
    expect(splitPoolResource(old, 'split-p-1', '10.0.1.64/26')).toEqual({
      apiVersion: 'projectcalico.org/v3',
      kind: 'IPPool',
      metadata: {name: 'split-p-1', labels: {a: 'b'}},
      spec: {cidr: '10.0.1.64/26', blockSize: 27, nodeSelector: 'all()', disabled: false},
    })
  })
})

describe('Kubernetes Services for ipam check', () => {
  const object = (name: string, spec: Record<string, unknown>, ips: string[] = []) => ({
    metadata: {name, namespace: 'ns', annotations: {'projectcalico.org/loadBalancerIPs': '["10.0.0.1"]'}},
    spec,
    status: {loadBalancer: {ingress: [...ips.map((ip) => ({ip})), {hostname: 'lb.example'}]}},
  })
  it('reads the fields the LoadBalancer check needs', () => {
    expect(serviceFromKube(object('web', {type: 'LoadBalancer', loadBalancerClass: 'calico'}, ['10.0.0.1']))).toEqual({
      namespace: 'ns',
      name: 'web',
      type: 'LoadBalancer',
      loadBalancerClass: 'calico',
      annotations: {'projectcalico.org/loadBalancerIPs': '["10.0.0.1"]'},
      ingressIPs: ['10.0.0.1'],
    })
  })
  it('follows continue tokens across pages', async () => {
    const calls: unknown[] = []
    const pages = [
      {metadata: {continue: 'c1'}, items: [object('a', {type: 'ClusterIP'})]},
      {metadata: {}, items: [object('b', {type: 'LoadBalancer'}, ['10.0.0.2'])]},
    ]
    const kube = {
      request: async <T>(method: string, path: string, extra?: unknown): Promise<T> => {
        calls.push([method, path, extra])
        return pages[calls.length - 1] as T
      },
    }
    expect((await listKubeServices(kube)).map((s) => s.name)).toEqual(['a', 'b'])
    expect(calls).toEqual([
      ['GET', '/api/v1/services', {query: {limit: 500, continue: undefined}}],
      ['GET', '/api/v1/services', {query: {limit: 500, continue: 'c1'}}],
    ])
  })
  it('needs a kubeconfig next to etcd, but not with the embedded store', () => {
    const backend = (type: string) => ({type}) as unknown as Parameters<typeof serviceLister>[0]
    expect(() => serviceLister(backend('etcdv3'), '', {})).toThrow(KUBECONFIG_MISSING)
    expect(() => serviceLister(backend('etcdv3'), '', {KUBECONFIG: '/x'})).not.toThrow()
    expect(() => serviceLister(backend('embedded'), '', {})).not.toThrow()
  })
})
