// The health (9099) and Prometheus (9091) endpoints. One server per distinct host:port, so both may share a port.
import {createServer, type Server} from 'node:http'
import type {AddressInfo} from 'node:net'
import {healthText, type HealthAggregator} from './health.js'
import type {AgentMetrics} from './metrics.js'

export interface Endpoint {
  host: string
  port: number
}

type Handler = () => {status: number; body: string; contentType: string}

export function healthRoutes(health: HealthAggregator): Record<string, Handler> {
  const respond = (good: boolean): ReturnType<Handler> => ({
    status: good ? 200 : 503,
    body: healthText(health.summary()),
    contentType: 'text/plain; charset=utf-8',
  })
  return {
    '/liveness': () => respond(health.summary().live),
    '/readiness': () => respond(health.summary().ready),
  }
}

export function metricsRoutes(metrics: AgentMetrics): Record<string, Handler> {
  return {
    '/metrics': () => ({status: 200, body: metrics.registry.expose(), contentType: 'text/plain; version=0.0.4; charset=utf-8'}),
  }
}

export class HttpServers {
  private readonly servers: Server[] = []

  /** Starts one server per endpoint with the union of the routes given for it; resolves with the bound ports. */
  async start(bindings: {endpoint: Endpoint; routes: Record<string, Handler>}[]): Promise<Endpoint[]> {
    const byAddr = new Map<string, {endpoint: Endpoint; routes: Record<string, Handler>}>()
    for (const b of bindings) {
      const k = `${b.endpoint.host}|${b.endpoint.port}`
      const prev = byAddr.get(k)
      byAddr.set(k, {endpoint: b.endpoint, routes: {...prev?.routes, ...b.routes}})
    }
    const bound: Endpoint[] = []
    for (const {endpoint, routes} of byAddr.values()) {
      const server = createServer((req, res) => {
        const path = (req.url ?? '/').split('?')[0]!
        const h = routes[path]
        if (!h || (req.method !== 'GET' && req.method !== 'HEAD')) {
          res.writeHead(404, {'Content-Type': 'text/plain'}).end('404 page not found\n')
          return
        }
        const r = h()
        res.writeHead(r.status, {'Content-Type': r.contentType}).end(req.method === 'HEAD' ? undefined : r.body)
      })
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject)
        server.listen(endpoint.port, endpoint.host, () => resolve())
      })
      this.servers.push(server)
      bound.push({host: endpoint.host, port: (server.address() as AddressInfo).port})
    }
    return bound
  }

  async close(): Promise<void> {
    await Promise.all(this.servers.splice(0).map((s) => new Promise<void>((resolve) => {
      s.closeAllConnections()
      s.close(() => resolve())
    })))
  }
}
