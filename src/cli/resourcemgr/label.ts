// `calicoctl label` (commands/label_command.go): read one resource, set or remove one label, write it back
// with its resourceVersion so a concurrent change is not overwritten.
import type {Report} from '../messages.js'
import {executeConfigCommand, type Session} from './execute.js'
import {ResourceManager} from './manager.js'
import type {Resource} from '../../api/resource.js'

export interface LabelArgs {
  /** KIND as typed: echoed back in the messages. */
  kind: string
  name: string
  /** `key=value`, or `key` with remove. */
  label: string
  namespace?: string
  overwrite?: boolean
  remove?: boolean
}

export async function labelResource(args: LabelArgs, session: Session): Promise<Report> {
  const {kind, name} = args
  let key = args.label
  let value = ''
  if (!args.remove) {
    const eq = args.label.indexOf('=')
    if (eq < 0) return {stdout: '', error: `invalid label ${args.label}`}
    key = args.label.slice(0, eq)
    value = args.label.slice(eq + 1)
  }
  const results = await executeConfigCommand('get', {kind, names: [name], namespace: args.namespace}, session)
  if (results.fileInvalid) return {stdout: '', error: `failed to execute command: ${results.err?.message}`}
  if (results.err) return {stdout: '', error: `failed to get ${kind} ${name}, error ${results.err.message}`}
  // calicoctl reports a failed read (including a namespace error) as "not found".
  const found = results.results[0]
  if (found === undefined || 'items' in found) return {stdout: '', error: `${kind} ${name} not found`}

  const resource: Resource = structuredClone(found)
  const labels = {...resource.metadata.labels}
  let overwritten = false
  if (args.remove) {
    if (!(key in labels)) return {stdout: '', error: `cannot remove label of ${kind} ${name}, key ${key} does not exist`}
    delete labels[key]
  } else if (key in labels) {
    if (!args.overwrite && labels[key] !== value) {
      return {
        stdout: '',
        error: `failed to update label of ${kind} ${name}, key ${key} is already present. please use '--overwrite' to set a new value`,
      }
    }
    labels[key] = value
    overwritten = true
  } else {
    labels[key] = value
  }
  resource.metadata.labels = labels
  try {
    await new ResourceManager(await session.client()).update(resource)
  } catch {
    // calicoctl does not show the update error either.
    return {stdout: '', error: `failed to update ${kind} ${name}, label not changed`}
  }
  if (args.remove) return {stdout: `Successfully removed label ${key} from ${kind} ${name}\n`}
  if (overwritten) return {stdout: `Successfully updated label ${key} on ${kind} ${name}\n`}
  return {stdout: `Successfully set label ${key} on ${kind} ${name}\n`}
}
