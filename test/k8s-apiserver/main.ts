// Runs the test API server in the foreground (manual kubectl sessions, benches):
//   node --import ./test/datastore/helpers/register.mjs test/k8s-apiserver/main.ts [port]
// Prints the URL on stdout, serves until SIGINT/SIGTERM.
import {TestApiServer} from './server.js'

const server = await new TestApiServer({port: Number(process.argv[2] ?? 0)}).start()
process.stdout.write(`${server.url}\n`)
const stop = () => void server.stop().then(() => process.exit(0))
process.on('SIGINT', stop)
process.on('SIGTERM', stop)
