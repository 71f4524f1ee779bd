// The demo's matrix text: rendering and parsing agree, changes are marked, colour codes do not confuse the parser,
// and a damaged table is an error rather than an empty result.
import {describe, expect, it} from 'vitest'

import {ANSI, countOpen, pair, parseMatrices, renderMatrix} from '../../demo/matrix.js'

const pods = ['frontend', 'web', 'a']
const reach = new Map([
  [pair('frontend', 'web'), true], [pair('frontend', 'a'), false],
  [pair('web', 'frontend'), true], [pair('web', 'a'), true],
  [pair('a', 'frontend'), false], [pair('a', 'web'), false],
])

describe('demo reachability matrix', () => {
  it('renders an aligned table that parses back to the same reachability', () => {
    const text = renderMatrix(pods, reach)
    expect(text.split('\n').slice(0, 4)).toEqual([
      '  from ↓  to →  frontend  web  a',
      '  frontend      ·         ✓    ✗',
      '  web           ✓         ·    ✓',
      '  a             ✗         ✗    ·',
    ])
    expect(parseMatrices(`noise\n${text}\nmore\n${text}`)).toEqual([{pods, reach}, {pods, reach}])
    expect(countOpen(pods, reach)).toEqual({open: 3, total: 6})
  })

  it('marks cells that changed since the previous matrix, and parses coloured output', () => {
    const before = new Map([...reach, [pair('a', 'web'), true]])
    const text = renderMatrix(pods, reach, ANSI, before)
    expect(text).toContain('\u001b[31m✗*')
    expect(text.match(/\*/g)?.length).toBe(2) // the cell and the legend
    expect(parseMatrices(text)).toEqual([{pods, reach}])
  })

  it('rejects a damaged table', () => {
    const lines = renderMatrix(pods, reach).split('\n')
    expect(() => parseMatrices([lines[0], lines[1], lines[3]].join('\n'))).toThrow(/row for web/)
    expect(() => parseMatrices(lines.join('\n').replace('✓    ✗', '?    ✗'))).toThrow(/frontend → web/)
  })
})
