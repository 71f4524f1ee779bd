// The host facts the agent reads through Node's own APIs (no external tools): interfaces and addresses as this
// process's network namespace sees them, the hostname, and the source address the kernel picks for a destination.
import {createSocket} from 'node:dgram'
import {lookup} from 'node:dns/promises'
import {isIP} from 'node:net'
import {hostname, networkInterfaces} from 'node:os'
import type {Family, HostInterface} from './autodetect.js'

export function hostInterfaces(): HostInterface[] {
  const out: HostInterface[] = []
  for (const [name, addrs] of Object.entries(networkInterfaces())) {
    const addresses = (addrs ?? []).map((a) => {
      const prefixLength = a.cidr ? Number(a.cidr.split('/')[1]) : a.family === 'IPv4' ? 32 : 128
      // Scoped IPv6 addresses carry a `%zone` suffix that is not part of the address.
      return {address: a.address.split('%')[0]!, prefixLength, family: (a.family === 'IPv4' ? 4 : 6) as Family}
    })
    out.push({name, addresses})
  }
  return out
}

export function nodeHostname(): string {
  return hostname().trim().toLowerCase()
}

/**
 * The local address the kernel would use to reach `destination` (a UDP "connect" sends nothing), as calico/node's
 * can-reach method does. Host names are resolved first and must resolve to the requested family.
 */
export async function sourceAddressFor(destination: string, family: Family): Promise<string> {
  let target = destination
  if (isIP(destination) === 0) target = (await lookup(destination, {family})).address
  if (isIP(target) !== family) throw new Error(`can-reach destination ${destination} is not an IPv${family} address`)
  const socket = createSocket(family === 4 ? 'udp4' : 'udp6')
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject)
      socket.connect(9, target, () => resolve())
    })
    return socket.address().address
  } finally {
    socket.close()
  }
}
