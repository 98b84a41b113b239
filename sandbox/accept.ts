// Accepting a shadow's changes into the user's tree: the only code that writes there. Each file
// is merged three-way when the user edited it since its base, written atomically (temporary file
// in the same directory, fsync, rename), and never written through a symlink or outside the root.
import * as fs from 'node:fs';
import { dirname, join, relative as relativePath, sep } from 'node:path';
import type { ChangeDetail } from './changes.js';
import { merge3 } from './merge3.js';

export interface AcceptOutcome {
  path: string;
  status: 'applied' | 'merged' | 'unchanged' | 'conflict';
  message?: string;
}

export class AcceptError extends Error {}

function readUser(path: string): { content: Buffer; isSymlink: boolean } | null {
  try {
    const st = fs.lstatSync(path);
    if (st.isDirectory()) throw new AcceptError('a directory is in the way');
    if (!st.isFile() && !st.isSymbolicLink()) throw new AcceptError('a special file is in the way');
    return { content: st.isSymbolicLink() ? Buffer.from(fs.readlinkSync(path)) : fs.readFileSync(path), isSymlink: st.isSymbolicLink() };
  } catch (error) {
    if (error instanceof AcceptError) throw error;
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

/** Makes sure every directory from root to `dir` is a real directory inside root (no symlinks), creating missing ones. */
export function ensureSafeParent(root: string, target: string): void {
  const rel = relativePath(root, dirname(target));
  if (rel.startsWith('..') || rel.startsWith(sep)) throw new AcceptError('outside the workspace');
  let current = root;
  for (const part of rel === '' ? [] : rel.split(sep)) {
    current = join(current, part);
    let st: fs.Stats | null = null;
    try {
      st = fs.lstatSync(current);
    } catch {}
    if (!st) fs.mkdirSync(current);
    else if (st.isSymbolicLink()) throw new AcceptError(`${relativePath(root, current)} is a symlink; not writing through it`);
    else if (!st.isDirectory()) throw new AcceptError(`${relativePath(root, current)} is not a directory`);
  }
}

function writeAtomic(target: string, content: Buffer, mode: number | undefined, isSymlink: boolean): void {
  const temp = join(dirname(target), `.caret-accept-${process.pid}-${Math.random().toString(36).slice(2)}`);
  try {
    if (isSymlink) fs.symlinkSync(content.toString(), temp);
    else {
      const fd = fs.openSync(temp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, mode ?? 0o644);
      try {
        fs.writeSync(fd, content);
        if (mode !== undefined) fs.fchmodSync(fd, mode);
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
    }
    fs.renameSync(temp, target);
  } catch (error) {
    fs.rmSync(temp, { force: true });
    throw error;
  }
}

function removeUserFile(target: string): void {
  fs.unlinkSync(target);
}

/** Applies one change to the user's tree at `root`. */
export function acceptChange(root: string, change: ChangeDetail): AcceptOutcome {
  const path = change.path;
  try {
    if (change.kind === 'renamed') {
      const fromTarget = join(root, change.from!);
      const user = readUser(fromTarget);
      const base = change.base ?? null;
      if (user && base && !user.content.equals(base)) {
        // You edited the file the shadow renamed: your edits follow it to its new name when they merge.
        if (user.isSymlink || change.isSymlink || change.binary || change.current === null) {
          return { path, status: 'conflict', message: `${change.from} changed in your tree since the shadow renamed it` };
        }
        const merged = merge3(base.toString('utf8'), user.content.toString('utf8'), change.current.toString('utf8'));
        if (merged.conflicts > 0) return { path, status: 'conflict', message: `${merged.conflicts} hunk(s) of your edits to ${change.from} conflict with the shadow's` };
        const target = join(root, path);
        if (readUser(target)) return { path, status: 'conflict', message: `${path} already exists in your tree` };
        ensureSafeParent(root, target);
        writeAtomic(target, Buffer.from(merged.text), change.currentMode, false);
        removeUserFile(fromTarget);
        return { path, status: 'merged' };
      }
      const added = acceptChange(root, { ...change, kind: 'added', base: null });
      if (added.status === 'conflict') return added;
      if (user) removeUserFile(fromTarget);
      return { path, status: 'applied' };
    }
    const target = join(root, path);
    const user = readUser(target);
    if (change.kind === 'deleted') {
      if (!user) return { path, status: 'unchanged' };
      if (change.base && user.content.equals(change.base)) {
        removeUserFile(target);
        return { path, status: 'applied' };
      }
      return { path, status: 'conflict', message: 'you edited a file the shadow deleted' };
    }
    const current = change.current!;
    if (user && user.content.equals(current)) return { path, status: 'unchanged' };
    if (!user || (change.base && user.content.equals(change.base))) {
      if (!user && change.kind === 'modified' && change.base) {
        return { path, status: 'conflict', message: 'you deleted a file the shadow modified' };
      }
      ensureSafeParent(root, target);
      writeAtomic(target, current, change.currentMode, change.isSymlink);
      return { path, status: 'applied' };
    }
    // The user changed the file too.
    if (!change.base || change.isSymlink || user.isSymlink || change.binary) {
      return { path, status: 'conflict', message: change.base ? 'both sides changed a binary file or symlink' : 'both you and the shadow changed this file, and its base is unknown' };
    }
    const merged = merge3(change.base.toString('utf8'), user.content.toString('utf8'), current.toString('utf8'));
    if (merged.conflicts > 0) return { path, status: 'conflict', message: `${merged.conflicts} conflicting hunk(s) with your edits` };
    ensureSafeParent(root, target);
    writeAtomic(target, Buffer.from(merged.text), fs.lstatSync(target).mode & 0o7777, false);
    return { path, status: 'merged' };
  } catch (error) {
    return { path, status: 'conflict', message: (error as Error).message };
  }
}
