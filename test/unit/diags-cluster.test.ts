// The pure parts of `calicoctl cluster diags`: flag validation, bundle naming, kubectl's connection, secret censoring,
// pod selection and the collection plan.
import {describe, expect, it} from 'vitest'

import {
  apiResourceSteps,
  bundleName,
  calicoNodeSteps,
  CENSORED,
  censorSecret,
  clusterSteps,
  crdSteps,
  diagsNamespaces,
  DiagsFlagError,
  isDiagsWorkload,
  kubectlConnection,
  nodeOrder,
  podInfo,
  podSteps,
  selectorString,
  selectPods,
  tlsSecretTargets,
  validateClusterDiagsFlags,
  type PodInfo,
} from '../../src/cli/diags/cluster.js'
import {describeStep} from '../../src/cli/diags/collect.js'

const flags = {since: '', maxLogs: 5, maxParallelism: 10, focusNodes: '', skipTempDirCleanup: false}

describe('validateClusterDiagsFlags', () => {
  it('defaults --since to 0s (all logs) and accepts s, m and h', () => {
    expect(validateClusterDiagsFlags(flags).since).toBe('0s')
    for (const since of ['10s', '5m', '2h', '0s']) expect(validateClusterDiagsFlags({...flags, since}).since).toBe(since)
  })

  it("refuses what calicoctl refuses, in calicoctl's words", () => {
    for (const since of ['5d', '1h30m', 'm', '-1s', ' 5m']) {
      expect(() => validateClusterDiagsFlags({...flags, since})).toThrow(
        new DiagsFlagError(`Error executing command: invalid duration for since flag (try 10s, 5m, or 1h): ${since}`),
      )
    }
    expect(() => validateClusterDiagsFlags({...flags, maxLogs: -1})).toThrow('Error executing command: negative value for max-logs flag')
    expect(validateClusterDiagsFlags({...flags, maxLogs: 0}).maxLogs).toBe(0)
    expect(() => validateClusterDiagsFlags({...flags, maxParallelism: 0})).toThrow(DiagsFlagError)
  })
})

it('names the bundle by UTC time, as Go formats 20060102_150405', () => {
  expect(bundleName(new Date('2026-03-04T05:06:07.890Z'))).toBe('calico-diagnostics-20260304_050607')
})

describe('kubectlConnection', () => {
  it("passes a Kubernetes config's connection to kubectl", () => {
    expect(
      kubectlConnection({
        datastoreType: 'kubernetes',
        kubeconfig: '/a/config:/b/config',
        k8sAPIEndpoint: 'https://k8s:6443',
        k8sCAFile: '/ca',
        k8sCertFile: '/cert',
        k8sKeyFile: '/key',
        k8sAPIToken: 'tok',
        k8sInsecureSkipTLSVerify: true,
        k8sCurrentContext: 'ctx',
      }),
    ).toEqual({
      args: ['--server', 'https://k8s:6443', '--certificate-authority', '/ca', '--client-certificate', '/cert', '--client-key', '/key', '--token', 'tok', '--insecure-skip-tls-verify', '--context', 'ctx'],
      env: {KUBECONFIG: '/a/config:/b/config'},
    })
  })

  it('uses the file an inline kubeconfig was written to', () => {
    expect(kubectlConnection({datastoreType: 'kubernetes', kubeconfig: '/ignored', kubeconfigInline: '{}'}, '/tmp/x/config')).toEqual({args: ['--kubeconfig', '/tmp/x/config'], env: {}})
  })

  it("leaves kubectl's defaults for another datastore", () => {
    expect(kubectlConnection({datastoreType: 'etcdv3', etcdEndpoints: 'http://e:2379', kubeconfig: '/k'})).toEqual({args: [], env: {}})
  })
})

describe('censorSecret', () => {
  const secret = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {name: 'node-certs', namespace: 'calico-system', annotations: {'kubectl.kubernetes.io/last-applied-configuration': '{"data":{"tls.key":"c2VjcmV0"}}', keep: 'me'}},
    type: 'kubernetes.io/tls',
    data: {'tls.crt': 'Y2VydA==', 'tls.key': 'c2VjcmV0', 'ca.crt': 'Y2E=', 'cert': 'Yw==', 'apiserver.crt': 'YQ==', password: 'cA=='},
  }

  it('keeps the public certificates and censors every other value, including its copy in the applied annotation', () => {
    const out = censorSecret(secret)
    expect(out.data).toEqual({'tls.crt': 'Y2VydA==', 'tls.key': CENSORED, 'ca.crt': CENSORED, 'cert': 'Yw==', 'apiserver.crt': 'YQ==', password: CENSORED})
    expect(Buffer.from(CENSORED, 'base64').toString()).toBe('<censored>')
    expect(out.metadata?.annotations).toEqual({'kubectl.kubernetes.io/last-applied-configuration': '<censored>', keep: 'me'})
    expect(JSON.stringify(out)).not.toContain('c2VjcmV0')
    // The input is left as it was.
    expect(secret.data['tls.key']).toBe('c2VjcmV0')
  })
})

