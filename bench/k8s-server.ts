// What the Kubernetes benches share: the test API server in a child process (so it does not share the measuring
// process's event loop), and requests a batch at a time.

import {spawn} from 'node:child_process'
import {createInterface} from 'node:readline'

/** Starts test/k8s-apiserver/main.ts with Calico's v1 CRDs; resolves with its URL and a stop function. */
export async function startServer(): Promise<{url: string; stop: () => void}> {
  const child = spawn(process.execPath, ['--import', './test/datastore/helpers/register.mjs', 'test/k8s-apiserver/main.ts', '0', 'v1'], {stdio: ['ignore', 'pipe', 'inherit']})
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({input: child.stdout}).once('line', resolve)
    child.once('exit', (code) => reject(new Error(`test API server exited ${code}`)))
  })
  return {url: line.trim(), stop: () => child.kill('SIGTERM')}
}

/** Runs fn(0) … fn(n - 1), `inFlight` at a time. */
export async function batched(n: number, inFlight: number, fn: (i: number) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < n; i += inFlight) await Promise.all(Array.from({length: Math.min(inFlight, n - i)}, (_, j) => fn(i + j)))
}
