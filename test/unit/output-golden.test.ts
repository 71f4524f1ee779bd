// Golden outputs per kind and format for one calicoctl ST fixture of each kind, so a change to any
// printer shows up as a reviewable diff (the hand-checked expectations live in the other output-* tests).
import {describe, expect, it} from 'vitest'
import {decodeResource} from '../../src/api/decode.js'
import {formatResources} from '../../src/cli/output/index.js'
import {cases, list, stored} from './output-helpers.js'

/** One fixture per kind (the first in file order); $MANY_NETS fixtures are covered by the truncation tests. */
const byKind = new Map<string, string>()
for (const [name, f] of Object.entries(cases.fixtures)) {
  if (name.endsWith('_large') || name.endsWith('_long') || name.includes('invalid')) continue
  if (!byKind.has(f.kind)) byKind.set(f.kind, name)
}

describe.each([...byKind.entries()])('%s golden outputs (fixture %s)', (kind, fixture) => {
  it.each(['ps', 'wide', 'yaml', 'json'])('-o %s', async (format) => {
    // Decoded as calicoctl does on input, so keys are canonical (`exportv4` → `exportV4`, `Order` → `order`).
    const res = decodeResource(stored(fixture))
    const out = await formatResources([list(kind, [res])], format, {
      printNamespace: true,
      getDefaultBGPConfiguration: async () => undefined,
    })
    await expect(out).toMatchFileSnapshot(`../fixtures/output/golden/${kind}.${format}.txt`)
  })
})
