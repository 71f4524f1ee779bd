// The etcd KV client (src/datastore/etcd/kv.ts over grpc.ts): its reads against real etcd servers: ranges, paging
// fields and revisions checked against etcdctl, responses of several MiB, failover between endpoints, TLS with a
// throw-away CA, username/password authentication (with a token etcd stops accepting), and the failures a user
// must be told about. gRPC framing cases that etcd does not produce on demand use a local HTTP/2 server.

import {once} from 'node:events'
import {createServer, type Http2Server, type IncomingHttpHeaders, type ServerHttp2Session, type ServerHttp2Stream} from 'node:http2'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {ClientClosedError, GrpcClient, GrpcStatusError, Status, TransportError} from '../../src/datastore/etcd/grpc.js'
import {etcdConnection} from '../../src/datastore/etcd/options.js'
import {EtcdKV} from '../../src/datastore/etcd/kv.js'
import type {DatastoreConfig} from '../../src/datastore/config.js'
import {etcdSkipReason} from '../helpers/etcd.js'
import {useEtcd} from '../helpers/etcd-vitest.js'
import {execArgv} from '../helpers/exec.js'
import {freePort} from '../helpers/ports.js'

const skip = etcdSkipReason() !== undefined
const timeouts = {dialTimeoutMs: 2000, requestTimeoutMs: 5000}

/** A reader as the backend makes one, from calicoctl-style configuration. */
function reader(config: Partial<DatastoreConfig>, opts = timeouts): EtcdKV {
  return new EtcdKV(etcdConnection({datastoreType: 'etcdv3', ...config}), opts)
}

/** Runs `fn` with a reader and closes it afterwards, also when `fn` fails. */
async function withReader<T>(config: Partial<DatastoreConfig>, fn: (r: EtcdKV) => Promise<T>): Promise<T> {
  const r = reader(config)
  try {
    return await fn(r)
  } finally {
    r.close()
  }
}

const failure = <T>(p: Promise<T>): Promise<unknown> => p.then(() => new Error('expected a failure'), (err: unknown) => err)

/** The end of the range of keys starting with `prefix` (none of these prefixes end in 0xff). */
const after = (prefix: string) => Buffer.from(prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1))

