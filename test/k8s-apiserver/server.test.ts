// The test API server's own semantics, request by request: what kube-apiserver answers for
// discovery, conflicts, preconditions, selectors, paging, watches (bookmarks, 410), status
// subresources and each patch type. Clients tested against it rely on exactly these.

import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startServer} from './helpers.js'
import type {TestApiServer} from './server.js'

let server: TestApiServer
beforeAll(async () => {
  server = await startServer({bookmarkIntervalMs: 100})
})
afterAll(async () => {
  await server?.stop()
})

// Response bodies are read loosely: the assertions spell out the shape.
type Json = Record<string, any>

async function call(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<{status: number; body: Json}> {
  const res = await fetch(`${server.url}${path}`, {method, headers: {'Content-Type': contentType}, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body)})
  return {status: res.status, body: (await res.json()) as Json}
}

const POOLS = '/apis/crd.projectcalico.org/v1/ippools'
const PODS = '/api/v1/namespaces/ns1/pods'

/** Reads watch lines until `stop` returns true (or 5 s pass). */
async function watchLines(path: string, stop: (lines: Json[]) => boolean): Promise<Json[]> {
  const ac = new AbortController()
  const timer = setTimeout(() => ac.abort(), 5000)
  const res = await fetch(`${server.url}${path}`, {signal: ac.signal})
  const lines: Json[] = []
  let buf = ''
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buf += Buffer.from(chunk).toString()
      let nl: number
      while ((nl = buf.indexOf('\n')) >= 0) {
        lines.push(JSON.parse(buf.slice(0, nl)) as Json)
        buf = buf.slice(nl + 1)
      }
      if (stop(lines)) break
    }
  } catch {
    // aborted: return what arrived
  } finally {
    clearTimeout(timer)
    ac.abort()
  }
  return lines
}

