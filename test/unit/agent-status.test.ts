import {describe, expect, it} from 'vitest'
import {BirdOutputError, isAgentCommandLine, nodeStatus, parseBirdProtocols, peerTable} from '../../src/agent/status.js'

const REPLY = [
  '0001 BIRD v0.3.3+birdv1.6.8 ready.',
  '2002-name     proto    table    state  since       info',
  '1002-static1  Static   master   up     17:37:40',
  ' kernel1  Kernel   master   up     17:37:40',
  ' Mesh_10_250_12_185 BGP      master   start  17:37:59    Connect',
  ' Node_10_250_12_1 BGP      master   up     17:38:13    Established',
  ' Global_192_0_2_9 BGP      master   up     17:38:13    Established   extra words',
  ' other_peer BGP      master   up     17:38:13    Established',
  '0000 ',
].join('\n')

describe('node status', () => {
  it('recognises agent processes', () => {
    expect(isAgentCommandLine(['/usr/bin/node', '/opt/calico/bin/calicoctl', 'node', 'run', '--name', 'n1'])).toBe(true)
    expect(isAgentCommandLine(['/usr/local/bin/calicoctl', 'node', 'run'])).toBe(true)
    expect(isAgentCommandLine(['calico-felix'])).toBe(true)
    expect(isAgentCommandLine(['/bin/calico-node', '-felix'])).toBe(true)
    expect(isAgentCommandLine(['/usr/bin/node', '/opt/calico/bin/calicoctl', 'node', 'status'])).toBe(false)
    expect(isAgentCommandLine(['/bin/calico-node', '-bird'])).toBe(false)
    expect(isAgentCommandLine(['vim', 'x', 'calicoctl', 'node', 'run'])).toBe(false)
  })

  it('parses Calico BGP sessions out of show protocols', () => {
    expect(parseBirdProtocols(REPLY, 4)).toEqual([
      {address: '10.250.12.185', type: 'node-to-node mesh', state: 'start', since: '17:37:59', info: 'Connect'},
      {address: '10.250.12.1', type: 'node specific', state: 'up', since: '17:38:13', info: 'Established'},
      {address: '192.0.2.9', type: 'global', state: 'up', since: '17:38:13', info: 'Established extra words'},
    ])
    expect(parseBirdProtocols(' Mesh_fd00__1 BGP master up 10:00:00 Established\n0000\n', 6)[0]!.address).toBe('fd00::1')
    expect(() => parseBirdProtocols('2002-name proto state\n0000\n', 4)).toThrow('unknown BIRD table output format')
    expect(() => parseBirdProtocols('9999 what\n', 4)).toThrow(BirdOutputError)
    expect(() => parseBirdProtocols(' Mesh_1_2_3_4 BGP master up 10:00 Established\n', 4)).toThrow('unexpected output line from BIRD')
  })

  it('prints the peer table as calicoctl does', () => {
    expect(peerTable(parseBirdProtocols(REPLY, 4).slice(0, 2))).toBe(
      [
        '+---------------+-------------------+-------+----------+-------------+',
        '| PEER ADDRESS  |     PEER TYPE     | STATE |  SINCE   |    INFO     |',
        '+---------------+-------------------+-------+----------+-------------+',
        '| 10.250.12.185 | node-to-node mesh | start | 17:37:59 | Connect     |',
        '| 10.250.12.1   | node specific     | up    | 17:38:13 | Established |',
        '+---------------+-------------------+-------+----------+-------------+',
      ].join('\n') + '\n',
    )
  })

  it('reports the agent and BIRD', async () => {
    const agent = ['calicoctl', 'node', 'run']
    const none = await nodeStatus({commandLines: async () => [['bash']], query: async () => REPLY})
    expect(none.running).toBe(false)
    const noBird = await nodeStatus({commandLines: async () => [agent], query: async () => REPLY})
    expect(noBird.text).toBe('Calico process is running.\n\nThe BGP backend process (BIRD) is not running.\n\n')
    const v4 = await nodeStatus({commandLines: async () => [agent, ['bird', '-R']], query: async () => '0001 ready\n0000\n'})
    expect(v4.text).toBe("Calico process is running.\n\nIPv4 BGP status\nNo IPv4 peers found.\n\nINFO: BIRDv6 process: 'bird6' is not running.\n\n")
    const broken = await nodeStatus({commandLines: async () => [agent, ['bird']], query: async () => { throw new Error('unable to connect to BIRDv4 socket: ENOENT') }})
    expect(broken.text).toContain('Error querying BIRD: unable to connect to BIRDv4 socket: ENOENT\n')
  })
})