describe.skipIf(skip)('etcd reads over the small gRPC client', () => {
  const etcd = useEtcd()
  const json = async (args: string[]) =>
    JSON.parse(await etcd.etcdctl([...args, '-w', 'json'])) as {
      header: {revision: number}
      kvs?: {key: string; create_revision: number; mod_revision: number; version: number}[]
      count?: number
    }

  it('reads one key with the revisions and version etcdctl reports', async () => {
    await etcd.etcdctl(['put', '/calico/one', '{"v":1}'])
    await etcd.etcdctl(['put', '/calico/one', '{"v":2}'])
    const expected = await json(['get', '/calico/one'])
    await withReader({etcdEndpoints: etcd.endpoints}, async (r) => {
      const res = await r.range({key: Buffer.from('/calico/one')})
      expect(res.revision).toBe(expected.header.revision)
      expect(res.kvs).toEqual([
        {
          key: '/calico/one',
          value: '{"v":2}',
          createRevision: expected.kvs![0].create_revision,
          modRevision: expected.kvs![0].mod_revision,
          version: 2,
        },
      ])
      expect([res.more, res.count]).toEqual([false, 1])
      expect((await r.range({key: Buffer.from('/calico/none')})).kvs).toEqual([])
    })
  })

  it('reads a prefix in key order, in pages: limit, more, count and the last key', async () => {
    const names = Array.from({length: 10}, (_, i) => `/calico/p/${String(i).padStart(2, '0')}`)
    await etcd.etcdctl(['txn'], `\n${names.map((n) => `put ${n} "${n.slice(-2)}"`).join('\n')}\n\n\n`)
    await etcd.etcdctl(['put', '/calico/q', 'outside'])
    await withReader({etcdEndpoints: etcd.endpoints}, async (r) => {
      const all = await r.range({key: Buffer.from('/calico/p/'), rangeEnd: after('/calico/p/')})
      expect(all.kvs.map((kv) => kv.key)).toEqual(names)
      expect(all.kvs.map((kv) => kv.value)).toEqual(names.map((n) => n.slice(-2)))
      const page = await r.range({key: Buffer.from('/calico/p/'), rangeEnd: after('/calico/p/'), limit: 3})
      expect(page.kvs.map((kv) => kv.key)).toEqual(names.slice(0, 3))
      expect([page.more, page.count, page.lastKey?.toString()]).toEqual([true, 10, names[2]])
      const keysOnly = await r.range({key: Buffer.from('/calico/p/'), rangeEnd: after('/calico/p/'), limit: 2, keysOnly: true})
      expect(keysOnly.kvs.map((kv) => [kv.key, kv.value])).toEqual([
        [names[0], ''],
        [names[1], ''],
      ])
    })
  })

  it('reads at an earlier revision, and says when that revision was compacted', async () => {
    await etcd.etcdctl(['put', '/calico/r', 'old'])
    const old = (await json(['get', '/calico/r'])).header.revision
    await etcd.etcdctl(['put', '/calico/r', 'new'])
    await withReader({etcdEndpoints: etcd.endpoints}, async (r) => {
      const then = await r.range({key: Buffer.from('/calico/r'), revision: old})
      expect([then.revision, then.kvs[0].value]).toEqual([expect.any(Number), 'old'])
      expect((await r.range({key: Buffer.from('/calico/r')})).kvs[0].value).toBe('new')
      await etcd.etcdctl(['compact', String(old + 1)])
      const err = await failure(r.range({key: Buffer.from('/calico/r'), revision: old}))
      expect(err).toBeInstanceOf(GrpcStatusError)
      expect((err as GrpcStatusError).details).toBe('etcdserver: mvcc: required revision has been compacted')
    })
  })

  it('reads several keys in one transaction at one revision, in the order asked', async () => {
    await etcd.etcdctl(['put', '/calico/t/a', 'A'])
    await etcd.etcdctl(['put', '/calico/t/b', 'B'])
    const head = (await json(['get', '/calico/t/b'])).header.revision
    await withReader({etcdEndpoints: etcd.endpoints}, async (r) => {
      const res = await r.ranges([{key: Buffer.from('/calico/t/b')}, {key: Buffer.from('/calico/t/none')}, {key: Buffer.from('/calico/t/a')}])
      expect(res.succeeded).toBe(true)
      expect(res.revision).toBe(head)
      expect(res.responses.map((x) => x?.kvs.map((kv) => kv.value))).toEqual([['B'], [], ['A']])
    })
  })

  it('receives a response of several MiB (many HTTP/2 DATA frames) intact, and refuses one above its limit', async () => {
    // 64 values of 96 KiB, each different, written 8 per transaction (etcd takes requests up to 1.5 MiB).
    const value = (i: number) => `${String(i).padStart(4, '0')}:`.repeat(96 * 1024 / 5).padEnd(96 * 1024, '.')
    for (let t = 0; t < 8; t++) {
      const puts = Array.from({length: 8}, (_, j) => `put /calico/big/${String(t * 8 + j).padStart(2, '0')} ${value(t * 8 + j)}`)
      await etcd.etcdctl(['txn'], `\n${puts.join('\n')}\n\n\n`)
    }
    await withReader({etcdEndpoints: etcd.endpoints}, async (r) => {
      const res = await r.range({key: Buffer.from('/calico/big/'), rangeEnd: after('/calico/big/')})
      expect(res.kvs).toHaveLength(64)
      res.kvs.forEach((kv, i) => {
        expect(kv.key).toBe(`/calico/big/${String(i).padStart(2, '0')}`)
        expect(kv.value === value(i)).toBe(true) // not toBe: a 96 KiB diff is no help
      })
    })
    const small = new GrpcClient({endpoints: [etcd.endpoints], ...timeouts, maxMessageBytes: 1024 * 1024})
    try {
      const {encodeRangeRequest} = await import('../../src/datastore/etcd/proto.js')
      const err = await failure(small.unary('/etcdserverpb.KV/Range', encodeRangeRequest({key: Buffer.from('/calico/big/'), rangeEnd: after('/calico/big/')})))
      expect(err).toBeInstanceOf(GrpcStatusError)
      expect([(err as GrpcStatusError).code, (err as Error).message]).toEqual([Status.RESOURCE_EXHAUSTED, 'response larger than 1048576 bytes'])
      // The connection survives a cancelled call.
      expect((await small.unary('/etcdserverpb.KV/Range', encodeRangeRequest({key: Buffer.from('/calico/big/00')}))).length).toBeGreaterThan(96 * 1024)
    } finally {
      small.close()
    }
  })

  it('an unreachable endpoint is a TransportError naming the refused address; a closed reader refuses calls', async () => {
    const port = await freePort()
    const r = reader({etcdEndpoints: `http://127.0.0.1:${port}`})
    const err = await failure(r.range({key: Buffer.from('/calico/x')}))
    expect(err).toBeInstanceOf(TransportError)
    expect((err as Error).message).toBe(`connect ECONNREFUSED 127.0.0.1:${port}`)
    r.close()
    expect(await failure(r.range({key: Buffer.from('/calico/x')}))).toBeInstanceOf(ClientClosedError)
  })

  it('an idle client does not keep the process alive, so a command that forgets close() still exits', async () => {
    await etcd.etcdctl(['put', '/calico/idle', 'yes'])
    const script = [
      `const {EtcdKV} = await import(${JSON.stringify(join(import.meta.dirname, '../../src/datastore/etcd/kv.ts'))})`,
      `const r = new EtcdKV({hosts: [${JSON.stringify(etcd.endpoints)}]}, {dialTimeoutMs: 2000, requestTimeoutMs: 5000})`,
      `console.log((await r.range({key: Buffer.from('/calico/idle')})).kvs[0].value)`,
    ].join('\n')
    const register = join(import.meta.dirname, 'helpers/register.mjs')
    // Killed (code 128) if it does not exit by itself.
    const r = await execArgv([process.execPath, '--import', register, '--input-type=module', '-e', script], {timeoutMs: 20_000})
    expect([r.code, r.stdout]).toEqual([0, 'yes\n'])
  })
})

