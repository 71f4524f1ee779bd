// Reading a whole document piped on stdin (`-f -`, `datastore migrate import -f -`, a CNI plugin's network config).

/** All of process.stdin, as UTF-8 text, once it ends. */
export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}
