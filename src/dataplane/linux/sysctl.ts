// Kernel parameters through /proc/sys (the per-network-namespace view of the calling process).
import {readFile, writeFile} from 'node:fs/promises'

/** `net.ipv4.ip_forward` → `/proc/sys/net/ipv4/ip_forward`; interface names may contain dots, so parts are passed separately. */
export function sysctlPath(parts: readonly string[]): string {
  for (const p of parts) if (p === '' || p.includes('/') || p === '..') throw new Error(`invalid sysctl path component ${JSON.stringify(p)}`)
  return `/proc/sys/${parts.join('/')}`
}

/** Writes the value only when it differs, so repeated reconciliation does not churn the kernel. */
export async function ensureSysctl(parts: readonly string[], value: string): Promise<boolean> {
  const path = sysctlPath(parts)
  const current = (await readFile(path, 'utf8')).trim()
  if (current === value) return false
  await writeFile(path, `${value}\n`)
  return true
}

export async function readSysctl(parts: readonly string[]): Promise<string | undefined> {
  try {
    return (await readFile(sysctlPath(parts), 'utf8')).trim()
  } catch {
    return undefined
  }
}