describe.skipIf(skip)('etcd writes over the small gRPC client', () => {
  const etcd = useEtcd()
  const revisionOf = async (key: string) =>
    (JSON.parse(await etcd.etcdctl(['get', key, '-w', 'json'])) as {kvs?: {mod_revision: number}[]}).kvs?.[0]?.mod_revision
  const key = (k: string) => Buffer.from(k)

  it('Put: the value etcdctl then reads, at the revision the response gives', async () => {
    await withReader({etcdEndpoints: etcd.endpoints}, async (r) => {
      const res = await r.put({key: key('/calico/w/put'), value: Buffer.from('{"ü":1}')})
      expect(await etcd.etcdctl(['get', '/calico/w/put', '--print-value-only'])).toBe('{"ü":1}\n')
      expect(await revisionOf('/calico/w/put')).toBe(res.revision)
    })
  })

  it('Txn: create if absent (version == 0), then compare-and-swap on the mod revision; a failed compare takes the else branch', async () => {
    await withReader({etcdEndpoints: etcd.endpoints}, async (r) => {
      const k = key('/calico/w/cas')
      const create = (value: string) =>
        r.txn({
          compare: [{key: k, target: 'version', result: '==', value: 0}],
          success: [{put: {key: k, value: Buffer.from(value)}}],
          failure: [{range: {key: k}}],
        })
      const created = await create('one')
      expect(created.succeeded).toBe(true)
      expect(await revisionOf('/calico/w/cas')).toBe(created.revision)
      const again = await create('two')
      expect(again.succeeded).toBe(false)
      expect(again.responses[0]?.kvs.map((kv) => [kv.value, kv.modRevision, kv.version])).toEqual([['one', created.revision, 1]])

      const swap = (rev: number, value: string) =>
        r.txn({compare: [{key: k, target: 'mod', result: '==', value: rev}], success: [{put: {key: k, value: Buffer.from(value)}}], failure: []})
      expect((await swap(created.revision - 1, 'stale')).succeeded).toBe(false)
      const swapped = await swap(created.revision, 'three')
      expect(swapped.succeeded).toBe(true)
      expect(await etcd.etcdctl(['get', '/calico/w/cas', '--print-value-only'])).toBe('three\n')
      // A missing key has mod revision 0: `mod == 0` alone holds for it, `version > 0` rules that out.
      const missing = key('/calico/w/missing')
      const atZero = (compare: 'mod' | 'both') =>
        r.txn({
          compare: [{key: missing, target: 'mod', result: '==', value: 0}, ...(compare === 'both' ? [{key: missing, target: 'version' as const, result: '>' as const, value: 0}] : [])],
          success: [],
          failure: [],
        })
      expect([(await atZero('mod')).succeeded, (await atZero('both')).succeeded]).toEqual([true, false])
    })
  })

  it('DeleteRange: the deleted key-values, alone or in a transaction; a range deletes every key in it', async () => {
    await etcd.etcdctl(['put', '/calico/w/d1', 'v1'])
    await etcd.etcdctl(['put', '/calico/w/d2', 'v2'])
    await etcd.etcdctl(['put', '/calico/w/d3', 'v3'])
    await etcd.etcdctl(['put', '/calico/w/d4', 'v4'])
    await etcd.etcdctl(['put', '/calico/x', 'outside'])
    const d2 = (await revisionOf('/calico/w/d2'))!
    await withReader({etcdEndpoints: etcd.endpoints}, async (r) => {
      const one = await r.deleteRange({key: key('/calico/w/d1'), prevKv: true})
      expect([one.deletedCount, one.prevKvs.map((kv) => [kv.key, kv.value])]).toEqual([1, [['/calico/w/d1', 'v1']]])
      const guarded = await r.txn({
        compare: [{key: key('/calico/w/d2'), target: 'mod', result: '==', value: d2}],
        success: [{deleteRange: {key: key('/calico/w/d2'), prevKv: true}}],
        failure: [],
      })
      expect([guarded.succeeded, guarded.deleted[0]?.map((kv) => [kv.key, kv.value, kv.modRevision])]).toEqual([true, [['/calico/w/d2', 'v2', d2]]])
      expect(guarded.responses).toEqual([undefined])
      const rest = await r.deleteRange({key: key('/calico/w/'), rangeEnd: after('/calico/w/')})
      expect([rest.deletedCount, rest.prevKvs]).toEqual([2, []])
      expect(await etcd.etcdctl(['get', '/calico/', '--prefix', '--keys-only'])).toBe('/calico/x\n\n')
    })
  })
})

