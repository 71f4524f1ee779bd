import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterAll, describe, expect, it} from 'vitest'

import {InputError, parseJSONDocument, parseResources, readResources, splitDocuments} from '../../src/cli/input.js'

const POOL = `apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: pool1
spec:
  cidr: 10.0.0.0/24
`
const PEER = `apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata:
  name: peer1
spec:
  peerIP: 192.168.0.1
  asNumber: 64512
`

const dir = mkdtempSync(join(tmpdir(), 'cli-input-'))
afterAll(() => rmSync(dir, {recursive: true, force: true}))

function write(name: string, text: string): string {
  const path = join(dir, name)
  mkdirSync(join(path, '..'), {recursive: true})
  writeFileSync(path, text)
  return path
}

describe('splitDocuments', () => {
  it.each([
    ['a\n---\nb', ['a', 'b']],
    ['a\n--- # trailing text on the separator line is dropped\nb', ['a', 'b']],
    ['---\na', ['---\na']],
    ['a\n---', ['a', '']],
    ['a', ['a']],
    ['a\n----\nb', ['a', 'b']],
  ])('%j', (text, docs) => {
    expect(splitDocuments(text)).toEqual(docs)
  })
})

describe('parseResources', () => {
  it('reads several YAML documents and skips empty ones', () => {
    const res = parseResources(`${POOL}---\n# only a comment\n---\n${PEER}`, 'f.yaml')
    expect(res.map((r) => [r.resource.kind, r.resource.metadata.name, r.document])).toEqual([
      ['IPPool', 'pool1', 1],
      ['BGPPeer', 'peer1', 3],
    ])
  })

  it('expands a top-level array and a <Kind>List', () => {
    const list = JSON.stringify({
      apiVersion: 'projectcalico.org/v3',
      kind: 'IPPoolList',
      metadata: {},
      items: [
        {apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: {name: 'a'}, spec: {cidr: '10.1.0.0/24'}},
        {apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: {name: 'b'}, spec: {cidr: '10.2.0.0/24'}},
      ],
    })
    const array = JSON.stringify([
      {apiVersion: 'projectcalico.org/v3', kind: 'BGPPeer', metadata: {name: 'p'}, spec: {peerIP: '1.1.1.1', asNumber: 1}},
    ])
    const res = parseResources(`${list}\n---\n${array}`, 'f.json')
    expect(res.map((r) => r.resource.metadata.name)).toEqual(['a', 'b', 'p'])
  })

  it('keeps timestamps as strings', () => {
    const res = parseResources(`${POOL.replace('  name: pool1', '  name: pool1\n  creationTimestamp: 2026-01-02T15:04:05Z')}`, 'f')
    expect(res[0].resource.metadata.creationTimestamp).toBe('2026-01-02T15:04:05Z')
  })

  it('reports YAML syntax errors in Go yaml wording with file and document', () => {
    let err: unknown
    try {
      parseResources(`${POOL}---\nkind: [unclosed\n`, 'bad.yaml')
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(InputError)
    const e = err as InputError
    expect(e.message).toMatch(/^error converting YAML to JSON: yaml: line \d+: /)
    expect(e.location).toBe('file bad.yaml, document 2')
  })

  it('names the field of an unknown-field error', () => {
    let err: unknown
    try {
      parseResources(POOL.replace('cidr: 10.0.0.0/24', 'cidr: 10.0.0.0/24\n  bogus: 1'), 'u.yaml')
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(InputError)
    expect((err as InputError).message).toContain('bogus')
    expect((err as InputError).document).toBe(1)
  })

  it('reads JSON documents to the same values as the YAML parser would', () => {
    const doc = JSON.stringify({
      apiVersion: 'projectcalico.org/v3',
      kind: 'GlobalNetworkPolicy',
      metadata: {
        name: 'p',
        labels: {'k\u00e9y': 'v:1', quote: 'say "hi"'},
        annotations: {json: '{"a": [1, 2]}', slash: 'a\\b/c', empty: '', ':': 'x'},
      },
      spec: {order: 1e21, selector: "a == 'b' && c in {'d', 'e'}", types: ['Ingress'], ingress: [{action: 'Allow', destination: {ports: [80, '8080:8090']}}]},
    }).replace('"order":1e+21', '"order": 1E2 ')
    // A leading comment makes the same text go through the YAML parser.
    const viaYAML = parseResources(`# yaml\n${doc}`, 'f')
    const viaJSON = parseResources(`\n  ${doc}\n`, 'f')
    expect(viaJSON).toEqual(viaYAML)
    expect(viaJSON[0].resource.spec).toMatchObject({order: 100})
  })

  it('takes the JSON path only for JSON objects and arrays without tabs or repeated keys', () => {
    expect(parseJSONDocument(' {"a": {"b": "x\\":"}, "c": [{"b": 1}]}\n')).toEqual({value: {a: {b: 'x":'}, c: [{b: 1}]}})
    expect(parseJSONDocument('[1, "a"]')).toEqual({value: [1, 'a']})
    expect(parseJSONDocument('{"a": 1, "a": 2}')).toBeUndefined()
    expect(parseJSONDocument('{"a": {"b": 1, "b": 1}}')).toBeUndefined()
    expect(parseJSONDocument('{"a":\t1}')).toBeUndefined()
    expect(parseJSONDocument('a: 1')).toBeUndefined()
    expect(parseJSONDocument('"a"')).toBeUndefined()
    expect(parseJSONDocument('{a: 1}')).toBeUndefined()
  })

  it('rejects a repeated key in a JSON document, as the YAML parser does', () => {
    const doc = '{"apiVersion": "projectcalico.org/v3", "kind": "Tier", "metadata": {"name": "a", "name": "b"}}'
    expect(() => parseResources(doc, 'dup.json')).toThrow(/^error converting YAML to JSON: yaml: line 1: duplicated mapping key/)
    // The same key in different objects is fine.
    const ok = '{"apiVersion": "projectcalico.org/v3", "kind": "Tier", "metadata": {"name": "a", "labels": {"name": "x"}}}'
    expect(parseResources(ok, 'ok.json')[0].resource.metadata).toEqual({name: 'a', labels: {name: 'x'}})
  })

  it('rejects an unknown apiVersion with calicoctl text', () => {
    expect(() => parseResources(PEER.replace('projectcalico.org/v3', 'v7'), 'v.yaml')).toThrow(
      'unknown resource type (BGPPeer) and/or version (v7)',
    )
  })
})

describe('readResources', () => {
  it('reads a directory in lexical order, non-recursively unless asked', async () => {
    const d = join(dir, 'tree')
    write('tree/b.yaml', PEER)
    write('tree/a.yml', POOL)
    write('tree/notes.txt', 'ignored')
    write('tree/sub/c.json', JSON.stringify({apiVersion: 'projectcalico.org/v3', kind: 'Tier', metadata: {name: 't'}, spec: {}}))
    expect((await readResources(d)).map((r) => r.resource.kind)).toEqual(['IPPool', 'BGPPeer'])
    expect((await readResources(d, {recursive: true})).map((r) => r.resource.kind)).toEqual(['IPPool', 'BGPPeer', 'Tier'])
  })

  it('fails on an empty file unless skipEmpty', async () => {
    const empty = write('empty.yaml', '\n# nothing\n')
    await expect(readResources(empty)).rejects.toThrow(`no resources specified in file ${empty}`)
    await expect(readResources(empty, {skipEmpty: true})).resolves.toEqual([])
  })

  it('fails on a directory without resource files', async () => {
    const d = join(dir, 'nofiles')
    write('nofiles/readme.md', 'x')
    await expect(readResources(d)).rejects.toThrow(`no resources specified in directory ${d}`)
    await expect(readResources(d, {skipEmpty: true})).resolves.toEqual([])
  })

  it('reads stdin for -', async () => {
    const res = await readResources('-', {stdin: async () => PEER})
    expect(res[0]).toMatchObject({file: '-', document: 1})
    await expect(readResources('-', {stdin: async () => ''})).rejects.toThrow('no resources specified in file -')
  })

  it('parses every file before returning anything', async () => {
    const d = join(dir, 'mixed')
    write('mixed/a.yaml', POOL)
    write('mixed/b.yaml', 'kind: [')
    await expect(readResources(d)).rejects.toBeInstanceOf(InputError)
  })

  it('reports a missing file', async () => {
    const missing = join(dir, 'missing.yaml')
    await expect(readResources(missing)).rejects.toThrow(`open ${missing}: no such file or directory`)
  })
})
