/**
 * Key → server mapping. It must be identical to the application's memcached client, or the tailer
 * deletes a key from a server that never held it. `memjs` is memjs's default: Java-style string hash
 * over UTF-16 code units, modulo the server count (memjs lib/memjs/utils.js `hashCode`).
 */
export type ServerSelector = (key: string) => number;

export function memjsHash(key: string): number {
  let h = 0;
  for (let i = 0; i < key.length; i++) h = (31 * h + key.charCodeAt(i)) | 0;
  return Math.abs(h);
}

export function memjsSelector(serverCount: number): ServerSelector {
  return (key) => memjsHash(key) % serverCount;
}
