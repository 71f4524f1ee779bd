// etcd's KV service without the etcd3/grpc-js/protobufjs stack (~0.1 s of CPU to load, a third of a CNI ADD):
// Range, Put, DeleteRange and Txn over the small gRPC client (grpc.ts) with the hand-written messages (proto.ts).
// Reads may be repeated on another endpoint after a failure; writes only if they were never sent (grpc.ts).
// With a username configured, a token from Auth.Authenticate goes with every call in the `token` metadata entry, as
// etcd's own clients send it. Watches are not here: the backend keeps etcd3 for those.

import {GrpcClient, GrpcStatusError} from './grpc.js'
import type {EtcdConnection} from './options.js'
import {
  decodeAuthenticateResponse,
  decodeRangeResponse,
  decodeTxnResponse,
  decodeWriteResponse,
  encodeAuthenticateRequest,
  encodeDeleteRangeRequest,
  encodePutRequest,
  encodeRangeRequest,
  encodeRangeTxn,
  encodeTxnRequest,
  type DeleteRangeRequest,
  type PutRequest,
  type RangeRequest,
  type RangeResponse,
  type TxnRequest,
  type TxnResponse,
  type WriteResponse,
} from './proto.js'

export interface KVClientOptions {
  dialTimeoutMs: number
  requestTimeoutMs: number
}

/** Largest response accepted: far above a page of the backend's lists, so one oversized value cannot break one. */
const MAX_MESSAGE_BYTES = 64 * 1024 * 1024

/** etcd's answers to a token it no longer accepts (expired simple token, auth store changed): authenticate again. */
const STALE_TOKEN = /invalid auth token|revision of auth store is old/

/** etcd's answer to Authenticate when authentication is off: calls then need no token (as etcd's Go client does). */
const AUTH_NOT_ENABLED = /authentication is not enabled/

export class EtcdKV {
  private readonly grpc: GrpcClient
  private token: Promise<string | undefined> | undefined

  constructor(
    private readonly conn: EtcdConnection,
    opts: KVClientOptions,
  ) {
    const creds = conn.credentials
    this.grpc = new GrpcClient({
      endpoints: conn.hosts,
      tls: creds && {ca: creds.rootCertificate, cert: creds.certChain, key: creds.privateKey},
      dialTimeoutMs: opts.dialTimeoutMs,
      requestTimeoutMs: opts.requestTimeoutMs,
      maxMessageBytes: MAX_MESSAGE_BYTES,
    })
  }

  async range(req: RangeRequest): Promise<RangeResponse> {
    return decodeRangeResponse(await this.call('/etcdserverpb.KV/Range', encodeRangeRequest(req)))
  }

  /** All the ranges in one transaction, so at one revision; response i answers range i. */
  async ranges(reqs: readonly RangeRequest[]): Promise<TxnResponse> {
    return decodeTxnResponse(await this.call('/etcdserverpb.KV/Txn', encodeRangeTxn(reqs)))
  }

  async put(req: PutRequest): Promise<WriteResponse> {
    return decodeWriteResponse(await this.call('/etcdserverpb.KV/Put', encodePutRequest(req), false))
  }

  async deleteRange(req: DeleteRangeRequest): Promise<WriteResponse> {
    return decodeWriteResponse(await this.call('/etcdserverpb.KV/DeleteRange', encodeDeleteRangeRequest(req), false))
  }

  /** A transaction with writes (for one of ranges only, ranges() may repeat it on another endpoint). */
  async txn(req: TxnRequest): Promise<TxnResponse> {
    return decodeTxnResponse(await this.call('/etcdserverpb.KV/Txn', encodeTxnRequest(req), false))
  }

  close(): void {
    this.grpc.close()
  }

  /**
   * One call with the token. A refused token is etcd's answer before it acts on the request, so even a write is
   * sent again with a fresh one.
   */
  private async call(path: string, body: Buffer, idempotent = true): Promise<Buffer> {
    const token = await this.authenticated()
    try {
      return await this.grpc.unary(path, body, token === undefined ? undefined : {token}, {idempotent})
    } catch (err) {
      if (token === undefined || !(err instanceof GrpcStatusError) || !STALE_TOKEN.test(err.details)) throw err
      if (this.token && (await this.token.catch(() => undefined)) === token) this.token = undefined
      const fresh = await this.authenticated()
      return this.grpc.unary(path, body, fresh === undefined ? undefined : {token: fresh}, {idempotent})
    }
  }

  /** The token to send, once per client (and again after etcd stops accepting it); undefined without a username. */
  private authenticated(): Promise<string | undefined> {
    const auth = this.conn.auth
    if (!auth) return Promise.resolve(undefined)
    this.token ??= this.grpc
      .unary('/etcdserverpb.Auth/Authenticate', encodeAuthenticateRequest(auth.username, auth.password))
      .then(decodeAuthenticateResponse, (err: unknown) => {
        if (err instanceof GrpcStatusError && AUTH_NOT_ENABLED.test(err.details)) return undefined
        this.token = undefined // a later call tries again
        throw err
      })
    return this.token
  }
}
