// `calicoctl ipam configure` (commands/ipam/configure.go): flag parsing with Go's strconv rules and
// calicoctl's messages, the change applied to the current configuration, and the success lines.
import type {IPAMConfig, VMAddressPersistence} from '../../ipam/index.js'
import {atoi, parseBool} from '../strconv.js'

/** The settings a configure invocation changes; absent fields stay as they are. */
export interface ConfigUpdate {
  strictAffinity?: boolean
  maxBlocksPerHost?: number
  kubeVirtVMAddressPersistence?: VMAddressPersistence
  ipCooldownSeconds?: number
}

export interface ConfigureFlags {
  strictaffinity: string
  'max-blocks-per-host': string
  'kubevirt-ip-persistence': string
  /** -1 (the default) leaves the cooldown unchanged. */
  'ip-cooldown-seconds': number
}

/** The refusals configure prints; the command reports them as errors. */
export class ConfigureError extends Error {}

export function parseConfigureFlags(flags: ConfigureFlags): ConfigUpdate {
  const update: ConfigUpdate = {}
  if (flags.strictaffinity !== '') {
    const v = parseBool(flags.strictaffinity)
    if (v === undefined) throw new ConfigureError('invalid value. Use true or false to set strictaffinity')
    update.strictAffinity = v
  }
  if (flags['max-blocks-per-host'] !== '') {
    const v = atoi(flags['max-blocks-per-host'])
    if (!v.ok) throw new ConfigureError('invalid value for maxblockhost. Use a valid number')
    update.maxBlocksPerHost = v.value
  }
  const persistence = flags['kubevirt-ip-persistence']
  if (persistence !== '') {
    if (persistence !== 'Enabled' && persistence !== 'Disabled') {
      throw new ConfigureError('invalid value for --kubevirt-ip-persistence. Use Enabled or Disabled')
    }
    update.kubeVirtVMAddressPersistence = persistence
  }
  if (flags['ip-cooldown-seconds'] >= 0) update.ipCooldownSeconds = flags['ip-cooldown-seconds']
  if (Object.keys(update).length === 0) throw new ConfigureError('at least one configuration option must be specified')
  return update
}

export function applyConfigUpdate(current: IPAMConfig, update: ConfigUpdate): IPAMConfig {
  const next = {...current}
  if (update.strictAffinity !== undefined) next.strictAffinity = update.strictAffinity
  if (update.maxBlocksPerHost !== undefined) next.maxBlocksPerHost = update.maxBlocksPerHost
  if (update.kubeVirtVMAddressPersistence !== undefined) next.kubeVirtVMAddressPersistence = update.kubeVirtVMAddressPersistence
  if (update.ipCooldownSeconds !== undefined) next.ipCooldownSeconds = update.ipCooldownSeconds
  return next
}

/** One `Successfully set <Field> to: <value>` line per changed setting, in calicoctl's order. */
export function configureReport(update: ConfigUpdate): string {
  const lines: string[] = []
  if (update.strictAffinity !== undefined) lines.push(`Successfully set StrictAffinity to: ${update.strictAffinity}`)
  if (update.maxBlocksPerHost !== undefined) lines.push(`Successfully set MaxBlocksPerHost to: ${update.maxBlocksPerHost}`)
  if (update.kubeVirtVMAddressPersistence !== undefined) {
    lines.push(`Successfully set KubeVirtVMAddressPersistence to: ${update.kubeVirtVMAddressPersistence}`)
  }
  if (update.ipCooldownSeconds !== undefined) lines.push(`Successfully set IPCooldownSeconds to: ${update.ipCooldownSeconds}`)
  return lines.map((l) => `${l}\n`).join('')
}
