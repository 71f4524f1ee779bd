// The hand-written etcd messages (src/datastore/etcd/proto.ts) against protobufjs reading etcd's own .proto files
// (the copies the etcd3 package ships): what we encode, protobufjs decodes to the same request, and what protobufjs
// encodes (with every field set, including those we skip), we decode to the same response.

import {createRequire} from 'node:module'
import {dirname, join} from 'node:path'
import protobuf from 'protobufjs'
import {describe, expect, it} from 'vitest'
import {
  ProtoError,
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
} from '../../src/datastore/etcd/proto.js'

const protoDir = join(dirname(createRequire(import.meta.url).resolve('etcd3/package.json')), 'proto')
const root = new protobuf.Root()
root.resolvePath = (_origin, target) => join(protoDir, target)
root.loadSync('rpc.proto', {keepCase: true})
const type = (name: string) => root.lookupType(`etcdserverpb.${name}`)
/**
 * The decoded message as protobufjs sees it: 64-bit integers as decimal strings, byte fields as base64, and for a
 * oneof the name of the member set (what tells a zero that was sent from one left out).
 */
const toObject = (name: string, bytes: Buffer) => type(name).toObject(type(name).decode(bytes), {longs: String, bytes: String, defaults: false, oneofs: true})
const b64 = (text: string) => Buffer.from(text).toString('base64')
const encode = (name: string, value: Record<string, unknown>) => Buffer.from(type(name).encode(type(name).fromObject(value)).finish())

/** A header as etcd sends it: 64-bit cluster and member ids (above 2^53), which the decoder must skip intact. */
const header = {cluster_id: '14841639068965178418', member_id: '10276657743932975437', revision: '1234567', raft_term: '9'}

