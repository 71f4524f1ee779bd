// Go's text/tabwriter (flags 0, space padding) as calicoctl configures it: scripts parse the
// resulting column widths, so the column-block algorithm is reproduced rather than approximated.
//
// Text is split into lines at '\n' and into cells at '\t'. A cell terminated by '\t' belongs to a
// column; the text after a line's last tab is a trailing cell that is printed unpadded. Column
// widths are computed per column block (consecutive lines that have a cell in that column), as
// max(minwidth, widest cell + padding). A line without any tab ends all blocks.

export interface TabwriterOptions {
  minwidth: number
  padding: number
}

/** calicoctl's `tabwriter.NewWriter(os.Stdout, 5, 1, 3, ' ', 0)`. */
export const CALICOCTL_TABLE: TabwriterOptions = {minwidth: 5, padding: 3}

interface Cell {
  text: string
  width: number
}

/** Width in runes, as Go counts with utf8.RuneCount. */
function runeWidth(s: string): number {
  let n = 0
  for (const _ of s) n++
  return n
}

export function tabwrite(text: string, opts: TabwriterOptions = CALICOCTL_TABLE): string {
  // Go flushes whenever a line with a single cell completes, so such lines split the input into
  // independently formatted segments.
  const lines = text.split('\n').map((l) => l.split('\t').map((t): Cell => ({text: t, width: runeWidth(t)})))
  let out = ''
  let start = 0
  for (let i = 0; i < lines.length; i++) {
    const isLast = i === lines.length - 1
    if (lines[i].length === 1 && !isLast) {
      out += formatSegment(lines.slice(start, i + 1), opts, true)
      start = i + 1
    }
  }
  out += formatSegment(lines.slice(start), opts, false)
  return out
}

/** Formats buffered lines; every line but the last of the whole input ends with '\n'. */
function formatSegment(lines: Cell[][], opts: TabwriterOptions, newlineAfterLast: boolean): string {
  const widths: number[] = []
  let out = ''

  const writeLines = (line0: number, line1: number): void => {
    for (let i = line0; i < line1; i++) {
      const line = lines[i]
      line.forEach((c, j) => {
        out += c.text
        if (j < widths.length) out += ' '.repeat(Math.max(0, widths[j] - c.width))
      })
      if (i + 1 < lines.length || newlineAfterLast) out += '\n'
    }
  }

  const format = (line0: number, line1: number): void => {
    const column = widths.length
    for (let cur = line0; cur < line1; cur++) {
      if (column >= lines[cur].length - 1) continue
      // A cell exists in this column: print the lines before the block, then size the block.
      writeLines(line0, cur)
      line0 = cur
      let width = opts.minwidth
      for (; cur < line1; cur++) {
        const line = lines[cur]
        if (column >= line.length - 1) break
        width = Math.max(width, line[column].width + opts.padding)
      }
      widths.push(width)
      format(line0, cur)
      widths.pop()
      line0 = cur
    }
    writeLines(line0, line1)
  }

  format(0, lines.length)
  return out
}
