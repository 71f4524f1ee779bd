// A host-wide IPAM lock, as Calico's plugin takes one (ipamplugin acquireIPAMLockBestEffort) so that plugins
// started together on one node do not race each other for the same block: correctness comes from IPAM's
// compare-and-swap either way, but N concurrent allocators on one block cost O(N²) conflicting writes.
// The lock is an abstract unix socket: binding the name is exclusive, it is released by the kernel when the
// holder exits however it exits (no stale lock files), and it is scoped to the network namespace, which is
// what "the host" means for a CNI plugin.
import {createServer, type Server} from 'node:net'
import {sleep} from '../lib/sleep.js'

export const IPAM_LOCK_NAME = 'calico-ipam-lock'

export type Unlock = () => Promise<void>

function tryBind(name: string): Promise<Server | undefined> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') resolve(undefined)
      else reject(err)
    })
    // A leading NUL selects Linux's abstract socket namespace.
    server.listen(`\0${name}`, () => resolve(server))
  })
}

/**
 * Waits for the lock; after `timeoutMs` (or if abstract sockets are unavailable) proceeds without it, since the
 * lock only saves work. The returned function releases it.
 */
export async function acquireIPAMLock(timeoutMs = 90_000, name = IPAM_LOCK_NAME): Promise<{unlock: Unlock; acquired: boolean}> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    let server: Server | undefined
    try {
      server = await tryBind(name)
    } catch {
      return {unlock: async () => undefined, acquired: false}
    }
    if (server) {
      const held = server
      // The lock must not keep the process alive on its own.
      held.unref()
      return {unlock: () => new Promise<void>((r) => held.close(() => r())), acquired: true}
    }
    if (Date.now() >= deadline) return {unlock: async () => undefined, acquired: false}
    // Jitter so waiting plugins do not poll in lockstep.
    await sleep(5 + Math.random() * 15)
  }
}
