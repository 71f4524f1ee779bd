// Bordered tables as calicoctl's `ipam show` prints them: go-pretty's default style (ASCII `+-|` borders,
// one space of padding, a rule under the header, no rules between rows), drawn with cli-table3.
import Table from 'cli-table3'

export type Align = 'left' | 'right'

export interface TableSpec {
  /** Header cells, printed as given (calicoctl's headers are already upper case). */
  header: readonly string[]
  rows: readonly (readonly string[])[]
  /** Alignment of body cells per column (default left); headers stay left-aligned, as go-pretty does. */
  align?: readonly Align[]
}

const ASCII = {
  top: '-',
  'top-mid': '+',
  'top-left': '+',
  'top-right': '+',
  bottom: '-',
  'bottom-mid': '+',
  'bottom-left': '+',
  'bottom-right': '+',
  left: '|',
  'left-mid': '+',
  mid: '-',
  'mid-mid': '+',
  right: '|',
  'right-mid': '+',
  middle: '|',
}

/** The table text with a trailing newline (go-pretty's output mirror adds one). */
export function renderTable(spec: TableSpec): string {
  const table = new Table({
    head: [...spec.header],
    chars: ASCII,
    // compact: a rule only under the header; no colours, so output is the same on a terminal and in a pipe.
    style: {head: [], border: [], compact: true, 'padding-left': 1, 'padding-right': 1},
  })
  for (const row of spec.rows) {
    table.push(row.map((content, i) => ({content, hAlign: spec.align?.[i] ?? 'left'})))
  }
  const lines = table.toString().split('\n')
  // go-pretty always rules off the header, even when no body row follows; cli-table3 draws that rule only
  // above a first body row, so an empty table gets it here (it is identical to the top border).
  if (spec.rows.length === 0) lines.splice(lines.length - 1, 0, lines[0])
  return `${lines.join('\n')}\n`
}
