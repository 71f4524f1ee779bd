// The full script streamed while it is rendered (FullScriptStream): the same statements as renderFullScript, every
// object declared before it is referred to, in pipe-sized chunks; and through Nft.applyStream into the kernel (root,
// private namespace): the same table as the one-piece script, and nothing committed when rendering or nft fails.
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {Dataplane} from '../../src/agent/dataplane.js'
import {createAgentLogger} from '../../src/agent/log.js'
import {AgentMetrics} from '../../src/agent/metrics.js'
import {computePolicyState, namespaceProfile, type CalcEvent, type CalcResource, type PolicyState} from '../../src/dataplane/calc/index.js'
import {CommandError} from '../../src/dataplane/linux/exec.js'
import {Nft} from '../../src/dataplane/linux/nft.js'
import {FullScriptStream, renderFullScript, renderTable} from '../../src/dataplane/nftables/index.js'
import {NetnsRun, inNs, netnsUnavailable} from '../helpers/netns.js'
import {NetpolWorld, loadCases} from './nft-netpol-harness.js'
import {RICH_NODE, richResources} from './nft-rich-fixture.js'

const v3 = 'projectcalico.org/v3'

/** `policies` namespaced policies with 5 selector rules each over `endpoints` local endpoints: a script of many chunks. */
function scaled(policies: number, endpoints: number): PolicyState {
  const rs: CalcResource[] = [namespaceProfile('s', {})]
  for (let i = 0; i < endpoints; i++) {
    rs.push({
      apiVersion: v3, kind: 'WorkloadEndpoint',
      metadata: {name: `w${i}`, namespace: 's', labels: {app: `a${i % 20}`, tier: `t${i % 5}`, 'projectcalico.org/namespace': 's'}},
      spec: {node: RICH_NODE, interfaceName: `cali${i.toString(16).padStart(8, '0')}`, ipNetworks: [`10.66.${i >> 8}.${i & 255}/32`], profiles: ['kns.s']},
    })
  }
  for (let p = 0; p < policies; p++) {
    const ingress = Array.from({length: 5}, (_, r) => ({action: 'Allow', protocol: 'TCP', source: {selector: `app == 'a${(p + r) % 20}' && tier == 't${r}'`}, destination: {ports: [8000 + r]}}))
    rs.push({apiVersion: v3, kind: 'NetworkPolicy', metadata: {name: `p${p}`, namespace: 's'}, spec: {order: p, selector: `app == 'a${p % 20}'`, types: ['Ingress'], ingress}})
  }
  return computePolicyState(RICH_NODE, rs)
}

function netpolStates(): PolicyState[] {
  const fixtures = `${import.meta.dirname}/../fixtures/netpol`
  const out: PolicyState[] = []
  for (const c of [...loadCases(`${fixtures}/cases`), ...loadCases(`${fixtures}/calico-cases`)]) {
    const world = new NetpolWorld()
    for (const step of c.steps) {
      for (const a of step.actions) world.act(a)
      out.push(world.calc.state())
    }
  }
  return out
}

const sortedLines = (script: string): string[] => script.split('\n').filter((l) => l !== '').sort()

/** The first line that refers to a chain, set or map not declared on an earlier line, or undefined. */
function firstUndeclaredReference(script: string): string | undefined {
  const declared = new Set<string>()
  for (const line of script.split('\n')) {
    const words = line.split(' ')
    if (words[0] === 'delete' || words[1] === 'table' || line === '') continue
    const [, what, , , name] = words
    if (what === 'chain' || what === 'set' || what === 'map') {
      declared.add(name!)
      continue
    }
    const refs = [name!]
    for (const m of line.matchAll(/(?:jump|goto) ([^\s,}]+)|@(\S+)/g)) refs.push(m[1] ?? m[2]!)
    if (refs.some((r) => !declared.has(r))) return line
  }
  return undefined
}

