// Writes a directory tree as a gzipped POSIX tar archive (ustar headers, a pax header for what ustar cannot hold).
// Written here with node:zlib rather than by running `tar`: a diagnostics bundle is wanted most on a broken or
// minimal host, where the tar binary may be missing, and the archive must not depend on what else is installed.
import {createReadStream, createWriteStream} from 'node:fs'
import {lstat, readdir, readlink} from 'node:fs/promises'
import {join} from 'node:path'
import {Readable} from 'node:stream'
import {pipeline} from 'node:stream/promises'
import {createGzip} from 'node:zlib'

const BLOCK = 512

export type TarEntry =
  | {type: 'file'; path: string; size: number; mode: number; mtime: number}
  | {type: 'dir'; path: string; mode: number; mtime: number}
  | {type: 'symlink'; path: string; target: string; mode: number; mtime: number}

const TYPEFLAG = {file: '0', symlink: '2', dir: '5', pax: 'x'} as const

/** `n` as zero-padded octal of `width - 1` digits and a NUL, or undefined when it does not fit. */
function octal(n: number, width: number): string | undefined {
  const s = Math.floor(n).toString(8)
  return s.length < width ? `${s.padStart(width - 1, '0')}\0` : undefined
}

/** ustar's name/prefix split of `path` (prefix up to 155 bytes, name up to 100, split at a slash), if one exists. */
export function splitUstarPath(path: string): {name: string; prefix: string} | undefined {
  if (Buffer.byteLength(path) <= 100) return {name: path, prefix: ''}
  for (let i = path.indexOf('/'); i >= 0; i = path.indexOf('/', i + 1)) {
    const prefix = path.slice(0, i)
    const name = path.slice(i + 1)
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(name) <= 100 && name !== '') return {name, prefix}
  }
  return undefined
}

/** A pax extended-header record: `<length> <key>=<value>\n`, where length counts the whole record. */
function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`
  let len = Buffer.byteLength(body) + 1
  while (String(len).length + Buffer.byteLength(body) !== len) len = String(len).length + Buffer.byteLength(body)
  return `${len}${body}`
}

function header(fields: {name: string; prefix: string; mode: number; size: number; mtime: number; type: string; linkname: string}): Buffer {
  const b = Buffer.alloc(BLOCK)
  b.write(fields.name, 0, 100, 'utf8')
  b.write(octal(fields.mode & 0o7777, 8)!, 100, 'ascii')
  b.write(octal(0, 8)!, 108, 'ascii')
  b.write(octal(0, 8)!, 116, 'ascii')
  b.write(octal(fields.size, 12)!, 124, 'ascii')
  b.write(octal(fields.mtime, 12)!, 136, 'ascii')
  b.write(fields.type, 156, 'ascii')
  b.write(fields.linkname, 157, 100, 'utf8')
  b.write('ustar\0', 257, 'ascii')
  b.write('00', 263, 'ascii')
  b.write('root', 265, 'ascii')
  b.write('root', 297, 'ascii')
  b.write(fields.prefix, 345, 155, 'utf8')
  // The checksum is computed with its own field read as spaces.
  b.fill(' ', 148, 156)
  let sum = 0
  for (const byte of b) sum += byte
  b.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii')
  return b
}

/** The header block(s) of one entry: a pax header first when the path, link target or size exceed ustar's fields. */
export function entryHeader(entry: TarEntry): Buffer {
  const size = entry.type === 'file' ? entry.size : 0
  const linkname = entry.type === 'symlink' ? entry.target : ''
  const path = entry.type === 'dir' ? `${entry.path}/` : entry.path
  const split = splitUstarPath(path)
  const records: string[] = []
  if (!split) records.push(paxRecord('path', path))
  if (Buffer.byteLength(linkname) > 100) records.push(paxRecord('linkpath', linkname))
  if (octal(size, 12) === undefined) records.push(paxRecord('size', String(size)))
  const own = header({
    name: split?.name ?? path.slice(-100),
    prefix: split?.prefix ?? '',
    mode: entry.mode,
    size: octal(size, 12) === undefined ? 0 : size,
    mtime: entry.mtime,
    type: TYPEFLAG[entry.type],
    linkname: linkname.slice(0, 100),
  })
  if (records.length === 0) return own
  const data = Buffer.from(records.join(''), 'utf8')
  const pax = header({name: `PaxHeader/${path.split('/').at(-1)!.slice(0, 80)}`, prefix: '', mode: 0o644, size: data.length, mtime: entry.mtime, type: TYPEFLAG.pax, linkname: ''})
  return Buffer.concat([pax, data, padding(data.length), own])
}

/** Zero bytes up to the next block boundary after `size` bytes. */
export function padding(size: number): Buffer {
  return Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK)
}

/** Every entry under `dir`, depth first in name order, named `<top>/<relative path>` (top itself first). */
async function* walk(dir: string, name: string): AsyncGenerator<{entry: TarEntry; source: string}> {
  const st = await lstat(dir)
  const mtime = Math.floor(st.mtimeMs / 1000)
  yield {entry: {type: 'dir', path: name, mode: st.mode, mtime}, source: dir}
  for (const child of (await readdir(dir)).sort()) {
    const source = join(dir, child)
    const path = `${name}/${child}`
    const cst = await lstat(source)
    const cmtime = Math.floor(cst.mtimeMs / 1000)
    if (cst.isDirectory()) yield* walk(source, path)
    else if (cst.isSymbolicLink()) yield {entry: {type: 'symlink', path, target: await readlink(source), mode: cst.mode, mtime: cmtime}, source}
    else if (cst.isFile()) yield {entry: {type: 'file', path, size: cst.size, mode: cst.mode, mtime: cmtime}, source}
  }
}

async function* archive(root: string, top: string): AsyncGenerator<Buffer> {
  for await (const {entry, source} of walk(root, top)) {
    yield entryHeader(entry)
    if (entry.type !== 'file') continue
    // The size in the header is what was stat'ed: a file that grows meanwhile (a live log) is cut there, one that
    // shrinks is padded, so the archive stays well formed.
    let written = 0
    if (entry.size > 0) {
      for await (const chunk of createReadStream(source, {start: 0, end: entry.size - 1}) as AsyncIterable<Buffer>) {
        written += chunk.length
        yield chunk
      }
    }
    if (written < entry.size) yield Buffer.alloc(entry.size - written)
    yield padding(entry.size)
  }
  // End of archive: two zero blocks.
  yield Buffer.alloc(BLOCK * 2)
}

/** Writes `root` (named `top` inside the archive) to `outFile` as .tar.gz. */
export async function writeTarGz(root: string, top: string, outFile: string): Promise<void> {
  await pipeline(Readable.from(archive(root, top)), createGzip(), createWriteStream(outFile, {mode: 0o600}))
}
