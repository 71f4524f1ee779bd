import {Flags} from '@oclif/core'

import {runAgent} from '../../agent/agent.js'
import {NodeRunError, parseASNumber, resolveAddress} from '../../agent/addresses.js'
import {hostInterfaces, nodeHostname, sourceAddressFor} from '../../agent/host.js'
import {createAgentLogger} from '../../agent/log.js'
import {CalicoCommand, configFlag, UsageError} from '../../cli/base-command.js'
import {loadConfig} from '../../cli/config.js'
import {ResourceDoesNotExistError} from '../../api/errors.js'
import type {Node} from '../../api/types/endpoints.js'
import {openBackend} from '../../datastore/factory.js'
import {isLogLevel} from '../../lib/logrus.js'

export default class NodeRun extends CalicoCommand {
  static override summary = 'Run the Calico node agent in the foreground.'
  static override description = `Registers this host's Node resource, then enforces Calico policy for its endpoints with nftables until
SIGTERM/SIGINT, for systemd or a DaemonSet. Stopping leaves the programmed rules in the kernel.`
  static override flags = {
    name: Flags.string({default: '', description: 'The name of the Calico node. If this is not supplied it defaults to the host name.'}),
    ip: Flags.string({
      default: '',
      description: 'Set the local IPv4 routing address for this node (an address, "autodetect" or "none"). Empty keeps the stored address or autodetects.',
    }),
    ip6: Flags.string({default: '', description: 'Set the local IPv6 routing address for this node (an address, "autodetect" or "none").'}),
    as: Flags.string({default: '', description: 'Set the AS number for this node (plain or asdot notation).'}),
    'ip-autodetection-method': Flags.string({
      default: 'first-found',
      description: 'IPv4 autodetection method: first-found, can-reach=<dest>, interface=<regex,...>, skip-interface=<regex,...>, cidr=<cidr,...>.',
    }),
    'ip6-autodetection-method': Flags.string({default: 'first-found', description: 'IPv6 autodetection method (as for IPv4).'}),
    backend: Flags.string({default: 'bird', description: 'The networking backend: bird or none. BGP is not run by this agent either way.'}),
    config: configFlag,
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(NodeRun)
    this.applyGlobalFlags(flags)
    // The agent logs at info unless -l/--log-level was given (calicoctl's own default, panic, would hide everything).
    const explicit = this.argv.some((a) => a === '-l' || a.startsWith('--log-level') || /^-l./.test(a))
    const level = explicit ? flags['log-level'].toLowerCase() : 'info'
    if (!isLogLevel(level)) throw new UsageError(`unknown log level: ${flags['log-level']}`)
    const logger = createAgentLogger(level)
    if (!/^(none|bird)$/.test(flags.backend)) this.fail(`error executing command: unknown backend '${flags.backend}'`)
    if (flags.backend === 'bird') logger.info('BGP (BIRD) is not part of this agent; routes to local workloads are programmed, peering is not')

    let asNumber: number | undefined
    try {
      asNumber = parseASNumber(flags.as)
    } catch (err) {
      this.fail(`error executing command: ${(err as Error).message}`)
    }
    const name = flags.name || nodeHostname()
    const config = await loadConfig({configPath: flags.config, context: flags.context})
    const {backend} = await openBackend(config)
    const controller = new AbortController()
    const stop = (sig: string): void => {
      logger.info(`Received ${sig}`)
      controller.abort()
    }
    process.once('SIGTERM', () => stop('SIGTERM'))
    process.once('SIGINT', () => stop('SIGINT'))
    try {
      let existing: Node | undefined
      try {
        existing = (await backend.get<Node>({kind: 'Node', name})).value
      } catch (err) {
        // Unreachable datastore: registration retries later; addresses are resolved without the stored ones.
        if (!(err instanceof ResourceDoesNotExistError)) logger.warn(`cannot read Node ${name}: ${(err as Error).message}`)
      }
      const host = {interfaces: hostInterfaces, sourceFor: sourceAddressFor}
      let ipv4Address: string | undefined
      let ipv6Address: string | undefined
      try {
        ipv4Address = await resolveAddress(4, {value: flags.ip, method: flags['ip-autodetection-method'], existing: existing?.spec?.bgp?.ipv4Address}, host)
        ipv6Address = await resolveAddress(6, {value: flags.ip6, method: flags['ip6-autodetection-method'], existing: existing?.spec?.bgp?.ipv6Address}, host)
      } catch (err) {
        if (err instanceof NodeRunError) this.fail(`error executing command: ${err.message}`)
        throw err
      }
      if (ipv4Address) logger.info(`Using IPv4 address ${ipv4Address}`)
      if (ipv6Address) logger.info(`Using IPv6 address ${ipv6Address}`)
      await runAgent({backend, logger, signal: controller.signal, registration: {name, ipv4Address, ipv6Address, asNumber}})
    } finally {
      await backend.close().catch(() => undefined)
    }
  }
}
