// calicoctl.cfg etcd settings → client settings, and grpc failures → messages, without an etcd.

import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {DatastoreError} from '../../src/api/errors.js'
import {connectionReason} from '../../src/datastore/etcd/backend.js'
import {DEFAULT_ETCD_ENDPOINT, etcdConnection} from '../../src/datastore/etcd/options.js'

const dir = mkdtempSync(join(tmpdir(), 'calico-ts-etcd-options-'))
afterAll(() => rmSync(dir, {recursive: true, force: true}))
const file = (name: string, content: string) => {
  const p = join(dir, name)
  writeFileSync(p, content)
  return p
}

describe('etcdConnection', () => {
  it('defaults to the local etcd and splits comma-separated endpoints', () => {
    expect(etcdConnection({datastoreType: 'etcdv3'})).toEqual({hosts: [DEFAULT_ETCD_ENDPOINT]})
    expect(etcdConnection({datastoreType: 'etcdv3', etcdEndpoints: 'http://a:2379, https://b:2379/,'}).hosts).toEqual(['http://a:2379', 'https://b:2379/'])
  })

  it.each([
    ['', 'no etcd endpoints configured (etcdEndpoints is empty)'],
    [' , ', 'no etcd endpoints configured (etcdEndpoints is empty)'],
    ['a:2379', 'invalid etcd endpoint "a:2379": expected http://host:port or https://host:port'],
    ['http://a:2379/path', 'invalid etcd endpoint "http://a:2379/path"'],
  ])('rejects endpoints %j', (endpoints, message) => {
    expect(() => etcdConnection({datastoreType: 'etcdv3', etcdEndpoints: endpoints})).toThrow(DatastoreError)
    expect(() => etcdConnection({datastoreType: 'etcdv3', etcdEndpoints: endpoints})).toThrow(message)
  })

  it('loads TLS material from files or inline PEM, and credentials', () => {
    const ca = file('ca.pem', 'CA')
    const cert = file('c.pem', 'CERT')
    const key = file('k.pem', 'KEY')
    const fromFiles = etcdConnection({datastoreType: 'etcdv3', etcdCACertFile: ca, etcdCertFile: cert, etcdKeyFile: key, etcdUsername: 'u', etcdPassword: 'p'})
    expect(fromFiles.credentials).toEqual({rootCertificate: Buffer.from('CA'), certChain: Buffer.from('CERT'), privateKey: Buffer.from('KEY')})
    expect(fromFiles.auth).toEqual({username: 'u', password: 'p'})
    const inline = etcdConnection({datastoreType: 'etcdv3', etcdCACert: 'CA2'})
    expect(inline.credentials).toEqual({rootCertificate: Buffer.from('CA2')})
    expect(inline.auth).toBeUndefined()
  })

  it('uses the system roots when only a client certificate is configured', () => {
    const conn = etcdConnection({datastoreType: 'etcdv3', etcdCert: 'CERT', etcdKey: 'KEY'})
    expect(conn.credentials?.rootCertificate.toString()).toContain('-----BEGIN CERTIFICATE-----')
  })

  it.each([
    [{etcdCACertFile: join(dir, 'missing.pem')}, `cannot read etcd CA certificate file ${join(dir, 'missing.pem')}: no such file or directory`],
    [{etcdCertFile: join(dir, 'missing.pem'), etcdKeyFile: join(dir, 'missing.pem')}, `cannot read etcd certificate file ${join(dir, 'missing.pem')}`],
    [{etcdCertFile: file('only-cert.pem', 'C')}, 'etcd client TLS needs both a certificate and a key (etcdCertFile and etcdKeyFile)'],
    [{etcdCACert: 'CA', etcdKeyFile: '/k'}, 'cannot mix inline etcd certificates/keys (etcdCACert, etcdCert, etcdKey) with certificate/key files'],
    [{etcdDiscoverySrv: 'example.com'}, 'etcd DNS discovery (etcdDiscoverySrv) is not supported; list the endpoints in etcdEndpoints'],
  ])('reports %j as a DatastoreError', (config, message) => {
    expect(() => etcdConnection({datastoreType: 'etcdv3', ...config})).toThrow(DatastoreError)
    expect(() => etcdConnection({datastoreType: 'etcdv3', ...config})).toThrow(message)
  })
})

describe('connectionReason', () => {
  const ep = 'http://127.0.0.1:2379'
  it.each([
    [
      '14 UNAVAILABLE: No connection established. Last error: Error: connect ECONNREFUSED 127.0.0.1:2379. Resolution note: ',
      ep,
      'connect ECONNREFUSED 127.0.0.1:2379',
    ],
    ['14 UNAVAILABLE: No connection established. Last error: Failed to connect (2026-11-27T14:06:20.566Z)', ep, 'Failed to connect (if etcd serves TLS, use https:// endpoints)'],
    [
      '14 UNAVAILABLE: No connection established. Last error: Error: 80BC2FE1827F0000:error:0A000412:SSL routines:ssl3_read_bytes:sslv3 alert bad certificate:../deps/openssl/openssl/ssl/record/rec_layer_s3.c:1601:SSL alert number 42\n (2026-11-27T14:06:20.355Z)',
      'https://127.0.0.1:2379',
      'TLS handshake failed: sslv3 alert bad certificate (etcd rejected the client certificate: check etcdCertFile/etcdKeyFile)',
    ],
    [
      '14 UNAVAILABLE: No connection established. Last error: Error: unable to verify the first certificate',
      'https://127.0.0.1:2379',
      "TLS: unable to verify the first certificate (set etcdCACertFile to the CA that signed etcd's certificate)",
    ],
    ['4 DEADLINE_EXCEEDED: Deadline exceeded', ep, 'timed out waiting for a response'],
    ['14 UNAVAILABLE: Connection dropped', ep, 'Connection dropped'],
  ])('%j', (message, endpoints, expected) => {
    expect(connectionReason(message, endpoints)).toBe(expected)
  })
})
