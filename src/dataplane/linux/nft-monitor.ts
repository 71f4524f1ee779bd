// Watches nftables transactions in this network namespace through one long-lived `nft monitor` child, so that a
// change another process makes to the agent's table is seen when it happens, without reading the table back.
//
// nft monitor prints each committed transaction as its events (`delete rule inet calico <chain> handle 7`, ...)
// followed by `# new generation <n> by process <pid> (<comm>)`. The agent recognises its own transactions by a
// marker they carry (a chain added and deleted in the same transaction, named with a nonce): unlike the pid, which
// the kernel reports in the initial PID namespace, a marker also works when the agent runs in its own PID namespace
// or through an nft wrapper that forks. A marker costs nft no cache (adding and deleting a chain needs only the table).
//
// The child gets SIGKILL when the agent dies (setpriv --pdeathsig, where util-linux has it), so a killed agent does
// not leave it behind in the namespace. Its cost: nft monitor first caches the whole ruleset of the namespace (6 MB
// on an empty one, ~80 MB when a 21,000-rule table is already there, as after an agent restart), then prints every
// event; ~0.3 s of CPU for a full load of that table, nothing measurable for a delta.
import {spawn, type ChildProcess} from 'node:child_process'

import type {NftTableRef} from './nft.js'

/** What one monitor line completed. */
export type MonitorReport =
  /** A committed transaction: which of our markers it carried, and whether it changed anything else in our table. */
  | {kind: 'transaction'; generation: number; process: string; markers: string[]; touched: boolean}
  /** The kernel dropped events (the monitor's socket buffer was full): what happened meanwhile is unknown. */
  | {kind: 'lost'}

/** The two commands that mark a transaction as ours; appended to the script, so the table is left as it was. */
export function markerScript(table: NftTableRef, marker: string): string {
  const id = `${table.family} ${table.name}`
  return `add chain ${id} ${marker}\ndelete chain ${id} ${marker}\n`
}

const GENERATION = /^# new generation (\d+)(?: by process (\d+) \((.*)\))?$/
const LOST = /^# ERROR: We lost some netlink events/
/** `<verb> <object> <family> <table> [<name> ...]`, as nft monitor prints every table, chain, set, rule or element event. */
const EVENT = /^(?:add|insert|create|replace|delete|destroy|update) (\S+) (\S+) (\S+)(?: (\S+))?/

/** Folds `nft monitor` output, line by line, into reports about one table (pure). */
export class MonitorParser {
  private markers: string[] = []
  private touched = false

  constructor(
    private readonly table: NftTableRef,
    /** Names of marker chains start with this; any other change to the table counts as touching it. */
    private readonly markerPrefix: string,
  ) {}

  /** The report a line completes, if any. */
  line(line: string): MonitorReport | undefined {
    const gen = GENERATION.exec(line)
    if (gen) {
      const report: MonitorReport = {
        kind: 'transaction',
        generation: Number(gen[1]),
        process: gen[2] === undefined ? 'unknown' : `${gen[2]} (${gen[3]})`,
        markers: this.markers,
        touched: this.touched,
      }
      this.markers = []
      this.touched = false
      return report
    }
    if (LOST.test(line)) {
      // The rest of the transaction in progress may be among what was lost.
      this.markers = []
      this.touched = false
      return {kind: 'lost'}
    }
    const ev = EVENT.exec(line)
    if (!ev || ev[2] !== this.table.family || ev[3] !== this.table.name) return undefined
    if (ev[1] === 'chain' && ev[4]?.startsWith(this.markerPrefix)) {
      if (!this.markers.includes(ev[4])) this.markers.push(ev[4])
    } else {
      this.touched = true
    }
    return undefined
  }
}

/** Receives what a TableWatcher sees. */
export interface WatchHandlers {
  report(report: MonitorReport): void
  /** The watcher stopped by itself (the child exited or could not start); it reports nothing more. */
  exit(reason: string): void
}

/** Something that reports the transactions touching one table: the real one is NftMonitor; tests inject fakes. */
export interface TableWatcher {
  /** `markerPrefix`: names of the marker chains that make a transaction ours (see markerScript). */
  start(markerPrefix: string, handlers: WatchHandlers): void
  stop(): void
}

export interface NftMonitorOptions {
  table: NftTableRef
  binary?: string
}

/** `nft monitor` as a child process; one start() at a time. */
export class NftMonitor implements TableWatcher {
  private child?: ChildProcess
  private stopped = false

  constructor(private readonly opts: NftMonitorOptions) {}

  start(markerPrefix: string, handlers: WatchHandlers): void {
    this.stopped = false
    this.spawnMonitor(markerPrefix, handlers, true)
  }

  stop(): void {
    this.stopped = true
    this.child?.kill('SIGTERM')
    this.child = undefined
  }

  private spawnMonitor(markerPrefix: string, handlers: WatchHandlers, withSetpriv: boolean): void {
    const nft = this.opts.binary ?? 'nft'
    // Plain text: only that format prints the generation lines. Normal priority: a monitor that falls behind a large
    // transaction loses events (its socket buffer is 16 MB), which then costs a full reprogram.
    const [command, args] = withSetpriv ? ['setpriv', ['--pdeathsig', 'KILL', '--', nft, 'monitor']] : [nft, ['monitor']]
    const child = spawn(command, args, {stdio: ['ignore', 'pipe', 'pipe']})
    this.child = child
    const parser = new MonitorParser(this.opts.table, markerPrefix)
    let partial = ''
    let stderr = ''
    let ended = false
    const end = (reason: string): void => {
      if (ended) return
      ended = true
      if (this.child === child) this.child = undefined
      if (!this.stopped) handlers.exit(reason)
    }
    child.stdout!.setEncoding('utf8')
    child.stdout!.on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n')
      partial = lines.pop()!
      for (const l of lines) {
        const report = parser.line(l)
        if (report && !this.stopped) handlers.report(report)
      }
    })
    child.stderr!.setEncoding('utf8')
    child.stderr!.on('data', (chunk: string) => {
      // Kept short: nft warns per event it cannot print ("W: Received event for an unknown table").
      stderr = (stderr + chunk).slice(-2000)
    })
    child.on('error', (err: NodeJS.ErrnoException) => {
      if (withSetpriv && err.code === 'ENOENT' && err.path === 'setpriv' && !this.stopped) {
        // No util-linux: run nft directly (a killed agent then leaves it until the next event fails its write).
        ended = true
        this.spawnMonitor(markerPrefix, handlers, false)
        return
      }
      end(`${command} could not start: ${err.message}`)
    })
    child.on('close', (code, signal) => {
      const detail = stderr.trim().split('\n').pop() ?? ''
      end(`nft monitor exited (${signal ?? `exit ${code}`})${detail ? `: ${detail}` : ''}`)
    })
  }
}
