// Progress of `datastore migrate export` and `import` on a terminal. The migration reports events
// (pure data); reduceProgress/formatProgressLine/formatProgressSummary turn them into one status line
// and a closing summary (pure); TerminalProgress redraws that line in place on a stream the command
// gives it. Commands only create one when stderr is a terminal: calicoctl itself prints nothing while
// it works, and nothing of this may reach stdout, where the export goes.

import {colorEnabled} from '../output/index.js'

/** The parts of a migration, each with its own count. */
export type ProgressStage = 'prepare' | 'export' | 'export-ipam' | 'import' | 'import-ipam'

export type ProgressEvent =
  /** A stage begins; `total` counts its steps when known. */
  | {type: 'stage'; stage: ProgressStage; total?: number}
  /** Work on `kind` begins (shown until the next step ends: a long list or apply is not silent). */
  | {type: 'working'; kind: string}
  /** One step ended, covering `count` objects of `kind` (export: one step per kind; import: per object). */
  | {type: 'step'; kind: string; count: number; outcome?: 'done' | 'skipped' | 'failed'}

export type ProgressListener = (event: ProgressEvent) => void

interface StageInfo {
  /** The status line's label. */
  label: string
  /** What one step is. */
  unit: string
  /** Whether the stage's objects are IPAM rows (counted apart from resources in the summary). */
  ipam: boolean
}

const STAGES: Record<ProgressStage, StageInfo> = {
  prepare: {label: 'Preparing the Kubernetes datastore', unit: 'steps', ipam: false},
  export: {label: 'Exporting resources', unit: 'kinds', ipam: false},
  'export-ipam': {label: 'Exporting IPAM', unit: 'kinds', ipam: true},
  import: {label: 'Importing resources', unit: 'resources', ipam: false},
  'import-ipam': {label: 'Importing IPAM resources', unit: 'resources', ipam: true},
}

export interface ProgressState {
  /** Whether this is an export or an import (from the first stage seen). */
  direction?: 'export' | 'import'
  stage?: ProgressStage
  total?: number
  /** Steps ended in the current stage. */
  steps: number
  /** Objects handled in the current stage. */
  objects: number
  /** The kind being worked on, or the last one handled. */
  kind?: string
  /** Resources handled (not skipped or failed) per kind, in the order kinds were first seen. */
  resources: ReadonlyMap<string, number>
  ipam: number
  skipped: number
  failed: number
}

export const INITIAL_PROGRESS: ProgressState = {steps: 0, objects: 0, resources: new Map(), ipam: 0, skipped: 0, failed: 0}

export function reduceProgress(state: ProgressState, event: ProgressEvent): ProgressState {
  switch (event.type) {
    case 'stage': {
      const direction = state.direction ?? (event.stage === 'export' || event.stage === 'export-ipam' ? 'export' : 'import')
      return {...state, direction, stage: event.stage, total: event.total, steps: 0, objects: 0, kind: undefined}
    }
    case 'working':
      return {...state, kind: event.kind}
    case 'step': {
      const outcome = event.outcome ?? 'done'
      const next: ProgressState = {...state, kind: event.kind, steps: state.steps + 1, objects: state.objects + event.count}
      if (outcome === 'skipped') next.skipped += event.count
      else if (outcome === 'failed') next.failed += event.count
      else if (state.stage !== undefined && STAGES[state.stage].ipam) next.ipam += event.count
      else if (state.stage !== 'prepare' && event.count > 0) {
        const resources = new Map(state.resources)
        resources.set(event.kind, (resources.get(event.kind) ?? 0) + event.count)
        next.resources = resources
      }
      return next
    }
  }
}

const number = (n: number): string => n.toLocaleString('en-US')

/** The status line (plain text, no newline), cut to `width` columns so that redrawing it in place works. */
export function formatProgressLine(state: ProgressState, width = Infinity): string {
  if (state.stage === undefined) return ''
  const info = STAGES[state.stage]
  let line = `${info.label}: `
  line += state.total === undefined ? number(state.steps) : `${number(state.steps)}/${number(state.total)}`
  line += ` ${info.unit}`
  // Export steps are kinds: the objects they held are the interesting count.
  if (state.stage === 'export' || state.stage === 'export-ipam') line += `, ${number(state.objects)} ${state.stage === 'export' ? 'resources' : 'entries'}`
  if (state.kind !== undefined) line += ` (${state.kind})`
  return line.length > width ? `${line.slice(0, Math.max(0, width - 1))}…` : line
}

export interface SummaryOptions {
  /** Whether the migration finished (false: it stopped on an error, which the command prints next). */
  ok: boolean
  elapsedMs: number
  /** Bold label, red failures (only on a terminal and without NO_COLOR). */
  color: boolean
}

