// A minimal Prometheus registry (counters, gauges, histograms) with the text exposition format 0.0.4. The agent's
// metric names follow Felix's (felix-dataplane.md §6.2) so existing dashboards and alerts read them unchanged.

type LabelValues = Record<string, string>

function labelText(labels: LabelValues): string {
  const keys = Object.keys(labels).sort()
  if (keys.length === 0) return ''
  const esc = (v: string): string => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')
  return `{${keys.map((k) => `${k}="${esc(labels[k]!)}"`).join(',')}}`
}

function num(v: number): string {
  if (v === Infinity) return '+Inf'
  if (v === -Infinity) return '-Inf'
  return Number.isNaN(v) ? 'NaN' : String(v)
}

interface Metric {
  readonly name: string
  readonly help: string
  readonly type: 'counter' | 'gauge' | 'histogram'
  samples(): string[]
}

export class Counter implements Metric {
  readonly type = 'counter'
  private values = new Map<string, number>()
  constructor(readonly name: string, readonly help: string) {}
  inc(by = 1, labels: LabelValues = {}): void {
    if (by < 0) throw new Error(`counter ${this.name} cannot decrease`)
    const k = labelText(labels)
    this.values.set(k, (this.values.get(k) ?? 0) + by)
  }
  get(labels: LabelValues = {}): number {
    return this.values.get(labelText(labels)) ?? 0
  }
  samples(): string[] {
    if (this.values.size === 0) return [`${this.name} 0`]
    return [...this.values].map(([k, v]) => `${this.name}${k} ${num(v)}`)
  }
}

export class Gauge implements Metric {
  readonly type = 'gauge'
  private value = 0
  constructor(readonly name: string, readonly help: string) {}
  set(v: number): void {
    this.value = v
  }
  get(): number {
    return this.value
  }
  samples(): string[] {
    return [`${this.name} ${num(this.value)}`]
  }
}

export class Histogram implements Metric {
  readonly type = 'histogram'
  private readonly counts: number[]
  private sum = 0
  private count = 0
  constructor(readonly name: string, readonly help: string, readonly buckets: readonly number[]) {
    this.counts = buckets.map(() => 0)
  }
  observe(v: number): void {
    this.sum += v
    this.count++
    this.buckets.forEach((b, i) => {
      if (v <= b) this.counts[i]!++
    })
  }
  get observations(): number {
    return this.count
  }
  samples(): string[] {
    return [
      ...this.buckets.map((b, i) => `${this.name}_bucket{le="${num(b)}"} ${this.counts[i]}`),
      `${this.name}_bucket{le="+Inf"} ${this.count}`,
      `${this.name}_sum ${num(this.sum)}`,
      `${this.name}_count ${this.count}`,
    ]
  }
}

export class Registry {
  private readonly metrics: Metric[] = []
  register<M extends Metric>(m: M): M {
    if (this.metrics.some((x) => x.name === m.name)) throw new Error(`metric ${m.name} registered twice`)
    this.metrics.push(m)
    return m
  }
  /** The text exposition format (`Content-Type: text/plain; version=0.0.4`). */
  expose(): string {
    return this.metrics.map((m) => [`# HELP ${m.name} ${m.help}`, `# TYPE ${m.name} ${m.type}`, ...m.samples()].join('\n')).join('\n') + '\n'
  }
}

/** Apply durations range from a few ms (small delta) to seconds (thousands of policies at start-up). */
const APPLY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

/** The agent's metrics, named as Felix names them. */
export class AgentMetrics {
  readonly registry = new Registry()
  readonly applyTime = this.registry.register(
    new Histogram('felix_int_dataplane_apply_time_seconds', 'Time in seconds for each incremental dataplane apply.', APPLY_BUCKETS),
  )
  readonly initialResyncTime = this.registry.register(
    new Gauge('felix_int_dataplane_initial_resync_time_seconds', 'Time in seconds for the first, full dataplane program.'),
  )
  readonly dataplaneFailures = this.registry.register(
    new Counter('felix_int_dataplane_failures', 'Number of times dataplane updates failed and will be retried.'),
  )
  readonly activeLocalPolicies = this.registry.register(new Gauge('felix_active_local_policies', 'Number of active policies on this host.'))
  readonly activeLocalEndpoints = this.registry.register(new Gauge('felix_active_local_endpoints', 'Number of active endpoints on this host.'))
  readonly activeLocalSelectors = this.registry.register(new Gauge('felix_active_local_selectors', 'Number of active selectors (IP sets) on this host.'))
  readonly resyncsStarted = this.registry.register(new Counter('felix_resyncs_started', 'Number of times Felix has started resyncing with the datastore.'))
  readonly resyncState = this.registry.register(new Gauge('felix_resync_state', 'Current datastore state: 1 = waiting for data, 3 = in sync.'))
  readonly calcUpdates = this.registry.register(
    new Counter('felix_calc_graph_updates_processed', 'Number of datastore updates processed by the calculation graph.'),
  )
  readonly validationFailures = this.registry.register(
    new Counter('felix_calc_graph_validation_failures', 'Number of datastore objects ignored because they failed validation.'),
  )
  readonly nftCalls = this.registry.register(new Counter('felix_nft_calls', 'Number of nft transactions executed.'))
  readonly nftErrors = this.registry.register(new Counter('felix_nft_errors', 'Number of nft transactions that failed.'))
  readonly nftChains = this.registry.register(new Gauge('felix_nft_chains', 'Number of chains in the programmed table.'))
  readonly nftRules = this.registry.register(new Gauge('felix_nft_rules', 'Number of rules in the programmed table.'))
  readonly nftSets = this.registry.register(new Gauge('felix_nft_sets', 'Number of sets in the programmed table.'))
  readonly driftRepairs = this.registry.register(
    new Counter('felix_nft_drift_repairs', 'Number of times the kernel table was found changed behind the agent (by nft monitor or a refresh read-back) and reprogrammed.'),
  )
}