describe.skipIf(skip)('etcd reads with several endpoints', () => {
  const a = useEtcd()
  const b = useEtcd()

  it('skips a dead endpoint, stays on the one that answers, and moves on when that one dies', async () => {
    // Two separate stores holding different values tell which endpoint answered.
    await a.etcdctl(['put', '/calico/who', 'a'])
    await b.etcdctl(['put', '/calico/who', 'b'])
    const dead = `http://127.0.0.1:${await freePort()}`
    const who = async (r: EtcdKV) => (await r.range({key: Buffer.from('/calico/who')})).kvs[0].value
    await withReader({etcdEndpoints: `${dead},${a.endpoints},${b.endpoints}`}, async (r) => {
      expect(await who(r)).toBe('a')
      expect(await who(r)).toBe('a')
      await a.halt()
      try {
        expect(await who(r)).toBe('b')
        await a.restart()
        expect(await who(r)).toBe('b') // no reason to move back
      } finally {
        await a.restart()
      }
    })
  })

  it('when every endpoint fails, the error is the last endpoint’s', async () => {
    const [p1, p2] = [await freePort(), await freePort()]
    const err = await withReader({etcdEndpoints: `http://127.0.0.1:${p1},http://127.0.0.1:${p2}`}, (r) => failure(r.range({key: Buffer.from('/x')})))
    expect((err as Error).message).toBe(`connect ECONNREFUSED 127.0.0.1:${p2}`)
  })

  it('a connection gone stale (etcd restarted) is replaced without failing the call', async () => {
    await a.etcdctl(['put', '/calico/stale', 'ok'])
    await withReader({etcdEndpoints: a.endpoints}, async (r) => {
      expect((await r.range({key: Buffer.from('/calico/stale')})).kvs[0].value).toBe('ok')
      await a.restart()
      expect((await r.range({key: Buffer.from('/calico/stale')})).kvs[0].value).toBe('ok')
    })
  })
})

