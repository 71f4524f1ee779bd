// Small Node programs the lab runs inside network namespaces (`node -e <script> args…`): traffic endpoints and
// the datastore relay. Plain CommonJS so they need no build step; every wait has a bound.

/**
 * Echo server on each port of argv[1] (comma-separated) for TCP and UDP over IPv4 and IPv6; prints `ready` once all
 * listen. A TCP peer gets back what it sent; a UDP datagram is answered with the same bytes.
 */
export const ECHO_SERVER = `
const net = require('node:net'), dgram = require('node:dgram')
const ports = process.argv[1].split(',').map(Number)
let pending = 2 * ports.length
const ready = () => { if (--pending === 0) process.stdout.write('ready\\n') }
for (const port of ports) {
  net.createServer((s) => { s.on('data', (d) => s.end(d)); s.on('error', () => s.destroy()) }).listen({port, host: '::', ipv6Only: false}, ready)
  const u = dgram.createSocket({type: 'udp6', ipv6Only: false})
  u.on('message', (m, r) => u.send(m, r.port, r.address))
  u.bind(port, '::', ready)
}
process.stdin.on('end', () => process.exit(0)); process.stdin.resume()
`

/**
 * Probes targets given as JSON `[[ip, port, "tcp"|"udp"], …]` (argv[1]) concurrently and prints a JSON array of
 * booleans: TCP must echo a token back, UDP must answer a datagram (3 tries). Each probe gives up after
 * argv[2] ms.
 */
export const PROBE = `
const net = require('node:net'), dgram = require('node:dgram')
const targets = JSON.parse(process.argv[1]), timeout = Number(process.argv[2] || 2000)
const tcp = (host, port) => new Promise((resolve) => {
  const token = 'probe-' + Math.random()
  let got = ''
  const s = net.connect({host, port})
  const done = (ok) => { clearTimeout(t); s.destroy(); resolve(ok) }
  const t = setTimeout(() => done(false), timeout)
  s.on('connect', () => s.write(token))
  s.on('data', (d) => { got += d; if (got === token) done(true) })
  s.on('error', () => done(false))
})
const udp = (host, port) => new Promise((resolve) => {
  const token = Buffer.from('probe-' + Math.random())
  const s = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4')
  let tries = 0
  const send = () => { if (tries++ < 3) s.send(token, port, host, () => undefined) }
  const done = (ok) => { clearTimeout(t); clearInterval(i); s.close(); resolve(ok) }
  const t = setTimeout(() => done(false), timeout)
  const i = setInterval(send, Math.max(50, timeout / 4))
  s.on('message', (m) => { if (m.equals(token)) done(true) })
  s.on('error', () => done(false))
  send()
})
Promise.all(targets.map(([h, p, proto]) => (proto === 'udp' ? udp(h, p) : tcp(h, p))))
  .then((r) => process.stdout.write(JSON.stringify(r)))
`

/**
 * Relay half that runs in a node's namespace: listens on 127.0.0.1:argv[1] and forwards each connection to the
 * unix socket argv[2] (unix sockets are reachable across network namespaces; TCP on the host's loopback is not).
 */
export const RELAY_IN_NODE = `
const net = require('node:net')
const [port, sock] = [Number(process.argv[1]), process.argv[2]]
net.createServer((c) => {
  const u = net.connect(sock)
  c.pipe(u).pipe(c)
  c.on('error', () => u.destroy()); u.on('error', () => c.destroy())
}).listen(port, '127.0.0.1', () => process.stdout.write('ready\\n'))
process.stdin.on('end', () => process.exit(0)); process.stdin.resume()
`

/** Relay half in the host namespace: unix socket argv[1] to TCP 127.0.0.1:argv[2] (the test's etcd). */
export const RELAY_ON_HOST = `
const net = require('node:net'), fs = require('node:fs')
const [sock, port] = [process.argv[1], Number(process.argv[2])]
try { fs.unlinkSync(sock) } catch {}
net.createServer((c) => {
  const t = net.connect(port, '127.0.0.1')
  c.pipe(t).pipe(c)
  c.on('error', () => t.destroy()); t.on('error', () => c.destroy())
}).listen(sock, () => process.stdout.write('ready\\n'))
process.stdin.on('end', () => process.exit(0)); process.stdin.resume()
`

/**
 * HTTP GET of the URL argv[1] (e.g. the agent's health port on a node's loopback), giving up after argv[2] ms; prints
 * JSON `{status, body}`, status 0 when nothing answered.
 */
export const HTTP_GET = `
fetch(process.argv[1], {signal: AbortSignal.timeout(Number(process.argv[2]))})
  .then(async (r) => process.stdout.write(JSON.stringify({status: r.status, body: await r.text()})))
  .catch(() => process.stdout.write(JSON.stringify({status: 0, body: ''})))
`
