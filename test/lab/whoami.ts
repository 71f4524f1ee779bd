// Which source address a server sees, for lab tests of NAT (natOutgoing, VXLAN's tunnel rule): a TCP server that
// answers each connection with the address it came from, and a client that prints that answer. Plain CommonJS run
// with `node -e` inside the lab's namespaces; every wait has a bound.
import {spawn} from 'node:child_process'
import type {Lab} from './lab.js'

/** The server: listens on port argv[1] (TCP, both families), answers with the peer's address and closes. */
const WHOAMI_SERVER = `
const net = require('node:net')
net.createServer((s) => { s.on('error', () => s.destroy()); s.end(String(s.remoteAddress).replace(/^::ffff:/, '')) })
  .listen({port: Number(process.argv[1]), host: '::', ipv6Only: false}, () => process.stdout.write('ready\\n'))
process.stdin.on('end', () => process.exit(0)); process.stdin.resume()
`

/** The client: connects to argv[1]:argv[2] (from local address argv[4] when given), prints the answer; nothing after argv[3] ms. */
const WHOAMI_CLIENT = `
const net = require('node:net')
let got = ''
const s = net.connect({host: process.argv[1], port: Number(process.argv[2]), ...(process.argv[4] ? {localAddress: process.argv[4]} : {})})
s.on('data', (d) => (got += d)).on('end', () => { process.stdout.write(got); process.exit(0) }).on('error', () => process.exit(0))
setTimeout(() => process.exit(0), Number(process.argv[3]))
`

/** Starts the server in a namespace (a lab process: it stops with the lab); resolves once it listens. */
export async function serveWhoami(lab: Lab, where: {netns: string}, port: number): Promise<void> {
  const child = spawn('ip', ['netns', 'exec', where.netns, process.execPath, '-e', WHOAMI_SERVER, String(port)], {stdio: ['pipe', 'pipe', 'inherit']})
  lab.adopt(child)
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => d.toString().includes('ready') && resolve())
    child.once('exit', (code) => reject(new Error(`whoami server in ${where.netns} exited (${code})`)))
  })
}

/** The address the server at address:port saw this connection from (undefined: no answer within timeoutMs). */
export async function seenBy(lab: Lab, from: {netns: string}, address: string, port: number, opts: {localAddress?: string; timeoutMs?: number} = {}): Promise<string | undefined> {
  const argv = [process.execPath, '-e', WHOAMI_CLIENT, address, String(port), String(opts.timeoutMs ?? 700), ...(opts.localAddress ? [opts.localAddress] : [])]
  const out = await lab.inNs(from.netns, argv)
  return out === '' ? undefined : out
}
