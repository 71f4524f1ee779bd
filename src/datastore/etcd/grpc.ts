// A minimal gRPC client for unary calls, on Node's built-in HTTP/2: what the etcd backend needs without loading
// grpc-js and protobufjs (~0.1 s of CPU per process, BENCHMARKS.md). Requests and responses are bytes; the
// protobuf side is proto.ts.
//
// gRPC over HTTP/2 (grpc's PROTOCOL-HTTP2.md): a POST to /<package.Service>/<Method> with content-type
// application/grpc and `te: trailers`; each message is framed by a compression flag byte and a 4-byte big-endian
// length; the outcome is grpc-status and grpc-message (percent-encoded) in the trailers, or in the headers of a
// response that has no body ("Trailers-Only").
//
// Endpoints are tried in order: one connection at a time, to the first endpoint that answers; when it fails, the
// call moves to the next, once round the list (as the etcd3 client gives each member one attempt). A call that is
// not safe to repeat (a write: `idempotent: false`) moves on only if it failed before its request was handed to a
// connection, as etcd's Go client retries mutations only when no connection was available; once sent, its failure
// is the caller's, who cannot know whether etcd applied it.

import {connect as http2Connect, constants, type ClientHttp2Session, type IncomingHttpHeaders} from 'node:http2'
import {connect as netConnect, isIP, type Socket} from 'node:net'
import {connect as tlsConnect} from 'node:tls'

