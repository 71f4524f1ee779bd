// The demo's reachability matrix as text, and back: rows are sources, columns destinations, one cell per pair
// (✓ open, ✗ closed, · the pod itself, not probed). Pure, so the end-to-end test reads the demo's own output with
// the parser that matches the renderer.

export type Reachability = ReadonlyMap<string, boolean>

/** `from>to`: the key of one pair in a Reachability map. */
export const pair = (from: string, to: string): string => `${from}>${to}`

export const OPEN = '✓'
export const CLOSED = '✗'
const SELF = '·'
/** First cell of the header line: how to read the table. */
export const CORNER = 'from ↓  to →'

export interface Paint {
  open(s: string): string
  closed(s: string): string
  dim(s: string): string
}

export const PLAIN: Paint = {open: (s) => s, closed: (s) => s, dim: (s) => s}

/** ANSI colours, for a terminal that wants them (the caller decides: TTY and no NO_COLOR). */
export const ANSI: Paint = {
  open: (s) => `\u001b[32m${s}\u001b[39m`,
  closed: (s) => `\u001b[31m${s}\u001b[39m`,
  dim: (s) => `\u001b[2m${s}\u001b[22m`,
}

/**
 * The matrix, indented by two spaces, columns separated by at least two spaces. A cell that differs from `before`
 * gets a `*`; the legend line says what the marks mean.
 */
export function renderMatrix(pods: readonly string[], reach: Reachability, paint: Paint = PLAIN, before?: Reachability): string {
  const width = Math.max(CORNER.length, ...pods.map((p) => p.length))
  const col = (p: string): number => Math.max(p.length, 2)
  const lines = [`  ${CORNER.padEnd(width)}  ${pods.map((p) => p.padEnd(col(p))).join('  ')}`.trimEnd()]
  for (const from of pods) {
    const cells = pods.map((to) => {
      if (from === to) return paint.dim(SELF.padEnd(col(to)))
      const open = reach.get(pair(from, to)) === true
      const changed = before !== undefined && before.get(pair(from, to)) !== undefined && before.get(pair(from, to)) !== open
      const text = `${open ? OPEN : CLOSED}${changed ? '*' : ''}`.padEnd(col(to))
      return open ? paint.open(text) : paint.closed(text)
    })
    lines.push(`  ${from.padEnd(width)}  ${cells.join('  ')}`.trimEnd())
  }
  const legend = `  ${OPEN} connected   ${CLOSED} blocked (no connection within the timeout)   ${SELF} itself${before ? '   * changed' : ''}`
  lines.push(paint.dim(legend))
  return lines.join('\n')
}

/** Open pairs as `a → b` and a count, e.g. for a summary line. */
export function countOpen(pods: readonly string[], reach: Reachability): {open: number; total: number} {
  let open = 0
  let total = 0
  for (const from of pods) {
    for (const to of pods) {
      if (from === to) continue
      total++
      if (reach.get(pair(from, to))) open++
    }
  }
  return {open, total}
}

// eslint-disable-next-line no-control-regex
const ANSI_RE = /\u001b\[[0-9;]*m/g

/**
 * Every matrix in `text` (the demo's output), in order: the pods of its header and the reachability of each pair.
 * Throws on a malformed table, so a test cannot silently read nothing.
 */
export function parseMatrices(text: string): {pods: string[]; reach: Map<string, boolean>}[] {
  const lines = text.replace(ANSI_RE, '').split('\n')
  const out: {pods: string[]; reach: Map<string, boolean>}[] = []
  for (let i = 0; i < lines.length; i++) {
    const header = lines[i]!.trim()
    if (!header.startsWith(CORNER)) continue
    const pods = header.slice(CORNER.length).trim().split(/\s{2,}/)
    const reach = new Map<string, boolean>()
    for (const from of pods) {
      const cells = (lines[++i] ?? '').trim().split(/\s{2,}/)
      if (cells[0] !== from || cells.length !== pods.length + 1) throw new Error(`matrix row for ${from} is malformed: ${JSON.stringify(lines[i])}`)
      pods.forEach((to, j) => {
        const cell = cells[j + 1]!.replace('*', '')
        if (from === to) {
          if (cell !== SELF) throw new Error(`matrix cell ${from} → ${to} should be ${SELF}, is ${cell}`)
          return
        }
        if (cell !== OPEN && cell !== CLOSED) throw new Error(`matrix cell ${from} → ${to} is ${JSON.stringify(cell)}`)
        reach.set(pair(from, to), cell === OPEN)
      })
    }
    out.push({pods, reach})
  }
  return out
}
