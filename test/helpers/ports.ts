// A loopback TCP port nothing listens on (the kernel picks one; it is closed again before it is returned), for a
// server the test starts next or for a connection that must be refused.
import {createServer} from 'node:net'

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address()
      const port = typeof addr === 'object' && addr ? addr.port : 0
      srv.close(() => resolve(port))
    })
  })
}
