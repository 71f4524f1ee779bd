// `node run`'s --ip/--ip6/--as semantics (calico/node's startup): an explicit address, `autodetect`, empty (IPv4:
// keep the Node's stored address, else autodetect; IPv6: leave unset) or `none`. Pure apart from the injected host
// facts, so every branch is testable without a network.
import {isIP} from 'node:net'
import {AutodetectError, parseAutodetectMethod, selectAddress, type Family, type HostInterface} from './autodetect.js'

export interface AddressRequest {
  /** The flag's value: '', 'autodetect', 'none', or an address with or without a prefix length. */
  value: string
  /** The autodetection method for this family (`first-found` when empty). */
  method: string
  /** The address the stored Node already has (CIDR form). */
  existing?: string
}

export interface HostFacts {
  interfaces: () => HostInterface[]
  /** The local source address the kernel uses towards a destination (can-reach). */
  sourceFor: (destination: string, family: Family) => Promise<string>
}

export class NodeRunError extends Error {}

const flagName = (family: Family): string => (family === 4 ? '--ip' : '--ip6')

/** The Node's address for `family` (CIDR form), or undefined to leave it unset/unchanged. */
export async function resolveAddress(family: Family, req: AddressRequest, host: HostFacts): Promise<string | undefined> {
  const value = req.value.trim()
  if (value === 'none') return undefined
  if (value === '' && (family === 6 || req.existing)) return family === 4 ? req.existing : undefined
  if (value === '' || value === 'autodetect') {
    let method
    try {
      method = parseAutodetectMethod(req.method)
    } catch (err) {
      throw new NodeRunError((err as AutodetectError).message)
    }
    const ifaces = host.interfaces()
    let source: string | undefined
    if (method.kind === 'can-reach') {
      try {
        source = await host.sourceFor(method.destination, family)
      } catch (err) {
        throw new NodeRunError(`Unable to autodetect an IPv${family} address using ${req.method}: ${(err as Error).message}`)
      }
    }
    const found = selectAddress(method, family, ifaces, source)
    if (!found) throw new NodeRunError(`Unable to autodetect an IPv${family} address using ${req.method || 'first-found'}`)
    return found
  }
  const [addr, len] = value.split('/')
  if (!addr || isIP(addr) === 0 || (len !== undefined && !/^\d+$/.test(len))) {
    throw new NodeRunError(`${flagName(family)} is not a valid IP address: ${value}`)
  }
  if (isIP(addr) !== family) throw new NodeRunError(`${flagName(family)} is wrong IP version`)
  if (len !== undefined) {
    if (Number(len) > (family === 4 ? 32 : 128)) throw new NodeRunError(`${flagName(family)} is not a valid IP address: ${value}`)
    return value
  }
  // calico/node takes the prefix length from the interface that holds the address.
  for (const i of host.interfaces()) {
    const a = i.addresses.find((x) => x.address === addr)
    if (a) return `${addr}/${a.prefixLength}`
  }
  return `${addr}/${family === 4 ? 32 : 128}`
}

/** `--as`: a plain number, or asdot `<high>.<low>` (converted as calicoctl's numorstring.ASNumber does). */
export function parseASNumber(v: string): number | undefined {
  if (v === '') return undefined
  const plain = /^\d+$/.exec(v)
  const dotted = /^(\d+)\.(\d+)$/.exec(v)
  let n: number
  if (plain) n = Number(v)
  else if (dotted) {
    const hi = Number(dotted[1])
    const lo = Number(dotted[2])
    if (hi > 0xffff || lo > 0xffff) throw new NodeRunError(`Invalid AS Number format: ${v}`)
    n = hi * 65536 + lo
  } else throw new NodeRunError(`Invalid AS Number format: ${v}`)
  if (n > 0xffffffff) throw new NodeRunError(`Invalid AS Number format: ${v}`)
  return n
}
