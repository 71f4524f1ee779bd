// KubeVirt VM pods' IPAM identity (vmipam.CreateVMHandleID, GetLengthLimitedID, the vmi/vm attributes) and which pod
// owner reference makes a pod a VM's. The API paths are in cni-kdd.test.ts.
import {describe, expect, it} from 'vitest'

import {lengthLimitedID, vmAttributes, vmBeingDeleted, vmHandleID, vmiOwnerRef} from '../../src/cni/kubevirt.js'

describe('a VM\'s IPAM handle', () => {
  it('is <network>.vmi.<namespace>.<vm>, the network defaulting to k8s-pod-network', () => {
    expect(vmHandleID('k8s-pod-network', 'web', 'vm1')).toBe('k8s-pod-network.vmi.web.vm1')
    expect(vmHandleID('', 'web', 'vm1')).toBe('k8s-pod-network.vmi.web.vm1')
  })

  it('is shortened to the prefix and a hash of the namespace and name when longer than 128 characters', () => {
    const long = vmHandleID('net', 'ns', 'v'.repeat(200))
    // The whole base64url SHA-256 (43 characters) fits; Go's slice of it past its end would panic here.
    expect(long).toMatch(/^net\.vmi\._[A-Za-z0-9_-]{43}$/)
    expect(vmHandleID('net', 'ns', `${'v'.repeat(199)}w`)).not.toBe(long)
  })

  it('keeps an ID of exactly the limit unless its suffix starts with the shortening mark', () => {
    expect(lengthLimitedID('p.', 'x'.repeat(8), 10)).toBe(`p.${'x'.repeat(8)}`)
    expect(lengthLimitedID('p.', `_${'x'.repeat(7)}`, 10)).toMatch(/^p\._[A-Za-z0-9_-]{7}$/)
    expect(lengthLimitedID('p.', 'x'.repeat(9), 10)).toMatch(/^p\._[A-Za-z0-9_-]{7}$/)
  })
})

describe('VM pods', () => {
  const info = {name: 'vm1', namespace: 'web', uid: 'vmi-uid', deleting: false, migrationJobUID: ''}

  it('records the instance, the machine and a migration job in the allocation attributes', () => {
    expect(vmAttributes(info)).toEqual({'vmi-name': 'vm1', 'vmi-uid': 'vmi-uid'})
    expect(vmAttributes({...info, vm: {uid: 'vm-uid', deleting: false}, migrationJobUID: 'mig'})).toEqual({'vmi-name': 'vm1', 'vmi-uid': 'vmi-uid', 'vm-uid': 'vm-uid', 'vmim-uid': 'mig'})
  })

  it('lets the addresses go only when the VM (or a standalone instance) is being deleted', () => {
    expect(vmBeingDeleted({...info, deleting: true, vm: {uid: 'u', deleting: false}})).toBe(false)
    expect(vmBeingDeleted({...info, vm: {uid: 'u', deleting: true}})).toBe(true)
    expect(vmBeingDeleted({...info, deleting: true})).toBe(true)
  })

  it('belong to the controlling kubevirt.io/v1 VirtualMachineInstance owner only', () => {
    const vmi = {apiVersion: 'kubevirt.io/v1', kind: 'VirtualMachineInstance', name: 'vm1', uid: 'u'}
    expect(vmiOwnerRef([{...vmi, controller: true}])).toEqual({...vmi, controller: true})
    expect(vmiOwnerRef([vmi, {...vmi, apiVersion: 'kubevirt.io/v1alpha3', controller: true}, {...vmi, kind: 'ReplicaSet', controller: true}])).toBeUndefined()
  })
})
