// The bundle's tar.gz writer, read back by GNU tar: files, empty files, symlinks, directories, and paths beyond
// ustar's 100 bytes (prefix split) and beyond 255 (pax header).
import {execFileSync} from 'node:child_process'
import {mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'

import {entryHeader, splitUstarPath, writeTarGz} from '../../src/cli/diags/tar.js'

const root = mkdtempSync(join(tmpdir(), 'calico-diags-tar-'))
afterAll(() => rmSync(root, {recursive: true, force: true}))

describe('ustar headers', () => {
  it('splits a long path at a slash into prefix and name', () => {
    expect(splitUstarPath('a/b')).toEqual({name: 'a/b', prefix: ''})
    const long = `${'d'.repeat(120)}/${'f'.repeat(90)}`
    expect(splitUstarPath(long)).toEqual({prefix: 'd'.repeat(120), name: 'f'.repeat(90)})
    expect(splitUstarPath('x'.repeat(101))).toBeUndefined()
    expect(splitUstarPath(`${'d'.repeat(160)}/${'f'.repeat(90)}`)).toBeUndefined()
  })

  it('writes a valid checksum, and a pax header when the path does not fit', () => {
    const h = entryHeader({type: 'file', path: 'diagnostics/date', size: 29, mode: 0o644, mtime: 1_700_000_000})
    expect(h.length).toBe(512)
    const stored = parseInt(h.subarray(148, 154).toString('ascii'), 8)
    const copy = Buffer.from(h)
    copy.fill(' ', 148, 156)
    expect(stored).toBe(copy.reduce((a, b) => a + b, 0))
    expect(h.subarray(124, 136).toString('ascii')).toBe('00000000035\0')
    expect(h.subarray(257, 263).toString('ascii')).toBe('ustar\0')
    const pax = entryHeader({type: 'file', path: 'x'.repeat(300), size: 0, mode: 0o644, mtime: 0})
    expect(pax.length).toBe(512 * 3)
    expect(pax.toString('latin1', 156, 157)).toBe('x')
    const record = `${'x'.repeat(300)}`
    expect(pax.subarray(512, 1024).toString('utf8')).toContain(`310 path=${record}\n`)
  })
})

it('round-trips a tree through GNU tar', async () => {
  const src = join(root, 'src')
  const deep = join(src, 'nodes', 'n'.repeat(60), 'calico-system')
  mkdirSync(deep, {recursive: true})
  mkdirSync(join(src, 'empty-dir'))
  writeFileSync(join(src, 'date'), 'Sat Nov 28 01:00:00 UTC 2026\n')
  writeFileSync(join(src, 'empty'), '')
  const big = Buffer.alloc(70_000, 'abc')
  writeFileSync(join(src, 'big'), big)
  const longName = `${'p'.repeat(90)}.log`
  writeFileSync(join(deep, longName), 'pod log\n')
  const veryLong = 'v'.repeat(240)
  writeFileSync(join(src, veryLong), 'pax\n')
  mkdirSync(join(src, 'links'))
  symlinkSync('../date', join(src, 'links', 'date'))

  const archive = join(root, 'out.tar.gz')
  await writeTarGz(src, 'diagnostics', archive)
  const listing = execFileSync('tar', ['-tzf', archive], {encoding: 'utf8'}).trim().split('\n').sort()
  expect(listing).toEqual(
    [
      'diagnostics/',
      'diagnostics/big',
      'diagnostics/date',
      'diagnostics/empty',
      'diagnostics/empty-dir/',
      'diagnostics/links/',
      'diagnostics/links/date',
      'diagnostics/nodes/',
      `diagnostics/nodes/${'n'.repeat(60)}/`,
      `diagnostics/nodes/${'n'.repeat(60)}/calico-system/`,
      `diagnostics/nodes/${'n'.repeat(60)}/calico-system/${longName}`,
      `diagnostics/${veryLong}`,
    ].sort(),
  )
  const out = join(root, 'extracted')
  mkdirSync(out)
  execFileSync('tar', ['-xzf', archive, '-C', out])
  const d = join(out, 'diagnostics')
  expect(readFileSync(join(d, 'date'), 'utf8')).toBe('Sat Nov 28 01:00:00 UTC 2026\n')
  expect(readFileSync(join(d, 'empty'), 'utf8')).toBe('')
  expect(readFileSync(join(d, 'big')).equals(big)).toBe(true)
  expect(readFileSync(join(d, 'nodes', 'n'.repeat(60), 'calico-system', longName), 'utf8')).toBe('pod log\n')
  expect(readFileSync(join(d, veryLong), 'utf8')).toBe('pax\n')
  expect(readlinkSync(join(d, 'links', 'date'))).toBe('../date')
})
