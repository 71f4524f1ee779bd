// The datastore migrate progress display: events in, status lines and a summary out (pure), and the
// terminal writer's exact bytes (carriage returns and padding, no escape codes without colour).
import {describe, expect, it} from 'vitest'
import {
  formatProgressLine, formatProgressSummary, INITIAL_PROGRESS, reduceProgress, terminalProgress, TerminalProgress,
  type ProgressEvent, type ProgressState,
} from '../../src/cli/migrate/progress.js'

/** The status line after each event. */
function lines(events: ProgressEvent[]): {lines: string[]; state: ProgressState} {
  let state = INITIAL_PROGRESS
  const out: string[] = []
  for (const e of events) {
    state = reduceProgress(state, e)
    out.push(formatProgressLine(state))
  }
  return {lines: out, state}
}

const ESC = '\u001b'

describe('progress lines and summary', () => {
  it('counts an export by kinds, with the resources they held and the kind being listed', () => {
    const {lines: shown, state} = lines([
      {type: 'stage', stage: 'export', total: 17},
      {type: 'working', kind: 'IPPool'},
      {type: 'step', kind: 'IPPool', count: 2},
      {type: 'working', kind: 'NetworkPolicy'},
      {type: 'step', kind: 'NetworkPolicy', count: 5000},
      {type: 'step', kind: 'Node', count: 0},
      {type: 'stage', stage: 'export-ipam', total: 4},
      {type: 'step', kind: 'IPAMBlock', count: 40},
      {type: 'step', kind: 'BlockAffinity', count: 40},
    ])
    expect(shown).toEqual([
      'Exporting resources: 0/17 kinds, 0 resources',
      'Exporting resources: 0/17 kinds, 0 resources (IPPool)',
      'Exporting resources: 1/17 kinds, 2 resources (IPPool)',
      'Exporting resources: 1/17 kinds, 2 resources (NetworkPolicy)',
      'Exporting resources: 2/17 kinds, 5,002 resources (NetworkPolicy)',
      'Exporting resources: 3/17 kinds, 5,002 resources (Node)',
      'Exporting IPAM: 0/4 kinds, 0 entries',
      'Exporting IPAM: 1/4 kinds, 40 entries (IPAMBlock)',
      'Exporting IPAM: 2/4 kinds, 80 entries (BlockAffinity)',
    ])
    expect(formatProgressSummary(state, {ok: true, elapsedMs: 3210, color: false})).toBe(
      'Exported 5,002 resources (2 IPPool, 5,000 NetworkPolicy) and 80 IPAM entries in 3.2 s')
  })

  it('counts an import by objects, with skipped nodes and failures apart', () => {
    const {lines: shown, state} = lines([
      {type: 'stage', stage: 'prepare', total: 4},
      {type: 'working', kind: 'installing CRDs'},
      {type: 'step', kind: 'installing CRDs', count: 0},
      {type: 'stage', stage: 'import', total: 4},
      {type: 'step', kind: 'Tier', count: 1},
      {type: 'step', kind: 'GlobalNetworkPolicy', count: 1},
      {type: 'step', kind: 'Node', count: 1, outcome: 'skipped'},
      {type: 'step', kind: 'GlobalNetworkPolicy', count: 1},
      {type: 'stage', stage: 'import-ipam', total: 3},
      {type: 'step', kind: 'BlockAffinity', count: 1},
      {type: 'step', kind: 'IPAMBlock', count: 1, outcome: 'failed'},
    ])
    expect(shown).toEqual([
      'Preparing the Kubernetes datastore: 0/4 steps',
      'Preparing the Kubernetes datastore: 0/4 steps (installing CRDs)',
      'Preparing the Kubernetes datastore: 1/4 steps (installing CRDs)',
      'Importing resources: 0/4 resources',
      'Importing resources: 1/4 resources (Tier)',
      'Importing resources: 2/4 resources (GlobalNetworkPolicy)',
      'Importing resources: 3/4 resources (Node)',
      'Importing resources: 4/4 resources (GlobalNetworkPolicy)',
      'Importing IPAM resources: 0/3 resources',
      'Importing IPAM resources: 1/3 resources (BlockAffinity)',
      'Importing IPAM resources: 2/3 resources (IPAMBlock)',
    ])
    expect(formatProgressSummary(state, {ok: false, elapsedMs: 12_345, color: false})).toBe(
      'Import stopped during "importing ipam resources" after 12.3 s: imported 3 resources (1 Tier, 2 GlobalNetworkPolicy) and 1 IPAM resource; skipped 1; 1 failed')
  })

  it('colours the summary only when asked', () => {
    const state = reduceProgress(reduceProgress(INITIAL_PROGRESS, {type: 'stage', stage: 'import', total: 1}), {type: 'step', kind: 'IPPool', count: 1, outcome: 'failed'})
    expect(formatProgressSummary(state, {ok: false, elapsedMs: 0, color: false})).not.toContain(ESC)
    expect(formatProgressSummary(state, {ok: false, elapsedMs: 0, color: true})).toBe(
      `${ESC}[1mImport stopped during "importing resources"${ESC}[0m after 0.0 s: imported 0 resources and 0 IPAM resources; ${ESC}[31m1 failed${ESC}[0m`)
  })

  it('cuts the line to the terminal width', () => {
    const {state} = lines([{type: 'stage', stage: 'import', total: 5000}, {type: 'step', kind: 'GlobalNetworkPolicy', count: 1}])
    expect(formatProgressLine(state, 30)).toBe('Importing resources: 1/5,000 …')
    expect(formatProgressLine(state, 30)).toHaveLength(30)
    expect(formatProgressLine(INITIAL_PROGRESS)).toBe('')
  })
})

