// OpenAPI v3 (structural) schemas and CustomResourceDefinition manifests generated from the runtime schema, so
// CRDs for the projectcalico.org/v3 kinds come from the same field descriptions the decoder uses.
import {kindInfo} from '../kinds.js'
import type {FieldType, JsonValue, StructSchema} from './dsl.js'
import {kindSchema} from './index.js'

export interface OpenAPISchema {
  type?: 'string' | 'integer' | 'number' | 'boolean' | 'array' | 'object'
  format?: string
  enum?: (string | number)[]
  default?: JsonValue
  minimum?: number
  maximum?: number
  maxLength?: number
  minItems?: number
  maxItems?: number
  items?: OpenAPISchema
  properties?: Record<string, OpenAPISchema>
  additionalProperties?: OpenAPISchema
  anyOf?: OpenAPISchema[]
  'x-kubernetes-int-or-string'?: true
  'x-kubernetes-preserve-unknown-fields'?: true
}

const INT_FORMAT: Readonly<Record<string, string>> = {int32: 'int32', int64: 'int64', uint32: 'int32', uint64: 'int64'}

function intOrString(): OpenAPISchema {
  return {anyOf: [{type: 'integer'}, {type: 'string'}], 'x-kubernetes-int-or-string': true}
}

function typeSchema(t: FieldType, seen: readonly string[]): OpenAPISchema {
  switch (t.kind) {
    case 'string':
      return t.enum ? {type: 'string', enum: [...t.enum]} : {type: 'string'}
    case 'bool':
      return {type: 'boolean'}
    case 'int': {
      const format = INT_FORMAT[t.goType]
      return {type: 'integer', ...(format ? {format} : {}), ...(t.enum ? {enum: [...t.enum]} : {})}
    }
    case 'float':
      return {type: 'number'}
    case 'port':
    case 'uint8OrString':
    case 'intOrString':
      return intOrString()
    case 'asNumber':
      return {type: 'integer', format: 'int32'}
    case 'duration':
      return {type: 'string'}
    case 'time':
      return {type: 'string', format: 'date-time'}
    case 'raw':
      return {type: 'object', 'x-kubernetes-preserve-unknown-fields': true}
    case 'list':
      return {type: 'array', items: typeSchema(t.items, seen)}
    case 'map':
      return {type: 'object', additionalProperties: typeSchema(t.values, seen)}
    case 'object':
      return structOpenAPISchema(t.schema(), seen)
  }
}

/** The structural schema of a struct: every field with its type, enum, default and kubebuilder bounds. */
export function structOpenAPISchema(s: StructSchema, seen: readonly string[] = []): OpenAPISchema {
  // Calico's API has no recursive structs; guard anyway so a future one cannot loop forever.
  if (seen.includes(s.name)) return {type: 'object'}
  const properties: Record<string, OpenAPISchema> = {}
  for (const field of s.fields) {
    const schema = typeSchema(field.type, [...seen, s.name])
    if (field.default !== undefined) schema.default = field.default
    for (const key of ['minimum', 'maximum', 'maxLength', 'minItems', 'maxItems'] as const) {
      const v = field[key]
      if (v !== undefined) schema[key] = v
    }
    properties[field.json] = schema
  }
  return {type: 'object', properties}
}

/** `openAPIV3Schema` for a kind: TypeMeta strings, opaque metadata (the API server owns it), spec and status. */
export function kindOpenAPISchema(kind: string): OpenAPISchema {
  const ks = kindSchema(kind)
  if (!ks) throw new Error(`no schema for kind ${kind}`)
  const properties: Record<string, OpenAPISchema> = {
    apiVersion: {type: 'string'},
    kind: {type: 'string'},
    metadata: {type: 'object'},
    spec: structOpenAPISchema(ks.spec),
  }
  if (ks.status) properties.status = structOpenAPISchema(ks.status)
  return {type: 'object', properties}
}

export interface CustomResourceDefinition {
  apiVersion: 'apiextensions.k8s.io/v1'
  kind: 'CustomResourceDefinition'
  metadata: {name: string}
  spec: {
    group: string
    names: {kind: string; listKind: string; plural: string; singular: string; shortNames?: string[]}
    scope: 'Namespaced' | 'Cluster'
    versions: {
      name: string
      served: boolean
      storage: boolean
      schema: {openAPIV3Schema: OpenAPISchema}
      subresources?: {status: Record<string, never>}
    }[]
  }
}

export const CRD_GROUP = 'projectcalico.org'

/** The v3 CRD manifest of a kind (as in api/config/crd, minus documentation text and CEL rules). */
export function crdManifest(kind: string): CustomResourceDefinition {
  const ks = kindSchema(kind)
  const info = kindInfo(kind)
  if (!ks || !info) throw new Error(`no schema for kind ${kind}`)
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {name: `${info.plural}.${CRD_GROUP}`},
    spec: {
      group: CRD_GROUP,
      names: {kind, listKind: ks.listKind, plural: info.plural, singular: kind.toLowerCase()},
      scope: info.namespaced ? 'Namespaced' : 'Cluster',
      versions: [{
        name: 'v3',
        served: true,
        storage: true,
        schema: {openAPIV3Schema: kindOpenAPISchema(kind)},
        ...(ks.status ? {subresources: {status: {}}} : {}),
      }],
    },
  }
}
