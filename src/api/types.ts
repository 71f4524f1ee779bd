// Typed v3 resources: spec/status interfaces for every kind, with Calico's exact JSON field names.
export type * from './types/common.js'
export type * from './types/meta.js'
export type * from './types/policy.js'
export type * from './types/ipam.js'
export type * from './types/bgp.js'
export type * from './types/felix.js'
export type * from './types/endpoints.js'
export type * from './types/cluster.js'
