// Small Node programs the lab runs inside network namespaces (`node -e <script> args…`): the datastore relay and an
// HTTP client (the echo server and the probe are test/helpers/netns.ts's). Plain CommonJS so they need no build
// step; every wait has a bound.

/**
 * Relay half that runs in a node's namespace: listens on 127.0.0.1:argv[1] and forwards each connection to the
 * unix socket argv[2] (unix sockets are reachable across network namespaces; TCP on the host's loopback is not).
 */
export const RELAY_IN_NODE = `
const net = require('node:net')
const [port, sock] = [Number(process.argv[1]), process.argv[2]]
// No Nagle delay on the TCP side (as on a real etcd connection): gRPC's small frames would wait ~40 ms for ACKs.
net.createServer({noDelay: true}, (c) => {
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
  const t = net.connect({port, host: '127.0.0.1', noDelay: true})
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
