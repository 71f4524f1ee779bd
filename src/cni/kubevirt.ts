// KubeVirt VM pods (cni-plugin/pkg/ipamplugin getVMIInfoForPod, getKubeVirtVMAddressPersistence; libcalico-go
// lib/kubevirt vmi.go, lib/ipam/vmipam): a virt-launcher pod owned by a VirtualMachineInstance keeps its VM's
// addresses across pod recreation and live migration. With IPAMConfig's kubeVirtVMAddressPersistence (the default)
// they are held by a handle named after the VM; the pod running the VM is the allocations' active owner and a
// migration target their alternate owner. This module finds out which VM a pod runs; src/cni/ipam.ts applies it.
import {createHash} from 'node:crypto'

import type {OwnerReference} from '../api/resource.js'
import {CNI_CODES, CniError} from './errors.js'
import type {WorkloadIdentifiers} from './names.js'
import type {KubeVirtObject, PodReader} from './pods.js'

/** KubeVirt names every virt-launcher pod with this prefix, so other pods need no API read. */
export const VIRT_LAUNCHER_PREFIX = 'virt-launcher-'
/** Set on a migration target pod (kubevirtv1.MigrationJobLabel). */
export const MIGRATION_JOB_LABEL = 'kubevirt.io/migrationJobUID'
const KUBEVIRT_API = 'kubevirt.io/v1'

/** The VM a virt-launcher pod runs. */
export interface VmiInfo {
  /** The VirtualMachineInstance's name (the VM's name when a VirtualMachine owns it). */
  name: string
  namespace: string
  uid: string
  deleting: boolean
  /** The owning VirtualMachine, when there is one. */
  vm?: {uid: string; deleting: boolean}
  /** The migration job's UID when this pod is a live-migration target; '' otherwise. */
  migrationJobUID: string
}

function failure(msg: string): CniError {
  return new CniError(CNI_CODES.internal, msg)
}

/** Whether the pod may run a VM at all (only such pods cost an API read). */
export function isVirtLauncher(ids: WorkloadIdentifiers): boolean {
  return ids.orchestrator === 'k8s' && ids.pod.startsWith(VIRT_LAUNCHER_PREFIX)
}

/** The pod's controlling VirtualMachineInstance owner (FindVMIOwnerRef). */
export function vmiOwnerRef(refs: readonly OwnerReference[]): OwnerReference | undefined {
  return refs.find((r) => r.apiVersion === KUBEVIRT_API && r.kind === 'VirtualMachineInstance' && r.controller === true)
}

/**
 * libcalico-go's GetLengthLimitedID: `prefix + suffix` when it fits in `max` (and, at exactly `max`, does not start
 * the suffix with the `_` that marks a shortened one), else `prefix + '_' +` as much of base64url(sha256(suffix)) as
 * fits. When all 43 hash characters fit, Go slices past the hash's end and panics; this returns the whole hash.
 */
export function lengthLimitedID(prefix: string, suffix: string, max: number): string {
  const s = suffix === '' ? '_' : suffix
  const total = prefix.length + s.length
  if (total < max || (total === max && !s.startsWith('_'))) return prefix + s
  return prefix + '_' + createHash('sha256').update(s).digest('base64url').slice(0, max - 1 - prefix.length)
}

/** The VM's IPAM handle, stable across its pods (vmipam.CreateVMHandleID). */
export function vmHandleID(networkName: string, namespace: string, vmName: string): string {
  return lengthLimitedID(`${networkName || 'k8s-pod-network'}.vmi.`, `${namespace}.${vmName}`, 128)
}

/** The allocation attributes Calico adds for a VM pod (vmi-name, vmi-uid, vm-uid, and vmim-uid on a migration target). */
export function vmAttributes(info: VmiInfo): Record<string, string> {
  const attrs: Record<string, string> = {'vmi-name': info.name, 'vmi-uid': info.uid}
  if (info.vm !== undefined && info.vm.uid !== '') attrs['vm-uid'] = info.vm.uid
  if (info.migrationJobUID !== '') attrs['vmim-uid'] = info.migrationJobUID
  return attrs
}

/**
 * Whether the VM's addresses may be released now that one of its pods is gone: once the VirtualMachine (or a
 * standalone VMI) is being deleted, not while it may come back on another pod.
 */
export function vmBeingDeleted(info: VmiInfo): boolean {
  return info.vm !== undefined ? info.vm.deleting : info.deleting
}

/**
 * The VM this pod runs (GetPodVMIInfo), or undefined for any other pod. A pod that is gone fails with the reader's
 * ApiNotFoundError; a VMI that does not match the pod's owner reference is an error.
 */
export async function vmiInfoForPod(reader: PodReader, ids: WorkloadIdentifiers): Promise<VmiInfo | undefined> {
  if (!isVirtLauncher(ids)) return undefined
  const pod = await reader.readPod(ids.namespace, ids.pod)
  const owner = vmiOwnerRef(pod.ownerReferences)
  if (owner === undefined) return undefined
  if (owner.name === '' || !owner.uid) {
    throw failure(`pod ${ids.namespace}/${ids.pod} has invalid VMI ownerReference: name=${JSON.stringify(owner.name)} uid=${JSON.stringify(owner.uid ?? '')}`)
  }
  const query = async (kind: 'virtualmachineinstances' | 'virtualmachines', name: string): Promise<KubeVirtObject> => {
    try {
      return await reader.readKubeVirt(kind, ids.namespace, name)
    } catch (err) {
      throw failure(`failed to query VMI resource ${ids.namespace}/${owner.name}: ${(err as Error).message}`)
    }
  }
  const vmi = await query('virtualmachineinstances', owner.name)
  if (vmi.uid !== owner.uid) throw failure(`VMI UID mismatch: pod ownerReference has ${owner.uid} but VMI resource has ${vmi.uid}`)
  const info: VmiInfo = {name: owner.name, namespace: ids.namespace, uid: vmi.uid, deleting: vmi.deleting, migrationJobUID: pod.labels[MIGRATION_JOB_LABEL] ?? ''}
  const vmOwner = vmi.ownerReferences.find((r) => r.apiVersion === KUBEVIRT_API && r.kind === 'VirtualMachine')
  if (vmOwner !== undefined && vmOwner.name !== '') {
    const vm = await query('virtualmachines', vmOwner.name)
    info.vm = {uid: vm.uid, deleting: vm.deleting}
  }
  return info
}
