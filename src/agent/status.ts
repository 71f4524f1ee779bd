// `calicoctl node status`: is a node agent running on this host, and what does BIRD say about its BGP peers.
// Pure parts (process recognition, BIRD's `show protocols` reply, the peer table) are separate from the I/O
// (scanning /proc, the BIRD control socket) so they can be tested without either.
import {readFile, readdir} from 'node:fs/promises'
import {createConnection} from 'node:net'
import {basename} from 'node:path'

export type BirdFamily = 4 | 6

/** calico-felix, `calico-node -felix`, or this project's agent (`calicoctl node run`). */
export function isAgentCommandLine(argv: readonly string[]): boolean {
  const exe = basename(argv[0] ?? '')
  if (exe === 'calico-felix') return true
  if (exe === 'calico-node' && argv[1] === '-felix') return true
  const ctl = argv.findIndex((a, i) => basename(a) === 'calicoctl' && i <= 1)
  return ctl >= 0 && argv[ctl + 1] === 'node' && argv[ctl + 2] === 'run'
}

export function isBirdCommandLine(argv: readonly string[], family: BirdFamily): boolean {
  return basename(argv[0] ?? '') === (family === 4 ? 'bird' : 'bird6')
}

/** Command lines of every process this namespace can see (a process may exit mid-scan: skipped). */
export async function processCommandLines(): Promise<string[][]> {
  const out: string[][] = []
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue
    const raw = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')
    if (raw !== '') out.push(raw.split('\0').filter((a) => a !== ''))
  }
  return out
}

export interface BgpPeer {
  address: string
  type: string
  state: string
  since: string
  info: string
}

export class BirdOutputError extends Error {}

const PEER_TYPES: Record<string, string> = {Global: 'global', Mesh: 'node-to-node mesh', Node: 'node specific'}

/** Parses BIRD's reply to `show protocols` (as calicoctl does); only Calico's BGP sessions are reported. */
export function parseBirdProtocols(reply: string, family: BirdFamily): BgpPeer[] {
  const peers: BgpPeer[] = []
  for (const line of reply.split('\n')) {
    if (line.trim() === '' || line.startsWith('0001')) continue
    if (line.startsWith('0000')) return peers
    if (line.startsWith('2002-')) {
      if (line.slice(5).trim().split(/\s+/).join(' ') !== 'name proto table state since info') throw new BirdOutputError('unknown BIRD table output format')
      continue
    }
    let body: string
    if (line.startsWith('1002-')) body = line.slice(5)
    else if (line.startsWith(' ')) body = line
    else throw new BirdOutputError('unexpected output line from BIRD')
    const cols = body.trim().split(/\s+/)
    if (cols.length < 5 || cols[1] !== 'BGP') continue
    const m = /^(Global|Node|Mesh)_(.+)$/.exec(cols[0]!)
    if (!m) continue
    peers.push({
      address: m[2]!.replaceAll('_', family === 4 ? '.' : ':'),
      type: PEER_TYPES[m[1]!]!,
      state: cols[3]!,
      since: cols[4]!,
      info: cols.slice(5).join(' '),
    })
  }
  throw new BirdOutputError('unexpected output line from BIRD')
}

/** The peer table in calicoctl's (tablewriter's) layout: centred headers, left-aligned cells. */
export function peerTable(peers: readonly BgpPeer[]): string {
  const header = ['PEER ADDRESS', 'PEER TYPE', 'STATE', 'SINCE', 'INFO']
  const rows = peers.map((p) => [p.address, p.type, p.state, p.since, p.info])
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const rule = `+${widths.map((w) => '-'.repeat(w + 2)).join('+')}+`
  const centre = (s: string, w: number): string => {
    const left = Math.floor((w - s.length) / 2)
    return ' '.repeat(left) + s + ' '.repeat(w - s.length - left)
  }
  const line = (cells: string[], fmt: (s: string, w: number) => string): string => `|${cells.map((c, i) => ` ${fmt(c, widths[i]!)} `).join('|')}|`
  return [rule, line(header, centre), rule, ...rows.map((r) => line(r, (s, w) => s.padEnd(w))), rule].join('\n') + '\n'
}

/** Asks BIRD over its control socket; calico/node's path first, then BIRD's default. */
export async function queryBird(family: BirdFamily, timeoutMs = 2000): Promise<string> {
  const name = family === 4 ? 'bird.ctl' : 'bird6.ctl'
  let lastErr: Error | undefined
  for (const path of [`/var/run/calico/${name}`, `/var/run/bird/${name}`]) {
    try {
      return await new Promise<string>((resolve, reject) => {
        const sock = createConnection(path)
        let data = ''
        const timer = setTimeout(() => {
          sock.destroy()
          reject(new Error('timeout reading from BIRD'))
        }, timeoutMs)
        sock.on('connect', () => sock.write('show protocols\n'))
        sock.on('data', (b: Buffer) => {
          data += b.toString()
          if (/(^|\n)0000/.test(data)) {
            clearTimeout(timer)
            sock.destroy()
            resolve(data)
          }
        })
        sock.on('error', (err) => {
          clearTimeout(timer)
          reject(err)
        })
      })
    } catch (err) {
      lastErr = err as Error
    }
  }
  throw new Error(`unable to connect to BIRDv${family} socket: ${lastErr?.message ?? 'unknown error'}`)
}

/** The whole report, from what the caller found (processes, BIRD replies). */
export async function nodeStatus(deps: {
  commandLines: () => Promise<string[][]>
  query: (family: BirdFamily) => Promise<string>
}): Promise<{text: string; running: boolean}> {
  const procs = await deps.commandLines()
  if (!procs.some(isAgentCommandLine)) return {text: '', running: false}
  let text = 'Calico process is running.\n'
  const birds = ([4, 6] as const).filter((f) => procs.some((p) => isBirdCommandLine(p, f)))
  if (birds.length === 0) return {text: `${text}\nThe BGP backend process (BIRD) is not running.\n\n`, running: true}
  for (const family of [4, 6] as const) {
    if (!birds.includes(family)) {
      text += `\nINFO: BIRDv${family} process: '${family === 4 ? 'bird' : 'bird6'}' is not running.\n`
      continue
    }
    text += `\nIPv${family} BGP status\n`
    try {
      const peers = parseBirdProtocols(await deps.query(family), family)
      text += peers.length === 0 ? `No IPv${family} peers found.\n` : peerTable(peers)
    } catch (err) {
      text += `Error querying BIRD: ${(err as Error).message}\n`
    }
  }
  return {text: `${text}\n`, running: true}
}