describe('FullScriptStream', () => {
  const states: [string, PolicyState][] = [
    ['feature-rich v1', computePolicyState(RICH_NODE, richResources(1))],
    ['feature-rich v2', computePolicyState(RICH_NODE, richResources(2))],
    ['empty', computePolicyState(RICH_NODE, [])],
    ['200 policies, 100 endpoints', scaled(200, 100)],
  ]

  for (const [name, state] of states) {
    it(`${name}: the statements of renderFullScript, each object declared before use, and the same table`, () => {
      const stream = new FullScriptStream(state)
      const text = [...stream].join('')
      const table = renderTable(state)
      expect(sortedLines(text)).toEqual(sortedLines(renderFullScript(table)))
      expect(firstUndeclaredReference(text)).toBeUndefined()
      expect(renderFullScript(stream.table)).toBe(renderFullScript(table))
      expect(stream.length).toBe(text.length)
      // Read again (a retried apply), it renders the same script again.
      expect([...stream].join('')).toBe(text)
      expect(stream.length).toBe(text.length)
    })
  }

  it('every state of the netpol cases streams the statements of its full script, in a valid order', () => {
    const states = netpolStates()
    expect(states.length).toBeGreaterThan(59)
    for (const state of states) {
      const text = [...new FullScriptStream(state)].join('')
      expect(sortedLines(text)).toEqual(sortedLines(renderFullScript(renderTable(state))))
      expect(firstUndeclaredReference(text)).toBeUndefined()
    }
  })

  it('the order check itself catches a reference ahead of its declaration', () => {
    const script = renderFullScript(renderTable(states[0]![1]))
    expect(firstUndeclaredReference(script)).toBeUndefined()
    const lines = script.split('\n')
    const rule = lines.findIndex((l) => /^add rule .* jump /.test(l))
    expect(firstUndeclaredReference([lines[0], lines[rule], ...lines].join('\n'))).toBe(lines[rule])
  })

  it('hands the script out in pipe-sized chunks while rendering, and the table only at the end', () => {
    const stream = new FullScriptStream(scaled(200, 100))
    const it = stream[Symbol.iterator]()
    const first = it.next()
    expect(first.done).toBe(false)
    expect(() => stream.table).toThrow(/not been read to the end/)
    const chunks = [first.value as string]
    for (let step = it.next(); !step.done; step = it.next()) chunks.push(step.value)
    expect(chunks.length).toBeGreaterThan(5)
    for (const c of chunks.slice(0, -1)) expect(c.length).toBeGreaterThanOrEqual(64 * 1024)
    // Chunks end at line ends, so nothing depends on how they are cut.
    for (const c of chunks) expect(c.endsWith('\n')).toBe(true)
    expect(stream.table.chains.size).toBeGreaterThan(400)
  })
})

describe('Nft.applyStream without a working nft', () => {
  it('reports a binary that cannot start, or one that exits without reading, instead of waiting for it', async () => {
    await expect(new Nft(['/nonexistent/nft']).applyStream(['add table inet t\n'])).rejects.toThrow(/ENOENT/)
    // `false` never opens the pipe: the write end must not wait for a reader that never comes.
    await expect(new Nft(['false']).applyStream(['add table inet t\n'])).rejects.toBeInstanceOf(CommandError)
  })

  it('without a place for its pipe, sends the same script whole on stdin', async () => {
    const tmp = process.env['TMPDIR']
    process.env['TMPDIR'] = '/nonexistent/tmp'
    try {
      // A stand-in for nft that records its arguments and its stdin.
      const dir = mkdtempSync(join(tmp ?? '/tmp', 'nfs-'))
      try {
        const out = join(dir, 'out')
        const record = "const fs = require('fs'); fs.writeFileSync(process.argv[1], JSON.stringify([process.argv.slice(2), fs.readFileSync(0, 'utf8')]))"
        await new Nft([process.execPath, '-e', record, out]).applyStream(['add table', ' inet t\n', 'add chain inet t c\n'])
        expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual([['-f', '-'], 'add table inet t\nadd chain inet t c\n'])
      } finally {
        rmSync(dir, {recursive: true, force: true})
      }
    } finally {
      if (tmp === undefined) delete process.env['TMPDIR']
      else process.env['TMPDIR'] = tmp
    }
  })
})

/** `nft -s list` with its top-level blocks sorted: the listing follows creation order, which the two scripts differ in. */
function canonicalListing(ns: string): string {
  const listing = inNs(ns, 'nft', ['-s', 'list', 'table', 'inet', 'calico'])
  const blocks: string[] = []
  for (const line of listing.split('\n').slice(1, -2)) {
    if (/^\t\S/.test(line)) blocks.push(line)
    else blocks[blocks.length - 1] += `\n${line}`
  }
  return blocks.sort().join('\n')
}

