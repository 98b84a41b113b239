// Content hashes for files, chunks and Merkle nodes: 128 bits of SHA-1 (native, over 1 GB/s, and
// wide enough that collisions never matter for an index that is rebuildable anyway).
import { createHash } from 'node:crypto';

export function contentHash(data: string | Uint8Array): string {
  return createHash('sha1').update(data).digest('hex').slice(0, 32);
}
