// Runs the test API server in the foreground (manual kubectl sessions, benches):
//   node --import ./test/datastore/helpers/register.mjs test/k8s-apiserver/main.ts [port] [v1|v3|none]
// Installs Calico's CRDs (v1 by default), prints the URL on stdout, serves until SIGINT/SIGTERM.
import {installCrds} from './helpers.js'
import {TestApiServer} from './server.js'

const server = await new TestApiServer({port: Number(process.argv[2] ?? 0)}).start()
const crds = process.argv[3] ?? 'v1'
if (crds === 'v1' || crds === 'v3') installCrds(server, crds)
process.stdout.write(`${server.url}\n`)
const stop = () => void server.stop().then(() => process.exit(0))
process.on('SIGINT', stop)
process.on('SIGTERM', stop)
