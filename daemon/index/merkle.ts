// The Merkle tree over a workspace: each file's content hash, and for each directory a hash over
// its sorted child names and hashes. Two identical trees have the same root hash wherever they
// live; comparing two trees descends only into directories whose hashes differ.
import { contentHash } from './hash.js';

/** Relative POSIX paths of files -> content hash. */
export type FileHashes = ReadonlyMap<string, string>;

export interface MerkleTree {
  files: FileHashes;
  /** Relative directory path ('' for the root) -> hash. */
  dirs: Map<string, string>;
  rootHash: string;
}

export const parentOf = (path: string): string => {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? '' : path.slice(0, slash);
};
const nameOf = (path: string): string => path.slice(path.lastIndexOf('/') + 1);

interface Children {
  files: string[];
  dirs: string[];
}

/** Directory -> its direct children (full relative paths). */
export function childIndex(files: Iterable<string>): Map<string, Children> {
  const index = new Map<string, Children>([['', { files: [], dirs: [] }]]);
  for (const file of files) {
    let dir = parentOf(file);
    let entry = index.get(dir);
    if (!entry) {
      entry = { files: [], dirs: [] };
      index.set(dir, entry);
      // Register each new directory with its parent, up to the first one already known.
      let child = dir;
      while (child !== '') {
        const parent = parentOf(child);
        let parentEntry = index.get(parent);
        const known = parentEntry !== undefined;
        if (!parentEntry) {
          parentEntry = { files: [], dirs: [] };
          index.set(parent, parentEntry);
        }
        parentEntry.dirs.push(child);
        if (known) break;
        child = parent;
      }
    }
    entry.files.push(file);
  }
  return index;
}

export function buildMerkleTree(files: FileHashes): MerkleTree {
  const index = childIndex(files.keys());
  const dirs = new Map<string, string>();
  const depth = (dir: string) => (dir === '' ? 0 : dir.split('/').length);
  const order = [...index.keys()].sort((a, b) => depth(b) - depth(a));
  for (const dir of order) {
    const children = index.get(dir)!;
    const lines: string[] = [];
    for (const file of children.files) lines.push(`f\0${nameOf(file)}\0${files.get(file)}`);
    for (const sub of children.dirs) lines.push(`d\0${nameOf(sub)}\0${dirs.get(sub)}`);
    lines.sort();
    dirs.set(dir, contentHash(lines.join('\n')));
  }
  return { files, dirs, rootHash: dirs.get('')! };
}

export interface TreeDiff {
  added: string[];
  changed: string[];
  removed: string[];
  /** Directories compared (a measure of how much of the tree the diff had to visit). */
  visitedDirs: number;
}

/** The files that differ between two trees, visiting only subtrees whose hashes differ. */
export function diffMerkleTrees(before: MerkleTree, after: MerkleTree): TreeDiff {
  const diff: TreeDiff = { added: [], changed: [], removed: [], visitedDirs: 0 };
  if (before.rootHash === after.rootHash) return diff;
  const beforeIndex = childIndex(before.files.keys());
  const afterIndex = childIndex(after.files.keys());
  const walk = (dir: string) => {
    diff.visitedDirs++;
    const a = beforeIndex.get(dir) ?? { files: [], dirs: [] };
    const b = afterIndex.get(dir) ?? { files: [], dirs: [] };
    for (const file of b.files) {
      const old = before.files.get(file);
      if (old === undefined) diff.added.push(file);
      else if (old !== after.files.get(file)) diff.changed.push(file);
    }
    for (const file of a.files) if (!after.files.has(file)) diff.removed.push(file);
    const subdirs = new Set([...a.dirs, ...b.dirs]);
    for (const sub of subdirs) {
      const oldHash = before.dirs.get(sub);
      const newHash = after.dirs.get(sub);
      if (oldHash === newHash) continue;
      if (newHash === undefined) collect(sub, beforeIndex, diff.removed);
      else if (oldHash === undefined) collect(sub, afterIndex, diff.added);
      else walk(sub);
    }
  };
  walk('');
  return diff;
}

function collect(dir: string, index: Map<string, Children>, into: string[]): void {
  const entry = index.get(dir);
  if (!entry) return;
  into.push(...entry.files);
  for (const sub of entry.dirs) collect(sub, index, into);
}