/** gRPC status codes this client produces or callers test for. */
export const Status = {
  OK: 0,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const

/** The server could not be reached or did not answer: no connection, TLS refused, no HTTP/2, a timeout. */
export class TransportError extends Error {
  constructor(reason: string) {
    super(reason)
    this.name = 'TransportError'
  }
}

/** The server answered with a gRPC status other than OK; `details` is its grpc-message. */
export class GrpcStatusError extends Error {
  constructor(
    readonly code: number,
    readonly details: string,
  ) {
    super(details)
    this.name = 'GrpcStatusError'
  }
}

/** A call after close(). */
export class ClientClosedError extends Error {
  constructor() {
    super('the client is closed')
    this.name = 'ClientClosedError'
  }
}

export interface GrpcTls {
  ca: Buffer
  cert?: Buffer
  key?: Buffer
}

export interface GrpcClientOptions {
  /** `http://host:port` or `https://host:port`, in order of preference. */
  endpoints: readonly string[]
  /** For https endpoints. */
  tls?: GrpcTls
  /** Connecting: TCP, TLS and the server's HTTP/2 settings. */
  dialTimeoutMs: number
  /** Each call once connected (also sent as grpc-timeout, so the server stops working on it too). */
  requestTimeoutMs: number
  /** Largest response message accepted. */
  maxMessageBytes: number
}

/**
 * Flow-control window per stream and per connection. Large, so a response of several MiB streams without waiting
 * for window updates (Node's default is 64 KiB); the client consumes every byte as it arrives anyway.
 */
const WINDOW = 16 * 1024 * 1024

interface Session {
  http2: ClientHttp2Session
  /** Index of its endpoint. */
  index: number
  /** Settles when the server's HTTP/2 settings arrived, or with the reason it never will. */
  ready: Promise<void>
  /** Whether a call already completed on it: a failure on a used connection may just mean it went stale. */
  used: boolean
}

export class GrpcClient {
  private session: Session | undefined
  /** Index of the endpoint in use; moves on when it fails. */
  private current = 0
  /** Calls in progress: the connection keeps the process alive only while there are some. */
  private active = 0
  private closed = false

  constructor(private readonly opts: GrpcClientOptions) {}

  /**
   * Calls `path` (`/package.Service/Method`) with one request message; resolves with the response message.
   * `idempotent: false` for a call that must not be repeated once sent (see the header).
   */
  async unary(path: string, message: Buffer, metadata: Record<string, string> = {}, {idempotent = true} = {}): Promise<Buffer> {
    if (this.closed) throw new ClientClosedError()
    this.active++
    this.session?.http2.ref()
    try {
      let failure: unknown
      let staleRetried = false
      for (let fresh = 0; fresh < this.opts.endpoints.length; ) {
        const session = this.open()
        let sent = false
        try {
          await session.ready
          const response = await this.request(session, path, message, metadata, () => (sent = true))
          session.used = true
          return response
        } catch (err) {
          if (!retryable(err) || (sent && !idempotent)) throw err
          failure = err
          this.discard(session)
          if (this.closed) throw new ClientClosedError()
          // A connection that served calls before may have gone stale (an etcd restart): one fresh try at the same
          // endpoint. A fresh one that failed counts against its endpoint, and the next endpoint gets its turn
          // (once, however many concurrent calls saw the failure).
          if (session.used && !staleRetried) {
            staleRetried = true
            continue
          }
          fresh++
          if (this.current === session.index) this.current = (this.current + 1) % this.opts.endpoints.length
        }
      }
      throw failure ?? new TransportError('no endpoints configured')
    } finally {
      this.active--
      if (this.active === 0) this.session?.http2.unref()
    }
  }

  close(): void {
    this.closed = true
    if (this.session) this.discard(this.session)
  }

  private open(): Session {
    if (this.session) return this.session
    const index = this.current
    const url = new URL(this.opts.endpoints[index])
    const host = url.hostname.replace(/^\[|\]$/g, '')
    const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80))
    const tls = this.opts.tls
    // The socket is made here rather than by http2.connect, which would send an IP address as the TLS server name
    // (RFC 6066 forbids it, and Node warns with DEP0123); an IP host is still checked against the certificate.
    // No Nagle delay (as grpc-js and Go's gRPC): a request's HEADERS and DATA frames go out as separate small
    // writes, and Nagle would hold the second until the server's delayed ACK, ~40 ms on every call.
    const socket: Socket =
      url.protocol === 'https:'
        ? tlsConnect({
            host,
            port,
            servername: isIP(host) === 0 ? host : undefined,
            ALPNProtocols: ['h2'],
            ca: tls?.ca,
            cert: tls?.cert,
            key: tls?.key,
          })
        : netConnect({host, port})
    socket.setNoDelay(true)
    const http2 = http2Connect(url.origin, {
      createConnection: () => socket,
      settings: {enablePush: false, initialWindowSize: WINDOW},
      // Megabytes of buffered frames before Node gives up on the session; a multi-MiB response needs headroom.
      maxSessionMemory: 64,
    })
    const session: Session = {http2, index, used: false, ready: Promise.resolve()}
    session.ready = new Promise<void>((resolve, reject) => {
      const fail = (reason: string) => {
        clearTimeout(timer)
        reject(new TransportError(reason))
        this.discard(session)
      }
      const timer = setTimeout(() => fail('timed out waiting for a response'), this.opts.dialTimeoutMs)
      http2.once('connect', () => http2.setLocalWindowSize(WINDOW))
      http2.once('remoteSettings', () => {
        clearTimeout(timer)
        resolve()
      })
      // The socket's own events: a TLS alert after the handshake (etcd refusing the client certificate) reaches
      // the socket, but the HTTP/2 session does not always report it.
      socket.on('error', (err: Error) => fail(err.message))
      http2.on('error', (err: Error) => fail(err.message))
      // Closed before the server spoke HTTP/2: typically plain http to a TLS port (grpc's words for it).
      socket.once('close', () => fail('Failed to connect'))
      http2.once('close', () => fail('Failed to connect'))
    })
    // Rejections are delivered to callers through `await session.ready`; this keeps an unawaited one quiet.
    session.ready.catch(() => undefined)
    http2.on('goaway', () => {
      // The server takes no new streams on this connection: later calls open another, and this one closes once
      // the calls on it are answered.
      if (this.session === session) this.session = undefined
      http2.close()
    })
    this.session = session
    return session
  }

  private discard(session: Session): void {
    if (this.session === session) this.session = undefined
    if (!session.http2.destroyed) session.http2.destroy()
  }

  /** `onSent` runs once the request is handed to the connection (from then on the server may act on it). */
  private request(session: Session, path: string, message: Buffer, metadata: Record<string, string>, onSent: () => void): Promise<Buffer> {
    const timeoutMs = this.opts.requestTimeoutMs
    const max = this.opts.maxMessageBytes
    return new Promise<Buffer>((resolve, reject) => {
      let settled = false
      const settle = (err: Error | undefined, value?: Buffer) => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        if (err) reject(err)
        else resolve(value as Buffer)
      }
      const frame = Buffer.allocUnsafe(5)
      frame[0] = 0 // not compressed
      frame.writeUInt32BE(message.length, 1)
      const stream = session.http2.request({
        [constants.HTTP2_HEADER_METHOD]: 'POST',
        [constants.HTTP2_HEADER_PATH]: path,
        'content-type': 'application/grpc',
        te: 'trailers',
        'grpc-timeout': `${timeoutMs}m`,
        ...metadata,
      })
      onSent()
      const timer = setTimeout(() => {
        settle(new TransportError('timed out waiting for a response'))
        stream.close(constants.NGHTTP2_CANCEL)
      }, timeoutMs)
      let headers: IncomingHttpHeaders = {}
      let trailers: IncomingHttpHeaders | undefined
      const chunks: Buffer[] = []
      let size = 0
      stream.on('response', (h) => (headers = h))
      stream.on('trailers', (t) => (trailers = t))
      stream.on('data', (chunk: Buffer) => {
        size += chunk.length
        if (size > max + 5) {
          settle(new GrpcStatusError(Status.RESOURCE_EXHAUSTED, `response larger than ${max} bytes`))
          stream.close(constants.NGHTTP2_CANCEL)
          return
        }
        chunks.push(chunk)
      })
      stream.on('error', (err: Error) => settle(new TransportError(err.message)))
      stream.on('close', () => {
        if (settled) return
        const status = grpcStatus(headers, trailers)
        if (status === undefined) {
          settle(new TransportError(`the stream ended without a gRPC status (HTTP/2 code ${stream.rstCode})`))
        } else if (status.code !== Status.OK) {
          settle(new GrpcStatusError(status.code, status.message))
        } else {
          try {
            settle(undefined, unframe(Buffer.concat(chunks, size)))
          } catch (err) {
            settle(err as Error)
          }
        }
      })
      stream.end(Buffer.concat([frame, message]))
    })
  }
}

