// Felix's health aggregator (libcalico-go lib/health): named reporters, each live/ready, optionally with a timeout
// after which a silent reporter counts as bad. /liveness and /readiness are the AND over the reporters.

export interface ReporterSpec {
  name: string
  /** A reporter that has not reported for this long is neither live nor ready (0: never times out). */
  timeoutMs: number
}

interface ReporterState {
  spec: ReporterSpec
  live: boolean
  ready: boolean
  lastReport: number
}

export interface HealthSummary {
  live: boolean
  ready: boolean
  reporters: {name: string; live: boolean; ready: boolean; timedOut: boolean}[]
}

export class HealthAggregator {
  private readonly reporters = new Map<string, ReporterState>()

  constructor(private readonly now: () => number = Date.now) {}

  register(spec: ReporterSpec): void {
    this.reporters.set(spec.name, {spec, live: true, ready: false, lastReport: this.now()})
  }

  report(name: string, status: {live: boolean; ready: boolean}): void {
    const r = this.reporters.get(name)
    if (!r) throw new Error(`health reporter ${name} is not registered`)
    r.live = status.live
    r.ready = status.ready
    r.lastReport = this.now()
  }

  summary(): HealthSummary {
    const now = this.now()
    const reporters = [...this.reporters.values()].map((r) => {
      const timedOut = r.spec.timeoutMs > 0 && now - r.lastReport > r.spec.timeoutMs
      return {name: r.spec.name, live: r.live && !timedOut, ready: r.ready && !timedOut, timedOut}
    })
    return {live: reporters.every((r) => r.live), ready: reporters.every((r) => r.ready), reporters}
  }
}

/** The detail table Felix prints with a health response. */
export function healthText(s: HealthSummary): string {
  const rows = s.reporters.map((r) => `${r.name.padEnd(28)} live=${r.live} ready=${r.ready}${r.timedOut ? ' (timed out)' : ''}`)
  return `${['COMPONENT'.padEnd(28) + ' STATUS', ...rows].join('\n')}\n`
}