describe.skipIf(netnsUnavailable() !== undefined)('Nft.applyStream against the kernel (in a private netns)', () => {
  let run: NetnsRun | undefined
  let ns = ''
  let nft: Nft
  beforeAll(() => {
    run = new NetnsRun('hnfs')
    ns = run.addNetns('nft')
    nft = new Nft(['ip', 'netns', 'exec', ns, 'nft'])
  })
  afterAll(() => run?.destroy())

  const big = scaled(300, 150)

  it('a streamed script builds the same table as the one-piece script', async () => {
    for (const state of [computePolicyState(RICH_NODE, richResources(1)), big]) {
      await nft.apply(renderFullScript(renderTable(state)))
      const whole = canonicalListing(ns)
      await nft.apply(renderFullScript(renderTable(computePolicyState(RICH_NODE, []))))
      expect(canonicalListing(ns)).not.toBe(whole)
      const stream = new FullScriptStream(state)
      await nft.applyStream(stream)
      expect(canonicalListing(ns)).toBe(whole)
      expect(renderFullScript(stream.table)).toBe(renderFullScript(renderTable(state)))
    }
  })

  it('a render that fails part-way commits nothing: the previous table stays as it was', async () => {
    await nft.apply(renderFullScript(renderTable(computePolicyState(RICH_NODE, richResources(1)))))
    const before = canonicalListing(ns)
    let sent = 0
    function* failing(): Generator<string> {
      // Several chunks reach nft (its first statements replace the table) before rendering fails.
      for (const chunk of new FullScriptStream(big)) {
        yield chunk
        if (++sent === 4) throw new Error('render failed')
      }
    }
    await expect(nft.applyStream(failing())).rejects.toThrow('render failed')
    expect(sent).toBe(4)
    expect(canonicalListing(ns)).toBe(before)
  })

  it('an nft started ahead takes its script later, or, cancelled, commits nothing', async () => {
    const state = computePolicyState(RICH_NODE, richResources(1))
    await nft.apply(renderFullScript(renderTable(computePolicyState(RICH_NODE, []))))
    const empty = canonicalListing(ns)
    const early = nft.prepareStream()
    // Started and waiting on its pipe while the table does not exist yet.
    await new Promise((resolve) => setTimeout(resolve, 100))
    await early.apply(new FullScriptStream(state))
    const applied = canonicalListing(ns)
    expect(applied).not.toBe(empty)
    await nft.apply(renderFullScript(renderTable(state)))
    expect(canonicalListing(ns)).toBe(applied)
    const unused = nft.prepareStream()
    await new Promise((resolve) => setTimeout(resolve, 100))
    await unused.cancel()
    expect(canonicalListing(ns)).toBe(applied)
  })

  it('the agent\'s first apply, written while IP set members are fed in, builds the table of the one-piece script', async () => {
    const wep = (i: number, node: string, app: string): CalcResource => ({
      apiVersion: v3, kind: 'WorkloadEndpoint',
      metadata: {name: `w${i}`, namespace: 's', labels: {app}},
      spec: {node, interfaceName: `cali${i}`, ipNetworks: [`10.67.${i >> 8}.${i & 255}/32`], profiles: ['kns.s']},
    })
    const structure: CalcResource[] = [namespaceProfile('s', {}), wep(0, RICH_NODE, 'web')]
    for (let p = 0; p < 20; p++) {
      structure.push({apiVersion: v3, kind: 'NetworkPolicy', metadata: {name: `p${p}`, namespace: 's'}, spec: {selector: "app == 'web'", types: ['Ingress'], ingress: [{action: 'Allow', source: {selector: `app == 'c${p % 4}'`}}]}})
    }
    const members = Array.from({length: 3000}, (_, i) => wep(i + 1, 'elsewhere', `c${i % 4}`))
    await nft.apply(renderFullScript(renderTable(computePolicyState(RICH_NODE, [...structure, ...members]))))
    const whole = canonicalListing(ns)
    await nft.apply(renderFullScript(renderTable(computePolicyState(RICH_NODE, []))))
    // The script as it goes to nft, to see that the early path was taken.
    let sent = ''
    const tapped: Pick<Nft, 'apply' | 'prepareStream' | 'list'> = {
      apply: (script) => nft.apply(script),
      list: (table) => nft.list(table),
      prepareStream: () => {
        const tx = nft.prepareStream()
        return {
          apply: (chunks) => tx.apply((async function* () {
            for await (const chunk of chunks) yield (sent += chunk, chunk)
          })()),
          cancel: () => tx.cancel(),
        }
      },
    }
    let ready!: () => void
    const applied = new Promise<void>((resolve) => (ready = resolve))
    const dp = new Dataplane({
      nodeName: RICH_NODE, logger: createAgentLogger('panic'), metrics: new AgentMetrics(), interfacePrefixes: ['cali'], ipv6: false,
      nft: tapped, watcher: false, routes: {reconcile: async () => ({replace: [], remove: [], deferred: 0}), setOptions: () => undefined},
      onApplied: (ok) => ok && ready(),
    })
    const events = (rs: CalcResource[]): CalcEvent[] => rs.map((resource) => ({type: 'set', resource}))
    await dp.replaceAll(events(structure), () => expect.fail('no problem expected'), events(members))
    await applied
    await dp.stop()
    expect(sent.lastIndexOf('add rule ')).toBeLessThan(sent.indexOf('add element inet calico cali40s'))
    expect(canonicalListing(ns)).toBe(whole)
  })

  it('a script nft rejects commits nothing and reports nft\'s complaint', async () => {
    await nft.apply(renderFullScript(renderTable(computePolicyState(RICH_NODE, richResources(2)))))
    const before = canonicalListing(ns)
    const bad = function* (): Generator<string> {
      yield* new FullScriptStream(big)
      yield 'add rule inet calico no-such-chain counter accept\n'
    }
    const err = await nft.applyStream(bad()).then(() => undefined, (e: unknown) => e)
    expect(err).toBeInstanceOf(CommandError)
    // nft names the line (it cannot show it again: the pipe is gone by then).
    expect((err as CommandError).stderr).toMatch(/:\d+:\d+-\d+: Error: Could not process rule: No such file or directory/)
    expect(canonicalListing(ns)).toBe(before)
  })
})