/** Transport failures and UNAVAILABLE (e.g. an etcd member without a leader): another endpoint may serve the call. */
function retryable(err: unknown): boolean {
  return err instanceof TransportError || (err instanceof GrpcStatusError && err.code === Status.UNAVAILABLE)
}

/** gRPC's mapping of HTTP statuses, for a response without grpc-status (e.g. from a proxy); others are UNKNOWN. */
const HTTP_STATUS_CODES: Record<number, number> = {
  400: Status.INTERNAL,
  401: Status.UNAUTHENTICATED,
  403: Status.PERMISSION_DENIED,
  404: Status.UNIMPLEMENTED,
  429: Status.UNAVAILABLE,
  502: Status.UNAVAILABLE,
  503: Status.UNAVAILABLE,
  504: Status.UNAVAILABLE,
}

/** The call's status from its trailers, or from the headers of a Trailers-Only response, or from the HTTP status. */
function grpcStatus(headers: IncomingHttpHeaders, trailers: IncomingHttpHeaders | undefined): {code: number; message: string} | undefined {
  const source = trailers?.['grpc-status'] !== undefined ? trailers : headers
  const raw = source['grpc-status']
  if (raw !== undefined) return {code: Number(raw), message: percentDecode(String(source['grpc-message'] ?? ''))}
  const http = Number(headers[constants.HTTP2_HEADER_STATUS])
  if (!http || http === 200) return undefined
  return {code: HTTP_STATUS_CODES[http] ?? Status.UNKNOWN, message: `HTTP status ${http}`}
}

function percentDecode(text: string): string {
  try {
    return decodeURIComponent(text)
  } catch {
    return text
  }
}

/** The single message of a unary response. */
function unframe(body: Buffer): Buffer {
  if (body.length < 5) throw new GrpcStatusError(Status.INTERNAL, 'the response carried no message')
  if (body[0] !== 0) throw new GrpcStatusError(Status.INTERNAL, 'the response message is compressed, which was not asked for')
  const length = body.readUInt32BE(1)
  if (body.length !== 5 + length) {
    throw new GrpcStatusError(Status.INTERNAL, `the response holds ${body.length - 5} bytes for a message of ${length}`)
  }
  return body.subarray(5)
}
