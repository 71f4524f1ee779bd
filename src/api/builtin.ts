// The resource every Calico datastore serves without storing it: libcalico-go's resources.DefaultAllowProfile. Pure.
import {API_VERSION} from './resource.js'
import type {Profile} from './types/policy.js'

/** Calico's built-in profile, e.g. for host endpoints meant to be open. */
export const DEFAULT_ALLOW_PROFILE = 'projectcalico-default-allow'

/** Allows all traffic both ways; Calico's backends list it in every snapshot and refuse to store another. */
export function defaultAllowProfile(): Profile & {kind: 'Profile'} {
  return {apiVersion: API_VERSION, kind: 'Profile', metadata: {name: DEFAULT_ALLOW_PROFILE}, spec: {ingress: [{action: 'Allow'}], egress: [{action: 'Allow'}]}}
}
