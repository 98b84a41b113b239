// Relative paths that name something inside a shadow. Every path that comes from a client or an
// agent goes through here before it touches the disk: no `..`, no absolute paths, no NUL, no
// empty components. Pure.
import { posix } from 'node:path';

export class UnsafePathError extends Error {
  constructor(readonly path: string, reason: string) {
    super(`${JSON.stringify(path)} ${reason}; give a path relative to the workspace root, inside it`);
    this.name = 'UnsafePathError';
  }
}

/** Normalises a client-supplied relative path ('' is the root); throws UnsafePathError. */
export function safeRelativePath(input: string): string {
  if (typeof input !== 'string') throw new UnsafePathError(String(input), 'is not a string');
  if (input.includes('\0')) throw new UnsafePathError(input, 'contains a NUL byte');
  if (input.startsWith('/') || /^[A-Za-z]:[\\/]/.test(input)) throw new UnsafePathError(input, 'is absolute');
  const parts: string[] = [];
  for (const part of input.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') throw new UnsafePathError(input, 'climbs out with ..');
    parts.push(part);
  }
  return parts.join('/');
}

/** Splits a FUSE path ('/a/b') into its relative form ('a/b'); FUSE paths are already canonical. */
export function fuseToRelative(fusePath: string): string {
  return fusePath === '/' ? '' : fusePath.slice(1);
}

export function parentOf(relative: string): string {
  const dir = posix.dirname(relative);
  return dir === '.' ? '' : dir;
}

export function baseName(relative: string): string {
  return posix.basename(relative);
}

export function joinRelative(parent: string, name: string): string {
  return parent === '' ? name : `${parent}/${name}`;
}