describe('etcd protobuf messages', () => {
  it('RangeRequest: key, range end, limit, revision and keys_only; defaults left out', () => {
    const bytes = encodeRangeRequest({
      key: Buffer.from('/calico/resources/'),
      rangeEnd: Buffer.from('/calico/resources0'),
      limit: 500,
      revision: 2 ** 40 + 3,
      keysOnly: true,
    })
    expect(toObject('RangeRequest', bytes)).toEqual({
      key: b64('/calico/resources/'),
      range_end: b64('/calico/resources0'),
      limit: '500',
      revision: String(2 ** 40 + 3),
      keys_only: true,
    })
    // Only the key: every other field is proto3's default and is not on the wire.
    expect(encodeRangeRequest({key: Buffer.from('k')})).toEqual(Buffer.from([0x0a, 0x01, 0x6b]))
  })

  it('TxnRequest of ranges: no compares, one RequestOp.request_range per key in the success branch', () => {
    const bytes = encodeRangeTxn([{key: Buffer.from('/a')}, {key: Buffer.from('/b'), keysOnly: true}])
    expect(toObject('TxnRequest', bytes)).toEqual({
      success: [
        {request_range: {key: b64('/a')}, request: 'request_range'},
        {request_range: {key: b64('/b'), keys_only: true}, request: 'request_range'},
      ],
    })
  })

  it('PutRequest and DeleteRangeRequest: key, value, range end and prev_kv', () => {
    expect(toObject('PutRequest', encodePutRequest({key: Buffer.from('/calico/k'), value: Buffer.from('{"a":"ü"}')}))).toEqual({
      key: b64('/calico/k'),
      value: b64('{"a":"ü"}'),
    })
    expect(toObject('DeleteRangeRequest', encodeDeleteRangeRequest({key: Buffer.from('/calico/k'), prevKv: true}))).toEqual({key: b64('/calico/k'), prev_kv: true})
    expect(toObject('DeleteRangeRequest', encodeDeleteRangeRequest({key: Buffer.from('/calico/'), rangeEnd: Buffer.from('/calico0')}))).toEqual({
      key: b64('/calico/'),
      range_end: b64('/calico0'),
    })
  })

  it('TxnRequest: compares of version and mod revision (a zero still selects its oneof member), then both branches', () => {
    const k = Buffer.from('/calico/k')
    const bytes = encodeTxnRequest({
      compare: [
        {key: k, target: 'version', result: '==', value: 0},
        {key: k, target: 'mod', result: '==', value: 2 ** 40},
        {key: k, target: 'version', result: '>', value: 0},
        {key: k, target: 'mod', result: '!=', value: 7},
        {key: k, target: 'mod', result: '<', value: 9},
      ],
      success: [{put: {key: k, value: Buffer.from('v')}}, {deleteRange: {key: k, prevKv: true}}],
      failure: [{range: {key: k, keysOnly: true}}],
    })
    // Enums as numbers: result EQUAL 0, GREATER 1, LESS 2, NOT_EQUAL 3; target VERSION 0, MOD 2 (0 is left out).
    expect(toObject('TxnRequest', bytes)).toEqual({
      compare: [
        {key: b64('/calico/k'), version: '0', target_union: 'version'},
        {key: b64('/calico/k'), target: 2, mod_revision: String(2 ** 40), target_union: 'mod_revision'},
        {key: b64('/calico/k'), result: 1, version: '0', target_union: 'version'},
        {key: b64('/calico/k'), result: 3, target: 2, mod_revision: '7', target_union: 'mod_revision'},
        {key: b64('/calico/k'), result: 2, target: 2, mod_revision: '9', target_union: 'mod_revision'},
      ],
      success: [
        {request_put: {key: b64('/calico/k'), value: b64('v')}, request: 'request_put'},
        {request_delete_range: {key: b64('/calico/k'), prev_kv: true}, request: 'request_delete_range'},
      ],
      failure: [{request_range: {key: b64('/calico/k'), keys_only: true}, request: 'request_range'}],
    })
  })

  it('PutResponse and DeleteRangeResponse: the revision, and the deleted count and key-values', () => {
    expect(decodeWriteResponse(encode('PutResponse', {header}))).toEqual({revision: 1234567, deletedCount: 0, prevKvs: []})
    const res = decodeWriteResponse(
      encode('DeleteRangeResponse', {
        header,
        deleted: 2,
        prev_kvs: [
          {key: Buffer.from('/calico/a'), create_revision: 3, mod_revision: 5, version: 2, value: Buffer.from('{"x":1}')},
          {key: Buffer.from('/calico/b'), create_revision: 4, mod_revision: 4, version: 1, value: Buffer.from('{}'), lease: '7587869785398520065'},
        ],
      }),
    )
    expect(res).toEqual({
      revision: 1234567,
      deletedCount: 2,
      prevKvs: [
        {key: '/calico/a', createRevision: 3, modRevision: 5, version: 2, value: '{"x":1}'},
        {key: '/calico/b', createRevision: 4, modRevision: 4, version: 1, value: '{}'},
      ],
    })
  })

  it('AuthenticateRequest: name and password, UTF-8', () => {
    expect(toObject('AuthenticateRequest', encodeAuthenticateRequest('root', 'pässwörd'))).toEqual({name: 'root', password: 'pässwörd'})
  })

  it('RangeResponse: revision, key-values with revisions and version, more and count; lease and ids skipped', () => {
    const value = JSON.stringify({kind: 'IPPool', metadata: {name: 'pool-ü'}})
    const bytes = encode('RangeResponse', {
      header,
      kvs: [
        {key: Buffer.from('/calico/a'), create_revision: 5, mod_revision: 2 ** 33, version: 3, value: Buffer.from(value), lease: '7587869785398520065'},
        {key: Buffer.from('/calico/b'), create_revision: 6, mod_revision: 6, version: 1},
      ],
      more: true,
      count: 9,
    })
    const res = decodeRangeResponse(bytes)
    expect(res).toEqual({
      revision: 1234567,
      kvs: [
        {key: '/calico/a', createRevision: 5, modRevision: 2 ** 33, version: 3, value},
        {key: '/calico/b', createRevision: 6, modRevision: 6, version: 1, value: ''},
      ],
      more: true,
      count: 9,
      lastKey: Buffer.from('/calico/b'),
    })
  })

  it('RangeResponse: the last key as stored bytes, also when they are not valid UTF-8', () => {
    const key = Buffer.from([0x2f, 0x63, 0xff, 0xfe])
    const res = decodeRangeResponse(encode('RangeResponse', {header, kvs: [{key, mod_revision: 2}]}))
    expect(res.lastKey).toEqual(key)
    expect(decodeRangeResponse(encode('RangeResponse', {header})).lastKey).toBeUndefined()
  })

  it('TxnResponse: succeeded and one range response per operation, other operations as undefined', () => {
    const bytes = encode('TxnResponse', {
      header,
      succeeded: true,
      responses: [
        {response_range: {header, kvs: [{key: Buffer.from('/a'), mod_revision: 4, value: Buffer.from('{}')}], count: 1}},
        {response_range: {header}},
        {response_put: {header}},
      ],
    })
    const res = decodeTxnResponse(bytes)
    expect(res.revision).toBe(1234567)
    expect(res.succeeded).toBe(true)
    expect(res.responses.map((r) => r?.kvs.map((kv) => [kv.key, kv.modRevision, kv.value]))).toEqual([[['/a', 4, '{}']], [], undefined])
    expect(res.deleted).toEqual([undefined, undefined, undefined])
  })

  it('TxnResponse: a delete\'s previous key-values, beside the ranges', () => {
    const bytes = encode('TxnResponse', {
      header,
      succeeded: false,
      responses: [
        {response_delete_range: {header, deleted: 1, prev_kvs: [{key: Buffer.from('/d'), mod_revision: 8, value: Buffer.from('gone')}]}},
        {response_range: {header, kvs: [{key: Buffer.from('/r'), mod_revision: 9}]}},
      ],
    })
    const res = decodeTxnResponse(bytes)
    expect(res.succeeded).toBe(false)
    expect(res.deleted.map((kvs) => kvs?.map((kv) => [kv.key, kv.modRevision, kv.value]))).toEqual([[['/d', 8, 'gone']], undefined])
    expect(res.responses.map((r) => r?.kvs.map((kv) => kv.key))).toEqual([undefined, ['/r']])
  })

  it('AuthenticateResponse: the token', () => {
    expect(decodeAuthenticateResponse(encode('AuthenticateResponse', {header, token: 'abc.123'}))).toBe('abc.123')
  })

  it('skips fields of every wire type that it does not know', () => {
    // A field 15 of each wire type ahead of the known ones: varint, fixed64, bytes, fixed32.
    const unknown = Buffer.from([15 << 3, 0x96, 0x01, (15 << 3) | 1, 1, 2, 3, 4, 5, 6, 7, 8, (15 << 3) | 2, 2, 0x61, 0x62, (15 << 3) | 5, 1, 2, 3, 4])
    const res = decodeRangeResponse(Buffer.concat([unknown, encode('RangeResponse', {header, count: 2})]))
    expect([res.revision, res.count]).toEqual([1234567, 2])
  })

  it('refuses truncated and malformed input with a ProtoError', () => {
    const full = encode('RangeResponse', {header, kvs: [{key: Buffer.from('/calico/a'), value: Buffer.from('{"a":1}')}]})
    // Cut anywhere inside a field; a cut between the two fields would be a valid (shorter) message.
    const between = encode('RangeResponse', {header}).length
    for (let cut = 1; cut < full.length; cut++) {
      if (cut === between) continue
      expect(() => decodeRangeResponse(full.subarray(0, cut)), `cut at ${cut}`).toThrow(ProtoError)
    }
    expect(() => decodeRangeResponse(Buffer.from([(1 << 3) | 3]))).toThrow('malformed etcd response: unsupported wire type 3')
    expect(() => decodeRangeResponse(Buffer.from([0x20, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]))).toThrow(
      'varint longer than 10 bytes',
    )
  })
})
