import {describe, expect, it} from 'vitest'
import {desiredRoutes, isWorkloadInterface, routeDelta, type KernelRoute} from '../../src/dataplane/routing/workload-routes.js'

const ep = (iface: string, v4: string[], v6: string[] = []) => ({iface, ipv4Nets: v4, ipv6Nets: v6})

describe('workload routes', () => {
  it('one route per workload address, only through interfaces that are up', () => {
    const routes = desiredRoutes([ep('cali1', ['10.0.0.1/32'], ['fd00::1/128']), ep('cali2', ['10.0.0.2/32'])], new Set(['cali1']))
    expect(routes).toEqual([
      {family: 4, dst: '10.0.0.1/32', dev: 'cali1'},
      {family: 6, dst: 'fd00::1/128', dev: 'cali1'},
    ])
  })

  it('an address claimed twice goes to the first interface by name, whatever the input order', () => {
    const up = new Set(['calib', 'calia'])
    const a = desiredRoutes([ep('calib', ['10.0.0.1/32']), ep('calia', ['10.0.0.1/32'])], up)
    const b = desiredRoutes([ep('calia', ['10.0.0.1/32']), ep('calib', ['10.0.0.1/32'])], up)
    expect(a).toEqual(b)
    expect(a).toEqual([{family: 4, dst: '10.0.0.1/32', dev: 'calia'}])
  })

  it('delta: adds missing, retargets wrong device, removes stale routes through our interfaces only', () => {
    const kernel: KernelRoute[] = [
      {family: 4, dst: '10.0.0.1/32', dev: 'cali1', protocol: 'boot'},
      {family: 4, dst: '10.0.0.2/32', dev: 'cali9', protocol: 'boot'},
      {family: 4, dst: '10.0.0.3/32', dev: 'cali3', protocol: 'boot'},
      {family: 4, dst: '10.0.0.4/32', dev: 'eth0', protocol: 'static'},
      {family: 4, dst: 'default', protocol: 'boot'},
      {family: 6, dst: 'fe80::/64', dev: 'cali3', protocol: 'kernel'},
      {family: 6, dst: 'ff00::/8', dev: 'cali3', protocol: 'boot'},
    ]
    const desired = [
      {family: 4 as const, dst: '10.0.0.1/32', dev: 'cali1'},
      {family: 4 as const, dst: '10.0.0.2/32', dev: 'cali2'},
      {family: 4 as const, dst: '10.0.0.5/32', dev: 'cali5'},
    ]
    const d = routeDelta(desired, kernel, ['cali'])
    expect(d.replace).toEqual([desired[1], desired[2]])
    expect(d.remove).toEqual([{family: 4, dst: '10.0.0.3/32', dev: 'cali3'}])
  })

  it('nothing to do when the kernel matches', () => {
    const desired = [{family: 4 as const, dst: '10.0.0.1/32', dev: 'cali1'}]
    expect(routeDelta(desired, [{...desired[0]!, protocol: 'boot'}], ['cali'])).toEqual({replace: [], remove: []})
  })

  it('interface prefixes', () => {
    expect(isWorkloadInterface('cali123', ['cali'])).toBe(true)
    expect(isWorkloadInterface('tap0', ['cali', 'tap'])).toBe(true)
    expect(isWorkloadInterface('eth0', ['cali'])).toBe(false)
    expect(isWorkloadInterface('eth0', [''])).toBe(false)
  })
})