describe.skipIf(skip)('etcd reads over TLS with client certificates', () => {
  const etcd = useEtcd({tls: true})
  const files = () => ({etcdCACertFile: etcd.tls!.caFile, etcdCertFile: etcd.tls!.certFile, etcdKeyFile: etcd.tls!.keyFile})

  it('reads with the CA, certificate and key, sending no IP address as TLS server name', async () => {
    await etcd.etcdctl(['put', '/calico/tls', 'secret'])
    const warnings: string[] = []
    const listener = (w: Error & {code?: string}) => warnings.push(w.code ?? w.message)
    process.on('warning', listener)
    try {
      const value = await withReader({etcdEndpoints: etcd.endpoints, ...files()}, async (r) => (await r.range({key: Buffer.from('/calico/tls')})).kvs[0].value)
      expect(value).toBe('secret')
      await new Promise((resolve) => setImmediate(resolve))
      expect(warnings).not.toContain('DEP0123')
    } finally {
      process.off('warning', listener)
    }
  })

  it.each<[string, (f: ReturnType<typeof files>, endpoints: string) => Partial<DatastoreConfig>, RegExp]>([
    ['no client certificate', (f) => ({etcdCACertFile: f.etcdCACertFile}), /SSL routines:.*alert (bad certificate|certificate required)/],
    ['no CA (system roots)', (f) => ({etcdCertFile: f.etcdCertFile, etcdKeyFile: f.etcdKeyFile}), /^unable to verify the first certificate$/],
    [
      'a host name the certificate does not name',
      (f, endpoints) => ({...f, etcdEndpoints: endpoints.replace('127.0.0.1', 'localhost')}),
      /^Hostname\/IP does not match certificate's altnames: Host: localhost/,
    ],
    ['plain http to the TLS port', (_f, endpoints) => ({etcdEndpoints: endpoints.replace('https:', 'http:')}), /^Failed to connect$/],
  ])('%s: a TransportError saying why', async (_case, config, expected) => {
    const err = await withReader({etcdEndpoints: etcd.endpoints, ...config(files(), etcd.endpoints)}, (r) => failure(r.range({key: Buffer.from('/x')})))
    expect(err).toBeInstanceOf(TransportError)
    expect((err as Error).message).toMatch(expected)
  })
})

