// Last-resort cleanup for the test helpers that start processes or make namespaces and temporary directories: one
// set of synchronous callbacks, run when the process exits or is interrupted (SIGINT, SIGTERM, SIGHUP; the signal is
// then raised again, so the process still dies of it). The regular cleanup (destroy(), stop()) stays with the owners.
const callbacks = new Set<() => void>()
let installed = false

function runAll(): void {
  const all = [...callbacks]
  callbacks.clear()
  for (const fn of all) {
    try {
      fn()
    } catch {
      // The others must still run.
    }
  }
}

/**
 * Runs `fn` (synchronously: exit hooks cannot wait) when the process exits or is interrupted. Registering the same
 * function again is a no-op. Returns a function that unregisters it.
 */
export function atExit(fn: () => void): () => void {
  if (!installed) {
    installed = true
    process.on('exit', runAll)
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
      process.once(sig, () => {
        runAll()
        process.kill(process.pid, sig)
      })
    }
  }
  callbacks.add(fn)
  return () => callbacks.delete(fn)
}