describe('test API server', () => {
  it('serves discovery for core, built-in and registered CRD groups', async () => {
    expect((await call('GET', '/api')).body.versions).toEqual(['v1'])
    const groups = (await call('GET', '/apis')).body.groups.map((g: Json) => g.name)
    expect(groups).toEqual(expect.arrayContaining(['networking.k8s.io', 'apiextensions.k8s.io', 'crd.projectcalico.org']))
    const resources = (await call('GET', '/apis/crd.projectcalico.org/v1')).body.resources.map((r: Json) => r.name)
    expect(resources).toEqual(expect.arrayContaining(['ippools', 'ippools/status', 'networkpolicies', 'ipamblocks']))
    const index = (await call('GET', '/openapi/v3')).body.paths
    expect(Object.keys(index)).toContain('apis/crd.projectcalico.org/v1')
  })

  it('answers 201/409 AlreadyExists/404/409 Conflict/422 with Status bodies like kube-apiserver', async () => {
    const created = await call('POST', POOLS, {apiVersion: 'crd.projectcalico.org/v1', kind: 'IPPool', metadata: {name: 'a'}, spec: {cidr: '10.0.0.0/24'}})
    expect(created.status).toBe(201)
    expect(created.body.metadata).toMatchObject({name: 'a', generation: 1})
    expect((await call('POST', POOLS, {metadata: {name: 'a'}, spec: {}})).body).toMatchObject({kind: 'Status', code: 409, reason: 'AlreadyExists', message: 'ippools.crd.projectcalico.org "a" already exists'})
    expect((await call('GET', `${POOLS}/nope`)).body).toMatchObject({code: 404, reason: 'NotFound', details: {name: 'nope'}})
    expect((await call('GET', '/apis/crd.projectcalico.org/v1/nothings')).body).toMatchObject({code: 404, message: 'the server could not find the requested resource'})
    const stale = await call('PUT', `${POOLS}/a`, {metadata: {name: 'a', resourceVersion: '1'}, spec: {}})
    expect(stale.body).toMatchObject({code: 409, reason: 'Conflict'})
    expect(stale.body.message).toContain('the object has been modified')
    const updated = await call('PUT', `${POOLS}/a`, {metadata: {name: 'a', resourceVersion: created.body.metadata.resourceVersion}, spec: {cidr: '10.0.1.0/24'}})
    expect(updated.body.metadata.generation).toBe(2)
    expect((await call('POST', POOLS, {metadata: {name: 'Bad_Name'}})).status).toBe(422)
    const precondition = await call('DELETE', `${POOLS}/a`, {preconditions: {resourceVersion: created.body.metadata.resourceVersion}})
    expect(precondition.body).toMatchObject({code: 409})
    expect((await call('DELETE', `${POOLS}/a`, {preconditions: {uid: created.body.metadata.uid}})).status).toBe(200)
  })

  it('filters by label and field selectors and pages with limit/continue; an expired continue is 410', async () => {
    for (const [name, team] of [['p1', 'a'], ['p2', 'b'], ['p3', 'a'], ['p4', '']] as const) {
      await call('POST', POOLS, {metadata: {name, labels: team ? {team} : {}}, spec: {}})
    }
    const names = async (q: string) => (await call('GET', `${POOLS}?${q}`)).body.items.map((i: Json) => i.metadata.name)
    expect(await names('labelSelector=team%3Da')).toEqual(['p1', 'p3'])
    expect(await names('labelSelector=team%20in%20(a,b)')).toEqual(['p1', 'p2', 'p3'])
    expect(await names('labelSelector=team%20notin%20(a)')).toEqual(['p2', 'p4'])
    expect(await names('labelSelector=!team')).toEqual(['p4'])
    expect(await names('fieldSelector=metadata.name%3Dp2')).toEqual(['p2'])
    const page1 = await call('GET', `${POOLS}?limit=3`)
    expect(page1.body.items).toHaveLength(3)
    const page2 = await call('GET', `${POOLS}?limit=3&continue=${page1.body.metadata.continue}`)
    expect(page2.body.items.map((i: Json) => i.metadata.name)).toEqual(['p4'])
    expect(page2.body.metadata.continue).toBeUndefined()
    await call('POST', POOLS, {metadata: {name: 'p5'}, spec: {}})
    server.compact(server.resourceVersion)
    expect((await call('GET', `${POOLS}?limit=3&continue=${page1.body.metadata.continue}`)).body).toMatchObject({code: 410, reason: 'Expired'})
  })

  it('watches: initial state without a resourceVersion, replay from one, bookmarks, field selectors, 410 when compacted', async () => {
    const rv = server.resourceVersion
    await call('POST', POOLS, {metadata: {name: 'w1'}, spec: {}})
    await call('POST', POOLS, {metadata: {name: 'w2'}, spec: {}})
    const replay = await watchLines(`${POOLS}?watch=1&resourceVersion=${rv}&allowWatchBookmarks=true&fieldSelector=metadata.name%3Dw2`, (l) => l.some((x) => x.type === 'BOOKMARK'))
    expect(replay.filter((l) => l.type !== 'BOOKMARK').map((l) => [l.type, l.object.metadata.name])).toEqual([['ADDED', 'w2']])
    expect(replay.find((l) => l.type === 'BOOKMARK')?.object.metadata.resourceVersion).toBe(server.resourceVersion)
    const initial = await watchLines(`${POOLS}?watch=true&labelSelector=!team`, (l) => l.length >= 3)
    expect(initial.every((l) => l.type === 'ADDED')).toBe(true)
    server.compact(server.resourceVersion)
    const gone = await watchLines(`${POOLS}?watch=1&resourceVersion=${rv}`, (l) => l.length >= 1)
    expect(gone[0]).toMatchObject({type: 'ERROR', object: {code: 410, reason: 'Expired'}})
  })

  it('keeps status and spec apart on kinds with a status subresource', async () => {
    const p = (await call('POST', POOLS, {metadata: {name: 's1'}, spec: {cidr: 'x'}, status: {ignored: true}})).body
    expect(p.status).toBeUndefined()
    const withStatus = await call('PUT', `${POOLS}/s1/status`, {metadata: {name: 's1'}, spec: {cidr: 'changed'}, status: {ok: true}})
    expect(withStatus.body).toMatchObject({spec: {cidr: 'x'}, status: {ok: true}})
    const specOnly = await call('PUT', `${POOLS}/s1`, {metadata: {name: 's1'}, spec: {cidr: 'y'}, status: {ok: false}})
    expect(specOnly.body).toMatchObject({spec: {cidr: 'y'}, status: {ok: true}})
  })

  it('applies merge, JSON and strategic merge patches; custom resources refuse strategic merge', async () => {
    await call('POST', POOLS, {metadata: {name: 'm1', labels: {a: '1', b: '2'}}, spec: {cidr: 'x', natOutgoing: true}})
    const merged = await call('PATCH', `${POOLS}/m1`, {metadata: {labels: {b: null}}, spec: {natOutgoing: false}}, 'application/merge-patch+json')
    expect(merged.body).toMatchObject({metadata: {labels: {a: '1'}}, spec: {cidr: 'x', natOutgoing: false}})
    const jp = await call('PATCH', `${POOLS}/m1`, [{op: 'replace', path: '/spec/cidr', value: 'z'}, {op: 'add', path: '/spec/blockSize', value: 26}], 'application/json-patch+json')
    expect(jp.body.spec).toEqual({cidr: 'z', natOutgoing: false, blockSize: 26})
    expect((await call('PATCH', `${POOLS}/m1`, {spec: {}}, 'application/strategic-merge-patch+json')).status).toBe(415)

    await call('POST', PODS, {metadata: {name: 'pod'}, spec: {containers: [{name: 'a', image: 'x'}, {name: 'b', image: 'y'}]}})
    const smp = await call('PATCH', `${PODS}/pod`, {spec: {containers: [{name: 'b', image: 'y2'}, {name: 'c', image: 'z'}]}}, 'application/strategic-merge-patch+json')
    expect(smp.body.spec.containers).toEqual([{name: 'a', image: 'x'}, {name: 'b', image: 'y2'}, {name: 'c', image: 'z'}])
    const del = await call('PATCH', `${PODS}/pod`, {spec: {containers: [{name: 'a', $patch: 'delete'}]}}, 'application/strategic-merge-patch+json')
    expect(del.body.spec.containers.map((c: Json) => c.name)).toEqual(['b', 'c'])
    // Pod status patches may also set annotations (how Calico's CNI records pod IPs).
    const status = await call('PATCH', `${PODS}/pod/status`, {metadata: {annotations: {'cni.projectcalico.org/podIP': '10.0.0.1/32'}}, status: {podIP: '10.0.0.1'}}, 'application/strategic-merge-patch+json')
    expect(status.body).toMatchObject({metadata: {annotations: {'cni.projectcalico.org/podIP': '10.0.0.1/32'}}, status: {podIP: '10.0.0.1'}})
  })
})