describe('TerminalProgress', () => {
  function fake(columns?: number): {written: string[]; sink: {write: (s: string) => void; columns?: number}; clock: {t: number}} {
    const written: string[] = []
    return {written, sink: {write: (s) => written.push(s), columns}, clock: {t: 1000}}
  }

  it('redraws one line in place, throttles steps, pads over a longer line and ends with the summary', () => {
    const {written, sink, clock} = fake()
    const p = new TerminalProgress(sink, {color: false, now: () => clock.t, intervalMs: 100})
    p.listener({type: 'stage', stage: 'export', total: 17})
    p.listener({type: 'working', kind: 'NetworkPolicy'})
    clock.t += 50
    p.listener({type: 'step', kind: 'NetworkPolicy', count: 5000}) // within 100 ms of the last draw: not drawn
    clock.t += 60
    p.listener({type: 'step', kind: 'Tier', count: 1})
    p.listener({type: 'stage', stage: 'export-ipam', total: 4})
    clock.t += 1000
    p.finish(true)
    p.listener({type: 'step', kind: 'IPAMBlock', count: 1}) // after finish: nothing
    const a = 'Exporting resources: 0/17 kinds, 0 resources'
    const b = 'Exporting resources: 0/17 kinds, 0 resources (NetworkPolicy)'
    const c = 'Exporting resources: 2/17 kinds, 5,001 resources (Tier)'
    const d = 'Exporting IPAM: 0/4 kinds, 0 entries'
    expect(written).toEqual([
      `\r${a}`,
      `\r${b}`,
      `\r${c}${' '.repeat(b.length - c.length)}`,
      `\r${d}${' '.repeat(c.length - d.length)}`,
      `\r${' '.repeat(d.length)}\r`,
      'Exported 5,001 resources (5,000 NetworkPolicy, 1 Tier) and 0 IPAM entries in 1.1 s\n',
    ])
    expect(written.join('')).not.toContain(ESC)
  })

  it('clears the line around stdout text and starts a new line after text that does not end one', () => {
    const {written, sink, clock} = fake(80)
    const p = new TerminalProgress(sink, {color: false, now: () => clock.t, stdoutIsTerminal: true})
    const stdout: string[] = []
    p.listener({type: 'stage', stage: 'import', total: 2})
    p.interrupt('[WARNING] skipped a node.', (t) => stdout.push(t))
    p.interrupt('Successfully applied 1 resource(s)\n', (t) => stdout.push(t))
    const line = 'Importing resources: 0/2 resources'
    expect(written).toEqual([`\r${line}`, `\r${' '.repeat(line.length)}\r`, '\n', `\r${line}`, `\r${' '.repeat(line.length)}\r`, `\r${line}`])
    expect(stdout).toEqual(['[WARNING] skipped a node.', 'Successfully applied 1 resource(s)\n'])
  })

  it('shows nothing on a stream that is not a terminal, and writes no summary when nothing happened', () => {
    const {written, sink} = fake()
    expect(terminalProgress({...sink, isTTY: false}, {isTTY: true}, {})).toBeUndefined()
    expect(terminalProgress(sink, {isTTY: true}, {})).toBeUndefined()
    const p = terminalProgress({...sink, isTTY: true}, {isTTY: false}, {NO_COLOR: '1'})
    expect(p).toBeInstanceOf(TerminalProgress)
    p?.finish(false)
    expect(written).toEqual([])
  })
})
