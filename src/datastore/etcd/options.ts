// calicoctl.cfg's etcd settings → connection settings for the KV client (kv.ts) and the etcd3 client. Kept
// free of client imports so configuration errors surface (and are testable) without opening a connection.

import {readFileSync} from 'node:fs'
import {rootCertificates} from 'node:tls'
import {DatastoreError} from '../../api/errors.js'
import type {DatastoreConfig} from '../config.js'

export const DEFAULT_ETCD_ENDPOINT = 'http://127.0.0.1:2379'

export interface EtcdConnection {
  /** Endpoints as configured (`http(s)://host:port`), in order. */
  hosts: string[]
  credentials?: {rootCertificate: Buffer; privateKey?: Buffer; certChain?: Buffer}
  auth?: {username: string; password: string}
}

/** Reads one PEM from inline text or a file; `what` names it in errors ("CA certificate", "certificate", "key"). */
function pem(inline: string | undefined, file: string | undefined, what: string): Buffer | undefined {
  if (inline) return Buffer.from(inline)
  if (!file) return undefined
  try {
    return readFileSync(file)
  } catch (err) {
    const e = err as NodeJS.ErrnoException
    const reason = e.code === 'ENOENT' ? 'no such file or directory' : e.code === 'EACCES' ? 'permission denied' : e.message
    throw new DatastoreError(`cannot read etcd ${what} file ${file}: ${reason}`)
  }
}

/** Validates the configuration and loads TLS material; throws DatastoreError with a one-line reason. */
export function etcdConnection(config: DatastoreConfig): EtcdConnection {
  if (config.etcdDiscoverySrv) {
    throw new DatastoreError('etcd DNS discovery (etcdDiscoverySrv) is not supported; list the endpoints in etcdEndpoints')
  }
  const hosts = (config.etcdEndpoints ?? DEFAULT_ETCD_ENDPOINT)
    .split(',')
    .map((h) => h.trim())
    .filter((h) => h !== '')
  if (hosts.length === 0) throw new DatastoreError('no etcd endpoints configured (etcdEndpoints is empty)')
  for (const h of hosts) {
    if (!/^https?:\/\/[^/\s]+\/?$/.test(h)) {
      throw new DatastoreError(`invalid etcd endpoint "${h}": expected http://host:port or https://host:port`)
    }
  }

  const inline = Boolean(config.etcdCACert || config.etcdCert || config.etcdKey)
  const files = Boolean(config.etcdCACertFile || config.etcdCertFile || config.etcdKeyFile)
  if (inline && files) {
    throw new DatastoreError('cannot mix inline etcd certificates/keys (etcdCACert, etcdCert, etcdKey) with certificate/key files')
  }
  const ca = pem(config.etcdCACert, config.etcdCACertFile, 'CA certificate')
  const cert = pem(config.etcdCert, config.etcdCertFile, 'certificate')
  const key = pem(config.etcdKey, config.etcdKeyFile, 'key')
  if (Boolean(cert) !== Boolean(key)) {
    throw new DatastoreError('etcd client TLS needs both a certificate and a key (etcdCertFile and etcdKeyFile)')
  }

  const conn: EtcdConnection = {hosts}
  if (ca || cert) {
    // Without a configured CA, a client certificate is still verified against the system roots.
    conn.credentials = {rootCertificate: ca ?? Buffer.from(rootCertificates.join('\n'))}
    if (cert && key) {
      conn.credentials.certChain = cert
      conn.credentials.privateKey = key
    }
  }
  if (config.etcdUsername || config.etcdPassword) {
    conn.auth = {username: config.etcdUsername ?? '', password: config.etcdPassword ?? ''}
  }
  return conn
}

/** Endpoints as users wrote them, for messages. */
export function describeEndpoints(conn: EtcdConnection): string {
  return conn.hosts.join(',')
}
