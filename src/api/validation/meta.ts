// Object metadata checks shared by every kind: name format and length, label and annotation syntax and size.

import type {Obj} from './collector.js'
import {Collector, join, str, strMap} from './collector.js'
import {DNS1123_SUBDOMAIN_MAX, isQualifiedName, isValidLabelValue, NAME_RE, NAME_SUBDOMAIN_FMT} from './names.js'

const ANNOTATIONS_MAX_BYTES = 256 * 1024

/** `name is too long by N bytes` when over max; returns whether the length was fine. */
export function checkNameLength(c: Collector, path: string, name: string, max: number): void {
  const len = Buffer.byteLength(name, 'utf8')
  if (len > max) c.go(path, 'Metadata.Name', name, `name is too long by ${len - max} bytes`)
}

export function checkAnnotations(c: Collector, path: string, annotations: Readonly<Record<string, string>> | undefined): void {
  if (!annotations) return
  let total = 0
  for (const [k, v] of Object.entries(annotations)) {
    for (const e of isQualifiedName(k.toLowerCase())) c.go(join(path, k), 'Metadata.Annotations (key)', k, e)
    total += Buffer.byteLength(k, 'utf8') + Buffer.byteLength(v, 'utf8')
  }
  if (total > ANNOTATIONS_MAX_BYTES) {
    // Go prints the whole map as the value; the size is what the user needs.
    c.go(path, 'Metadata.Annotations (key)', `${total} bytes`,
      `total size of annotations is too large by ${total - ANNOTATIONS_MAX_BYTES} bytes`)
  }
}

export function checkLabels(c: Collector, path: string, labels: Readonly<Record<string, string>> | undefined): void {
  if (!labels) return
  for (const k in labels) {
    if (!Object.hasOwn(labels, k)) continue
    const v = labels[k]!
    // Indexed loops: valid keys and values (nearly all) then cost no iterator.
    const keyErrors = isQualifiedName(k)
    for (let i = 0; i < keyErrors.length; i++) c.go(join(path, k), 'Metadata.Labels (label)', k, keyErrors[i])
    const valueErrors = isValidLabelValue(v)
    for (let i = 0; i < valueErrors.length; i++) c.go(join(path, k), 'Metadata.Labels (value)', v, valueErrors[i])
  }
}

/** A `validate:"labels"` map field (e.g. Profile labelsToApply): any bad key or value fails the tag. */
export function checkLabelsTag(c: Collector, path: string, name: string, labels: Readonly<Record<string, string>> | undefined): void {
  if (!labels) return
  const bad = Object.entries(labels).some(([k, v]) => isQualifiedName(k).length > 0 || isValidLabelValue(v).length > 0)
  if (bad) c.tag(path, name, labels, 'labels')
}

export interface MetaParts {
  name: string
  labels?: Record<string, string>
  annotations?: Record<string, string>
}

/** Reads metadata; reports type errors. */
export function readMeta(c: Collector, meta: Obj): MetaParts {
  return {
    name: str(c, meta, 'name', 'metadata') ?? '',
    labels: strMap(c, meta, 'labels', 'metadata'),
    annotations: strMap(c, meta, 'annotations', 'metadata'),
  }
}

/** metav1.ObjectMeta struct validation, which Calico runs for every kind. */
export function validateObjectMeta(c: Collector, m: MetaParts): void {
  checkNameLength(c, 'metadata.name', m.name, DNS1123_SUBDOMAIN_MAX)
  if (!NAME_RE.test(m.name)) {
    c.go('metadata.name', 'Metadata.Name', m.name,
      `name must consist of lower case alphanumeric characters, '-' or '.' (regex: ${NAME_SUBDOMAIN_FMT})`)
  }
  checkAnnotations(c, 'metadata.annotations', m.annotations)
  checkLabels(c, 'metadata.labels', m.labels)
}
