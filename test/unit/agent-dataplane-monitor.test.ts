// The `nft monitor` output parser: which transactions touched the agent's table, and which were its own (marked).
// The lines are nft 1.0.6's own output for the transactions named in each case, recorded in a namespace.
import {chmodSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {MonitorParser, NftMonitor, markerScript, type MonitorReport} from '../../src/dataplane/linux/nft-monitor.js'
import {waitFor} from '../helpers/wait.js'

const TABLE = {family: 'inet', name: 'calico'} as const
const PREFIX = 'cali-txn-a1b2c3-'

function feed(lines: string[]): MonitorReport[] {
  const parser = new MonitorParser(TABLE, PREFIX)
  return lines.map((l) => parser.line(l)).filter((r): r is MonitorReport => r !== undefined)
}

describe('nft monitor parser', () => {
  it("the agent's own delta: its marker, and nothing else counted against it", () => {
    const reports = feed([
      'delete rule inet calico filter-cali-pi-np/bench/latency-probe handle 3583',
      'add rule inet calico filter-cali-pi-np/bench/latency-probe meta nfproto ipv4 tcp dport 7000 counter packets 0 bytes 0 drop comment "NetworkPolicy bench/latency-probe ingress"',
      `add chain inet calico ${PREFIX}7`,
      `delete chain inet calico ${PREFIX}7`,
      '# new generation 3 by process 5688 (nft)',
    ])
    expect(reports).toEqual([{kind: 'transaction', generation: 3, process: '5688 (nft)', markers: [`${PREFIX}7`], touched: true}])
  })

  it('another process flushing a chain, removing an element or deleting the table touches it, unmarked', () => {
    const reports = feed([
      'delete rule inet calico filter-FORWARD handle 1941',
      '# new generation 4 by process 26393 (nft)',
      'delete element inet calico cali40s--WjVZ6cqIXL2LwVjTiqMDaPSHH5hfQGEwaF_xA { 10.60.1.12 }',
      '# new generation 5 by process 26394 (nft)',
      'delete table inet calico',
      '# new generation 6 by process 26395 (nft)',
    ])
    expect(reports.map((r) => r.kind === 'transaction' && [r.generation, r.markers, r.touched])).toEqual([[4, [], true], [5, [], true], [6, [], true]])
  })

  it("changes to other tables, or a same-named table of another family, leave ours untouched", () => {
    const reports = feed([
      'add table ip calico',
      'add chain ip calico input { type filter hook input priority 0; policy accept; }',
      'add rule inet calico2 c counter accept',
      'add element inet foreign s { 10.0.0.1 }',
      '# new generation 9 by process 77 (kube-proxy)',
    ])
    expect(reports).toEqual([{kind: 'transaction', generation: 9, process: '77 (kube-proxy)', markers: [], touched: false}])
  })

  it('a marker of another agent instance (other prefix) is a foreign chain change', () => {
    const [r] = feed(['add chain inet calico cali-txn-ffffff-1', 'delete chain inet calico cali-txn-ffffff-1', '# new generation 2 by process 9 (nft)'])
    expect(r).toMatchObject({markers: [], touched: true})
  })

  it('lost events are reported and drop the transaction in progress', () => {
    const reports = feed([
      'delete rule inet calico filter-FORWARD handle 1',
      '# ERROR: We lost some netlink events!',
      `add chain inet calico ${PREFIX}1`,
      '# new generation 12',
    ])
    expect(reports).toEqual([{kind: 'lost'}, {kind: 'transaction', generation: 12, process: 'unknown', markers: [`${PREFIX}1`], touched: false}])
  })

  it('the marker script adds and deletes one chain in the table', () => {
    expect(markerScript(TABLE, `${PREFIX}3`)).toBe(`add chain inet calico ${PREFIX}3\ndelete chain inet calico ${PREFIX}3\n`)
  })
})

describe('nft monitor child', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nft-monitor-test-'))
  afterAll(() => rmSync(dir, {recursive: true, force: true}))
  /** A stand-in nft binary that prints `output` for `nft monitor`, in pieces, then exits with `code`. */
  const fakeNft = (name: string, body: string): string => {
    const path = join(dir, name)
    writeFileSync(path, `#!/bin/sh\n[ "$1" = monitor ] || exit 64\n${body}\n`)
    chmodSync(path, 0o755)
    return path
  }

  it('reports transactions as their lines arrive (split anywhere), then why it exited', async () => {
    const binary = fakeNft('nft-exits', [
      `printf 'add chain inet calico ${PREFIX}1\\ndelete chain inet calico ${PREFIX}1\\n# new generation 5 by process 1 (nft)\\n'`,
      `printf 'delete rule inet calico filter-FORWARD handle 1\\n# new gen'`,
      'sleep 0.1',
      `printf 'eration 6 by process 2 (nft)\\n'`,
      "echo 'Error: boom' >&2",
      'exit 3',
    ].join('\n'))
    const reports: MonitorReport[] = []
    const exits: string[] = []
    new NftMonitor({table: TABLE, binary}).start(PREFIX, {report: (r) => reports.push(r), exit: (reason) => exits.push(reason)})
    expect(await waitFor(() => exits.length > 0, 5000, 20)).toBe(true)
    expect(reports).toEqual([
      {kind: 'transaction', generation: 5, process: '1 (nft)', markers: [`${PREFIX}1`], touched: false},
      {kind: 'transaction', generation: 6, process: '2 (nft)', markers: [], touched: true},
    ])
    expect(exits).toEqual(['nft monitor exited (exit 3): Error: boom'])
  })

  it('stop() ends it without reporting an exit', async () => {
    const binary = fakeNft('nft-waits', 'exec sleep 30')
    const exits: string[] = []
    const monitor = new NftMonitor({table: TABLE, binary})
    monitor.start(PREFIX, {report: () => undefined, exit: (reason) => exits.push(reason)})
    await new Promise((r) => setTimeout(r, 100))
    monitor.stop()
    await new Promise((r) => setTimeout(r, 200))
    expect(exits).toEqual([])
  })

  it('a binary that cannot start is an exit', async () => {
    const exits: string[] = []
    new NftMonitor({table: TABLE, binary: join(dir, 'missing-nft')}).start(PREFIX, {report: () => undefined, exit: (reason) => exits.push(reason)})
    expect(await waitFor(() => exits.length > 0, 5000, 20)).toBe(true)
    expect(exits[0]).toMatch(/^nft monitor exited \(exit \d+\)/)
  })
})