describe.skipIf(skip)('etcd reads with username/password authentication', () => {
  const etcd = useEtcd({wipe: false})
  const root = ['--user', 'root:s3cret']

  it('sends a token from Auth.Authenticate, authenticates again when etcd drops it, and reports refusals', async () => {
    await etcd.etcdctl(['user', 'add', 'root', '--new-user-password=s3cret'])
    await etcd.etcdctl(['user', 'add', 'narrow', '--new-user-password=n4rrow'])
    await etcd.etcdctl(['role', 'add', 'narrow'])
    await etcd.etcdctl(['role', 'grant-permission', 'narrow', 'read', '/calico/open/', '--prefix'])
    await etcd.etcdctl(['user', 'grant-role', 'narrow', 'narrow'])
    await etcd.etcdctl(['auth', 'enable'])
    await etcd.etcdctl([...root, 'put', '/calico/open/x', 'visible'])

    const read = (r: EtcdKV, key = '/calico/open/x') => r.range({key: Buffer.from(key)})
    await withReader({etcdEndpoints: etcd.endpoints, etcdUsername: 'root', etcdPassword: 's3cret'}, async (r) => {
      expect((await read(r)).kvs[0].value).toBe('visible')
      // Turning authentication off and on again drops every token etcd handed out.
      await etcd.etcdctl([...root, 'auth', 'disable'])
      await etcd.etcdctl(['auth', 'enable'])
      expect((await read(r)).kvs[0].value).toBe('visible')
    })

    const refusal = async (config: Partial<DatastoreConfig>, key?: string) => {
      const err = await withReader({etcdEndpoints: etcd.endpoints, ...config}, (r) => failure(read(r, key)))
      expect(err).toBeInstanceOf(GrpcStatusError)
      return [(err as GrpcStatusError).code, (err as GrpcStatusError).details]
    }
    expect(await refusal({etcdUsername: 'root', etcdPassword: 'wrong'})).toEqual([
      Status.INVALID_ARGUMENT,
      'etcdserver: authentication failed, invalid user ID or password',
    ])
    expect(await refusal({})).toEqual([Status.INVALID_ARGUMENT, 'etcdserver: user name is empty'])
    expect(await refusal({etcdUsername: 'narrow', etcdPassword: 'n4rrow'}, '/calico/closed')).toEqual([
      Status.PERMISSION_DENIED,
      'etcdserver: permission denied',
    ])
  })
})