it('looks for the TLS secrets only in namespaces that exist, also in tigera-operator', () => {
  expect(tlsSecretTargets(new Set(['calico-system']))).toEqual([
    {name: 'calico-kube-controllers-metrics-tls', namespace: 'calico-system'},
    {name: 'calico-node-prometheus-server-tls', namespace: 'calico-system'},
    {name: 'node-certs', namespace: 'calico-system'},
    {name: 'typha-certs', namespace: 'calico-system'},
  ])
  const withOperator = tlsSecretTargets(new Set(['tigera-operator']))
  expect(withOperator).toHaveLength(25)
  expect(withOperator.every((t) => t.namespace === 'tigera-operator' && t.name === t.name.trim())).toBe(true)
  expect(tlsSecretTargets(new Set())).toEqual([])
})

describe('selectorString', () => {
  it('is the sorted k=v form, with single-valued In expressions', () => {
    expect(selectorString({matchLabels: {'k8s-app': 'calico-node', a: 'b'}, matchExpressions: [{key: 'tier', operator: 'In', values: ['x']}]})).toBe('a=b,k8s-app=calico-node,tier=x')
    expect(selectorString(undefined)).toBe('')
  })

  it('refuses what has no old selector form', () => {
    expect(() => selectorString({matchExpressions: [{key: 'a', operator: 'Exists'}]})).toThrow('operator "Exists"')
    expect(() => selectorString({matchExpressions: [{key: 'a', operator: 'In', values: ['x', 'y']}]})).toThrow('operator "In"')
  })
})

describe('pod selection', () => {
  it('reads the node and the restarted containers of a pod', () => {
    expect(
      podInfo({
        metadata: {name: 'calico-node-abc'},
        spec: {nodeName: 'n1'},
        status: {
          containerStatuses: [{name: 'calico-node', restartCount: 2}, {name: 'sidecar', restartCount: 0}],
          initContainerStatuses: [{name: 'install-cni', restartCount: 0, lastState: {terminated: {exitCode: 1}}}],
        },
      }),
    ).toEqual({name: 'calico-node-abc', node: 'n1', restarted: ['calico-node', 'install-cni']})
    expect(podInfo({})).toEqual({name: '', node: '', restarted: []})
  })

  it('puts the focus nodes first, once each', () => {
    expect(nodeOrder('n3, n1,,', ['n1', 'n2', 'n3', 'n4'])).toEqual(['n3', 'n1', 'n2', 'n4'])
    expect(nodeOrder('', ['n1'])).toEqual(['n1'])
  })

  const pod = (name: string, node: string): PodInfo => ({name, node, restarted: []})

  it('takes up to max-logs pods node by node in that order, then pods on unlisted nodes', () => {
    const pods = [pod('a', 'n2'), pod('b', 'n1'), pod('c', 'n2'), pod('d', ''), pod('e', 'n9')]
    expect(selectPods(pods, ['n2', 'n1'], 5).map((p) => p.name)).toEqual(['a', 'c', 'b', 'd', 'e'])
    expect(selectPods(pods, ['n2', 'n1'], 2).map((p) => p.name)).toEqual(['a', 'c'])
    expect(selectPods(pods, ['n1'], 0)).toEqual([])
  })

  it("collects logs, description and previous logs like calicoctl's diagsCmdsForPod", () => {
    const steps = podSteps('calico-system', {name: 'calico-node-x', node: 'n1', restarted: ['calico-node']}, '2h')
    expect(steps.map((s) => [describeStep(s), s.file, s.link])).toEqual([
      ['kubectl logs --since=2h -n calico-system calico-node-x --all-containers', 'nodes/n1/calico-system/calico-node-x.log', 'links/calico-system/calico-node-x.log'],
      ['kubectl -n calico-system describe pods calico-node-x', 'nodes/n1/calico-system/calico-node-x.txt', 'links/calico-system/calico-node-x.txt'],
      [
        'kubectl logs --previous --since=2h -n calico-system calico-node-x -c calico-node',
        'nodes/n1/calico-system/calico-node-x.calico-node.previous.log',
        'links/calico-system/calico-node-x.calico-node.previous.log',
      ],
    ])
    expect(podSteps('ns', pod('p', ''), '0s')[0]!.file).toBe('nodes/unscheduled/ns/p.log')
  })

  it("reads a calico-node pod's dataplane (nft, ip) inside its container", () => {
    const steps = calicoNodeSteps('kube-system', 'calico-node-x', 'n1')
    expect(steps[0]).toEqual({
      info: 'Collect nftables for node n1',
      argv: ['kubectl', 'exec', '-n', 'kube-system', 'calico-node-x', '-c', 'calico-node', '--', 'nft', '-n', '-a', 'list', 'ruleset'],
      file: 'nodes/n1/nft-ruleset.txt',
    })
    expect(steps.map((s) => s.file.split('/').at(-1))).toEqual(['nft-ruleset.txt', 'ip-route.txt', 'ip-route-v6.txt', 'ip-rule.txt', 'ip-addr.txt', 'ip-link.txt', 'ip-neigh.txt'])
  })

  it('looks at calico and tigera namespaces, and at Calico workloads in kube-system', () => {
    expect(diagsNamespaces(['default', 'calico-system', 'tigera-operator', 'kube-system', 'calico-apiserver', 'kube-public'])).toEqual([
      'calico-system',
      'tigera-operator',
      'kube-system',
      'calico-apiserver',
    ])
    expect(isDiagsWorkload('kube-system', 'calico-node')).toBe(true)
    expect(isDiagsWorkload('kube-system', 'coredns')).toBe(false)
    expect(isDiagsWorkload('calico-system', 'csi-node-driver')).toBe(true)
  })
})