/** The line that replaces the status line at the end (no newline). */
export function formatProgressSummary(state: ProgressState, opts: SummaryOptions): string {
  const paint = (code: string, text: string): string => (opts.color ? `\u001b[${code}m${text}\u001b[0m` : text)
  const exporting = state.direction === 'export'
  const resources = [...state.resources.values()].reduce((a, b) => a + b, 0)
  const kinds = [...state.resources].map(([kind, n]) => `${number(n)} ${kind}`).join(', ')
  let text = `${number(resources)} resource${resources === 1 ? '' : 's'}${kinds ? ` (${kinds})` : ''}`
  text += ` and ${number(state.ipam)} IPAM ${exporting ? `entr${state.ipam === 1 ? 'y' : 'ies'}` : `resource${state.ipam === 1 ? '' : 's'}`}`
  if (state.skipped > 0) text += `; skipped ${number(state.skipped)}`
  if (state.failed > 0) text += `; ${paint('31', `${number(state.failed)} failed`)}`
  const seconds = `${(opts.elapsedMs / 1000).toFixed(1)} s`
  if (opts.ok) return `${paint('1', exporting ? 'Exported' : 'Imported')} ${text} in ${seconds}`
  const where = state.stage === undefined ? '' : ` during "${STAGES[state.stage].label.toLowerCase()}"`
  return `${paint('1', `${exporting ? 'Export' : 'Import'} stopped${where}`)} after ${seconds}: ${exporting ? 'exported' : 'imported'} ${text}`
}

/** Where TerminalProgress writes: stderr, or a fake in tests. */
export interface ProgressSink {
  write(text: string): unknown
  /** Terminal width; lines are cut to it. */
  columns?: number
}

export interface TerminalProgressOptions {
  color: boolean
  /** Milliseconds clock (injectable for tests). */
  now?: () => number
  /** Least time between redraws of the status line: a 5,000-object import is not 5,000 writes. */
  intervalMs?: number
  /**
   * stdout is the same terminal: text passed to interrupt() that does not end its line (calicoctl's
   * node-skipping warning) gets a newline here, or the next redraw would overwrite it.
   */
  stdoutIsTerminal?: boolean
}

/**
 * One status line redrawn in place with a carriage return (padded with spaces over a longer previous
 * line, so no terminal escape codes are needed), then a summary line.
 */
export class TerminalProgress {
  private state = INITIAL_PROGRESS
  /** Characters of the status line now on screen (0: none). */
  private shown = 0
  private lastDraw = -Infinity
  private readonly now: () => number
  private readonly started: number
  private finished = false

  constructor(
    private readonly sink: ProgressSink,
    private readonly opts: TerminalProgressOptions,
  ) {
    this.now = opts.now ?? (() => performance.now())
    this.started = this.now()
  }

  /** The listener to hand to the migration. */
  readonly listener: ProgressListener = (event) => {
    if (this.finished) return
    this.state = reduceProgress(this.state, event)
    const now = this.now()
    // A new stage or a new piece of work shows at once (it may take a while); steps are throttled.
    if (event.type !== 'step' || now - this.lastDraw >= (this.opts.intervalMs ?? 100)) this.draw(now)
  }

  /** Writes stdout text through `write` without it landing inside the status line. */
  interrupt(text: string, write: (text: string) => void): void {
    this.clear()
    write(text)
    if (this.opts.stdoutIsTerminal && text !== '' && !text.endsWith('\n')) this.sink.write('\n')
    if (!this.finished) this.draw(this.now())
  }

  /** Replaces the status line with the summary. */
  finish(ok: boolean): void {
    if (this.finished) return
    this.finished = true
    if (this.state.stage === undefined) return
    this.clear()
    this.sink.write(`${formatProgressSummary(this.state, {ok, elapsedMs: this.now() - this.started, color: this.opts.color})}\n`)
  }

  private draw(now: number): void {
    const line = formatProgressLine(this.state, this.sink.columns ? this.sink.columns - 1 : undefined)
    if (line === '') return
    this.sink.write(`\r${line}${' '.repeat(Math.max(0, this.shown - line.length))}`)
    this.shown = line.length
    this.lastDraw = now
  }

  private clear(): void {
    if (this.shown === 0) return
    this.sink.write(`\r${' '.repeat(this.shown)}\r`)
    this.shown = 0
  }
}

/**
 * A TerminalProgress on `stream` (stderr) when it is a terminal, with colour unless NO_COLOR; else none,
 * so pipes and files get nothing.
 */
export function terminalProgress(stream: ProgressSink & {isTTY?: boolean}, stdout: {isTTY?: boolean}, env: Record<string, string | undefined>): TerminalProgress | undefined {
  if (stream.isTTY !== true) return undefined
  return new TerminalProgress(stream, {color: colorEnabled(stream, env), stdoutIsTerminal: stdout.isTTY === true})
}