describe('gRPC framing cases, against a local HTTP/2 server', () => {
  /** Serves `handler` on a loopback port for the duration of `fn`. */
  async function withServer(
    handler: (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, session: ServerHttp2Session) => void,
    fn: (endpoint: string, sessions: ServerHttp2Session[]) => Promise<void>,
    host = '127.0.0.1',
  ): Promise<void> {
    const sessions: ServerHttp2Session[] = []
    const server: Http2Server = createServer()
    server.on('session', (s) => sessions.push(s))
    server.on('stream', (stream, headers) => handler(stream, headers, stream.session as ServerHttp2Session))
    server.listen(0, host)
    await once(server, 'listening')
    const address = server.address()
    try {
      await fn(`http://${host.includes(':') ? `[${host}]` : host}:${typeof address === 'object' && address ? address.port : 0}`, sessions)
    } finally {
      for (const s of sessions) s.destroy()
      server.close()
    }
  }
  const client = (endpoint: string, requestTimeoutMs = 5000) =>
    new GrpcClient({endpoints: [endpoint], dialTimeoutMs: 2000, requestTimeoutMs, maxMessageBytes: 1 << 20})
  /** A gRPC message frame: not compressed, big-endian length, bytes. */
  const frame = (body: Buffer) => {
    const prefix = Buffer.alloc(5)
    prefix.writeUInt32BE(body.length, 1)
    return Buffer.concat([prefix, body])
  }
  /** Everything the client sent on `stream`, once it ended its side. */
  const requestBody = async (stream: ServerHttp2Stream): Promise<Buffer> => {
    const chunks: Buffer[] = []
    for await (const chunk of stream) chunks.push(chunk as Buffer)
    return Buffer.concat(chunks)
  }

  it('sends a well-formed gRPC request and reads a message split over many writes, status in the trailers', async () => {
    let headers: IncomingHttpHeaders = {}
    let received: Buffer = Buffer.alloc(0)
    const body = Buffer.alloc(200_000, 7)
    await withServer(
      (stream, h) => {
        headers = h
        void requestBody(stream).then((b) => {
          received = b
          stream.respond({':status': 200, 'content-type': 'application/grpc'}, {waitForTrailers: true})
          stream.on('wantTrailers', () => stream.sendTrailers({'grpc-status': '0'}))
          const framed = frame(body)
          for (let i = 0; i < framed.length; i += 1000) stream.write(framed.subarray(i, i + 1000))
          stream.end()
        })
      },
      async (endpoint) => {
        const c = client(endpoint, 1500)
        try {
          expect((await c.unary('/etcdserverpb.KV/Range', Buffer.from('req'), {token: 't0k'})).equals(body)).toBe(true)
        } finally {
          c.close()
        }
      },
    )
    expect(received).toEqual(frame(Buffer.from('req')))
    expect(headers).toMatchObject({
      ':method': 'POST',
      ':path': '/etcdserverpb.KV/Range',
      'content-type': 'application/grpc',
      te: 'trailers',
      'grpc-timeout': '1500m',
      token: 't0k',
    })
  })

  it('an IPv6 endpoint: http://[::1]:port', async () => {
    await withServer(
      (stream) => stream.respond({':status': 200, 'content-type': 'application/grpc', 'grpc-status': '5', 'grpc-message': 'v6'}, {endStream: true}),
      async (endpoint) => {
        const c = client(endpoint)
        try {
          const err = await failure(c.unary('/x.Y/Z', Buffer.alloc(0)))
          expect([endpoint.startsWith('http://[::1]:'), (err as GrpcStatusError).details]).toEqual([true, 'v6'])
        } finally {
          c.close()
        }
      },
      '::1',
    )
  })

  it('a Trailers-Only error: the status and the percent-decoded message', async () => {
    await withServer(
      (stream) => stream.respond({':status': 200, 'content-type': 'application/grpc', 'grpc-status': '9', 'grpc-message': 'etcdserver: caf%C3%A9 100%25 closed'}, {endStream: true}),
      async (endpoint) => {
        const c = client(endpoint)
        try {
          const err = await failure(c.unary('/x.Y/Z', Buffer.alloc(0)))
          expect(err).toBeInstanceOf(GrpcStatusError)
          expect([(err as GrpcStatusError).code, (err as GrpcStatusError).details]).toEqual([9, 'etcdserver: café 100% closed'])
        } finally {
          c.close()
        }
      },
    )
  })

  it('answers that are not a well-formed gRPC response: HTTP errors mapped as gRPC does, bad framing, no status', async () => {
    const answers: Array<(stream: ServerHttp2Stream) => void> = [
      (stream) => stream.respond({':status': 503}, {endStream: true}),
      (stream) => stream.respond({':status': 404}, {endStream: true}),
      (stream) => {
        stream.respond({':status': 200, 'content-type': 'application/grpc'}, {waitForTrailers: true})
        stream.on('wantTrailers', () => stream.sendTrailers({'grpc-status': '0'}))
        stream.end(Buffer.from([1, 0, 0, 0, 1, 0x61])) // "compressed"
      },
      (stream) => {
        stream.respond({':status': 200, 'content-type': 'application/grpc'}, {waitForTrailers: true})
        stream.on('wantTrailers', () => stream.sendTrailers({'grpc-status': '0'}))
        stream.end(Buffer.from([0, 0, 0, 0, 9, 0x61])) // says 9 bytes, holds 1
      },
      (stream) => {
        stream.respond({':status': 200, 'content-type': 'application/grpc'})
        stream.end(frame(Buffer.from('no status')))
      },
    ]
    let call = 0
    await withServer(
      (stream) => answers[call++](stream),
      async (endpoint) => {
        const c = client(endpoint)
        const outcome = async () => {
          const err = await failure(c.unary('/x.Y/Z', Buffer.alloc(0)))
          return err instanceof GrpcStatusError ? [err.code, err.details] : [(err as Error).name, (err as Error).message]
        }
        try {
          expect(await outcome()).toEqual([Status.UNAVAILABLE, 'HTTP status 503'])
          expect(await outcome()).toEqual([Status.UNIMPLEMENTED, 'HTTP status 404'])
          expect(await outcome()).toEqual([Status.INTERNAL, 'the response message is compressed, which was not asked for'])
          expect(await outcome()).toEqual([Status.INTERNAL, 'the response holds 1 bytes for a message of 9'])
          expect(await outcome()).toEqual(['TransportError', 'the stream ended without a gRPC status (HTTP/2 code 0)'])
        } finally {
          c.close()
        }
      },
    )
  })

  it('a stream reset mid-response is a TransportError; no answer at all times out', async () => {
    let calls = 0
    await withServer(
      (stream) => {
        stream.on('error', () => undefined) // the reset below, as the server sees it
        if (++calls === 1) {
          stream.respond({':status': 200, 'content-type': 'application/grpc'})
          stream.write(frame(Buffer.alloc(100)).subarray(0, 50), () => stream.close(2)) // INTERNAL_ERROR
        }
        // Later calls get no answer.
      },
      async (endpoint) => {
        const c = client(endpoint, 400)
        try {
          const reset = await failure(c.unary('/x.Y/Z', Buffer.alloc(0)))
          expect(reset).toBeInstanceOf(TransportError)
          const started = Date.now()
          const silent = await failure(c.unary('/x.Y/Z', Buffer.alloc(0)))
          expect([silent instanceof TransportError, (silent as Error).message]).toEqual([true, 'timed out waiting for a response'])
          expect(Date.now() - started).toBeLessThan(3000)
        } finally {
          c.close()
        }
      },
    )
  })

  it('after the server sends GOAWAY, the next call opens a new connection', async () => {
    await withServer(
      (stream, _headers, session) => {
        stream.respond({':status': 200, 'content-type': 'application/grpc'}, {waitForTrailers: true})
        stream.on('wantTrailers', () => {
          stream.sendTrailers({'grpc-status': '0'})
          session.goaway()
        })
        stream.end(frame(Buffer.from('x')))
      },
      async (endpoint, sessions) => {
        const c = client(endpoint)
        try {
          expect((await c.unary('/x.Y/Z', Buffer.alloc(0))).toString()).toBe('x')
          await new Promise((resolve) => setTimeout(resolve, 50))
          expect((await c.unary('/x.Y/Z', Buffer.alloc(0))).toString()).toBe('x')
          expect(sessions).toHaveLength(2)
        } finally {
          c.close()
        }
      },
    )
  })

  it('a write that reached a failing endpoint is not sent to the next one; a read is, and so is a write never sent', async () => {
    const answered: string[] = []
    // The first endpoint takes every request and drops the connection without an answer; the second answers.
    await withServer(
      (stream) => void requestBody(stream).then(() => stream.session?.destroy()),
      (dropping) =>
        withServer(
          (stream, headers) => {
            answered.push(String(headers[':path']))
            stream.respond({':status': 200, 'content-type': 'application/grpc', 'grpc-status': '0'}, {waitForTrailers: true})
            stream.on('wantTrailers', () => stream.sendTrailers({'grpc-status': '0'}))
            stream.end(frame(Buffer.from('ok')))
          },
          async (answering) => {
            const both = () => new GrpcClient({endpoints: [dropping, answering], dialTimeoutMs: 2000, requestTimeoutMs: 5000, maxMessageBytes: 1 << 20})
            const c = both()
            try {
              expect(await failure(c.unary('/etcdserverpb.KV/Put', Buffer.from('w'), {}, {idempotent: false}))).toBeInstanceOf(TransportError)
              expect(answered).toEqual([])
            } finally {
              c.close()
            }
            const d = both()
            try {
              expect((await d.unary('/etcdserverpb.KV/Range', Buffer.from('r'))).toString()).toBe('ok')
              expect(answered).toEqual(['/etcdserverpb.KV/Range'])
            } finally {
              d.close()
            }
            // Nothing listens on the first endpoint: the write was never sent, so the next endpoint gets it.
            const port = await freePort()
            const e = new GrpcClient({endpoints: [`http://127.0.0.1:${port}`, answering], dialTimeoutMs: 2000, requestTimeoutMs: 5000, maxMessageBytes: 1 << 20})
            try {
              expect((await e.unary('/etcdserverpb.KV/Put', Buffer.from('w'), {}, {idempotent: false})).toString()).toBe('ok')
              expect(answered).toEqual(['/etcdserverpb.KV/Range', '/etcdserverpb.KV/Put'])
            } finally {
              e.close()
            }
          },
        ),
    )
  })
})