describe('the cluster-wide plan', () => {
  it("collects each Calico CRD by its fully qualified name from the listing calicoctl's template prints", () => {
    const listing = 'ippools.crd.projectcalico.org=v1 gateways.gateway.networking.k8s.io=v1 installations.operator.tigera.io=v1 tiers.crd.projectcalico.org= '
    const {steps, names} = crdSteps(listing)
    expect([...names]).toEqual(['ippools.crd.projectcalico.org', 'installations.operator.tigera.io', 'tiers.crd.projectcalico.org'])
    expect(steps.map((s) => [describeStep(s), s.file])).toEqual([
      ['kubectl get ippools.v1.crd.projectcalico.org -A -o yaml', 'cluster/crd/ippools.crd.projectcalico.org.yaml'],
      ['kubectl get ippools.v1.crd.projectcalico.org -A -o wide', 'cluster/crd/ippools.crd.projectcalico.org.txt'],
      ['kubectl get installations.v1.operator.tigera.io -A -o yaml', 'cluster/crd/installations.operator.tigera.io.yaml'],
      ['kubectl get installations.v1.operator.tigera.io -A -o wide', 'cluster/crd/installations.operator.tigera.io.txt'],
      ['kubectl get tiers.crd.projectcalico.org -A -o yaml', 'cluster/crd/tiers.crd.projectcalico.org.yaml'],
      ['kubectl get tiers.crd.projectcalico.org -A -o wide', 'cluster/crd/tiers.crd.projectcalico.org.txt'],
    ])
    expect(crdSteps('').steps).toEqual([])
  })

  it('adds the projectcalico.org kinds the Calico API server serves that no CRD listed', () => {
    const listing = [
      'ippools                             projectcalico.org/v3   false   IPPool',
      'networkpolicies   cnp,caliconetworkpolicy   projectcalico.org/v3   true    NetworkPolicy',
      '',
    ].join('\n')
    const steps = apiResourceSteps(listing, new Set(['ippools.projectcalico.org']))
    expect(steps.map(describeStep)).toEqual(['kubectl get networkpolicies.v3.projectcalico.org -A -o yaml', 'kubectl get networkpolicies.v3.projectcalico.org -A -o wide'])
    expect(steps[0]!.file).toBe('cluster/crd/networkpolicies.projectcalico.org.yaml')
  })

  it('writes every cluster resource as YAML and as a wide table, each file once', () => {
    const steps = clusterSteps()
    const files = steps.map((s) => s.file)
    expect(new Set(files).size).toBe(files.length)
    expect(files).toContain('cluster/kubernetes/namespaces.yaml')
    expect(steps.find((s) => s.file === 'cluster/kubernetes/namespaces.yaml') && describeStep(steps.find((s) => s.file === 'cluster/kubernetes/namespaces.yaml')!)).toBe('kubectl get namespaces -o yaml')
    expect(steps.find((s) => s.file === 'cluster/calico-system/calico-system.txt') && describeStep(steps.find((s) => s.file === 'cluster/calico-system/calico-system.txt')!)).toBe('kubectl get all -n calico-system -o wide')
    for (const s of steps) expect(describeStep(s)).toMatch(s.file.endsWith('.yaml') ? / -o yaml$/ : / -o wide$/)
  })
})
