import {request} from 'node:http'
import {afterEach, describe, expect, it} from 'vitest'
import {HealthAggregator} from '../../src/agent/health.js'
import {HttpServers, healthRoutes, metricsRoutes} from '../../src/agent/http.js'
import {AgentMetrics, Counter, Histogram, Registry} from '../../src/agent/metrics.js'
import {agentSettingsFrom, defaultAgentSettings} from '../../src/agent/settings.js'

function get(port: number, path: string): Promise<{status: number; body: string; type: string}> {
  return new Promise((resolve, reject) => {
    request({host: '127.0.0.1', port, path}, (res) => {
      let body = ''
      res.on('data', (b: Buffer) => (body += b.toString()))
      res.on('end', () => resolve({status: res.statusCode ?? 0, body, type: String(res.headers['content-type'])}))
    }).on('error', reject).end()
  })
}

describe('health aggregation', () => {
  it('ready only when every reporter is; a silent reporter times out', () => {
    let now = 0
    const h = new HealthAggregator(() => now)
    h.register({name: 'startup', timeoutMs: 0})
    h.register({name: 'dataplane', timeoutMs: 1000})
    expect(h.summary()).toMatchObject({live: true, ready: false})
    h.report('startup', {live: true, ready: true})
    h.report('dataplane', {live: true, ready: true})
    expect(h.summary()).toMatchObject({live: true, ready: true})
    now = 1500
    expect(h.summary()).toMatchObject({live: false, ready: false})
    h.report('dataplane', {live: true, ready: true})
    expect(h.summary().ready).toBe(true)
    expect(() => h.report('nope', {live: true, ready: true})).toThrow()
  })
})

describe('metrics exposition', () => {
  it('counters, gauges and histograms in the Prometheus text format', () => {
    const r = new Registry()
    const c = r.register(new Counter('x_total', 'A counter.'))
    const h = r.register(new Histogram('x_seconds', 'A histogram.', [0.1, 1]))
    c.inc()
    c.inc(2, {kind: 'a"b'})
    h.observe(0.05)
    h.observe(0.5)
    h.observe(5)
    expect(r.expose()).toBe(
      [
        '# HELP x_total A counter.', '# TYPE x_total counter', 'x_total 1', 'x_total{kind="a\\"b"} 2',
        '# HELP x_seconds A histogram.', '# TYPE x_seconds histogram',
        'x_seconds_bucket{le="0.1"} 1', 'x_seconds_bucket{le="1"} 2', 'x_seconds_bucket{le="+Inf"} 3', 'x_seconds_sum 5.55', 'x_seconds_count 3',
      ].join('\n') + '\n',
    )
    expect(() => c.inc(-1)).toThrow()
    expect(() => r.register(new Counter('x_total', 'again'))).toThrow()
  })

  it('the agent registers Felix\'s metric names', () => {
    const text = new AgentMetrics().registry.expose()
    for (const name of ['felix_int_dataplane_apply_time_seconds', 'felix_active_local_policies', 'felix_active_local_endpoints', 'felix_resyncs_started', 'felix_int_dataplane_failures']) {
      expect(text).toContain(`# TYPE ${name} `)
    }
  })
})

describe('health and metrics servers', () => {
  const servers = new HttpServers()
  afterEach(() => servers.close())

  it('serves /liveness, /readiness (503 until ready) and /metrics, sharing one port when configured so', async () => {
    const h = new HealthAggregator()
    h.register({name: 'dataplane', timeoutMs: 0})
    const m = new AgentMetrics()
    m.activeLocalEndpoints.set(7)
    const [bound] = await servers.start([
      {endpoint: {host: '127.0.0.1', port: 0}, routes: healthRoutes(h)},
      {endpoint: {host: '127.0.0.1', port: 0}, routes: metricsRoutes(m)},
    ])
    const port = bound!.port
    expect((await get(port, '/liveness')).status).toBe(200)
    expect((await get(port, '/readiness')).status).toBe(503)
    h.report('dataplane', {live: true, ready: true})
    const ready = await get(port, '/readiness')
    expect(ready.status).toBe(200)
    expect(ready.body).toContain('dataplane')
    const metrics = await get(port, '/metrics')
    expect(metrics.type).toContain('version=0.0.4')
    expect(metrics.body).toMatch(/^felix_active_local_endpoints 7$/m)
    expect((await get(port, '/other')).status).toBe(404)
  })
})

describe('agent settings from FelixConfiguration', () => {
  it('Felix defaults, overridden by default then node.<name>', () => {
    expect(agentSettingsFrom([])).toEqual(defaultAgentSettings())
    const s = agentSettingsFrom([
      {healthPort: 19099, nftablesRefreshInterval: '10s', routeRefreshInterval: '0s', interfacePrefix: 'cali,tap'},
      {healthPort: 29099, prometheusMetricsEnabled: false, iptablesRefreshInterval: '1m'},
    ])
    expect(s.healthPort).toBe(29099)
    expect(s.metricsEnabled).toBe(false)
    // The nftables interval wins over the iptables one only within one spec; the later spec's iptables value applies.
    expect(s.nftRefreshMs).toBe(60_000)
    expect(s.routeRefreshMs).toBe(Infinity)
    expect(s.interfacePrefixes).toEqual(['cali', 'tap'])
  })
})
