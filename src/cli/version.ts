// The version this calicoctl reports and compares against the cluster's (ClusterInformation calicoVersion).
// The project tracks Calico's API and behaviour of this release.
export const CLIENT_VERSION = 'v3.32.0'

/** Filled in by release builds; development builds print an empty commit, as calicoctl does when unset. */
export const GIT_COMMIT = ''

/** `v3.32.0-12-gabc` → `3.32.0`: what calicoctl compares (strings.Split(strings.TrimPrefix(v, "v"), "-")[0]). */
export function normaliseVersion(v: string): string {
  return v.replace(/^v/, '').split('-')[0]
}
