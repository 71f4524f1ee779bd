import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterAll, describe, expect, it} from 'vitest'

import type {Resource, ResourceList} from '../../src/api/resource.js'
import {convertManifests} from '../../src/cli/convert.js'

const dir = mkdtempSync(join(tmpdir(), 'convert-'))
afterAll(() => rmSync(dir, {recursive: true, force: true}))

const KNP = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-frontend
  namespace: prod
  uid: 2a4d7e3c-1f4e-4b7a-9c55-0d0f0a1b2c3d
  resourceVersion: "42"
spec:
  podSelector:
    matchLabels:
      role: db
  ingress:
  - from:
    - podSelector:
        matchLabels:
          role: frontend
    ports:
    - port: 6379
`

function write(name: string, text: string): string {
  const path = join(dir, name)
  writeFileSync(path, text)
  return path
}

describe('convertManifests', () => {
  it('converts one policy as calicoctl convert printed it', async () => {
    const out = (await convertManifests(write('one.yaml', KNP))) as Resource
    expect(out.metadata).toEqual({name: 'allow-frontend', namespace: 'prod'})
    expect(out.spec).toEqual({
      order: 1000,
      ingress: [{action: 'Allow', protocol: 'TCP', source: {selector: "projectcalico.org/orchestrator == 'k8s' && role == 'frontend'"}, destination: {ports: [6379]}}],
      selector: "projectcalico.org/orchestrator == 'k8s' && role == 'db'",
      types: ['Ingress'],
    })
  })

  it('returns a v1 List for several and reads stdin', async () => {
    const out = (await convertManifests('-', {stdin: async () => `${KNP}---\n${KNP.replace('allow-frontend', 'second')}`})) as ResourceList
    expect(out.kind).toBe('List')
    expect(out.items.map((i) => i.metadata.name)).toEqual(['allow-frontend', 'second'])
  })

  it('refuses other kinds and invalid results', async () => {
    await expect(convertManifests(write('pod.yaml', 'apiVersion: v1\nkind: Pod\nmetadata: {name: x}\n'))).rejects.toThrow(
      /^failed to convert resource: conversion of Pod \(v1\) is not supported/,
    )
    const badCIDR = KNP.replace(/- from:\n    - podSelector:\n        matchLabels:\n          role: frontend/, '- from:\n    - ipBlock:\n        cidr: 10.0.0.0/8\n        except: [10.1.0.0/16]')
    await expect(convertManifests(write('ok.yaml', badCIDR))).resolves.toBeDefined()
    await expect(convertManifests(write('empty.yaml', ''))).rejects.toThrow('no resources specified in file')
    const invalid = write('invalid.yaml', KNP.replace('name: allow-frontend', 'name: Bad_Name'))
    await expect(convertManifests(invalid)).rejects.toThrow(/^converted manifest resource\(s\) failed validation: /)
    await expect(convertManifests(invalid, {ignoreValidation: true})).resolves.toBeDefined()
  })
})
