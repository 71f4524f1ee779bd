// Where the embedded store lives when the configuration does not say.

import {homedir} from 'node:os'
import {join} from 'node:path'

export const DATABASE_FILE = 'calico.db'

/** root: /var/lib/calico/datastore (next to the node agent's state); others: the XDG data directory. */
export function defaultDatastoreDir(env: NodeJS.ProcessEnv = process.env, uid = process.getuid?.() ?? -1, home = homedir()): string {
  if (uid === 0) return '/var/lib/calico/datastore'
  const xdg = env.XDG_DATA_HOME
  // The XDG spec says relative values are invalid and must be ignored.
  const dataHome = xdg && xdg.startsWith('/') ? xdg : join(home, '.local', 'share')
  return join(dataHome, 'calico')
}
