// The two layers of a shadow and the rules that merge them, in overlayfs's own on-disk format so
// that the FUSE view and a kernel overlay of the same directories (used by exec) agree:
// - lower: the user's tree, never written;
// - upper: every write; a deletion is a whiteout (a 0/0 character device, or a `.wh.NAME` file
//   where mknod is not permitted), a directory that hides the lower one is opaque
//   (`trusted.overlay.opaque=y`, or a `.wh..wh..opq` file).
// Copy-up records the file's base (its content at that moment) in the journal, for three-way
// accept later. Synchronous on purpose: it runs in the FUSE server's own process, where each
// kernel request is served in turn and sync calls avoid a thread-pool hop.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { join } from 'node:path';
import type { Journal } from './journal.js';
import type { FuseNative } from './native.js';
import { baseName, joinRelative, parentOf } from './safe-path.js';

export const WHITEOUT_PREFIX = '.wh.';
export const OPAQUE_MARKER = '.wh..wh..opq';
const OPAQUE_XATTR = 'trusted.overlay.opaque';

export type WhiteoutStyle = 'device' | 'file';

export interface LayerPaths {
  lower: string;
  upper: string;
}

/** Where a merged path lives. */
export type Resolved =
  | { layer: 'upper'; path: string; stat: fs.BigIntStats }
  | { layer: 'lower'; path: string; stat: fs.BigIntStats }
  | { layer: 'none' };

export class OverlayError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

function errno(code: string, message = code): OverlayError {
  return new OverlayError(code, message);
}

function lstatOrNull(path: string): fs.BigIntStats | null {
  try {
    // No exception for a missing name: most lookups miss in the upper layer, and a thrown error
    // (with its stack) costs more than the system call itself.
    return fs.lstatSync(path, { bigint: true, throwIfNoEntry: false }) ?? null;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ENAMETOOLONG') return null;
    throw error;
  }
}

export function isDeviceWhiteout(stat: fs.BigIntStats): boolean {
  return stat.isCharacterDevice() && stat.rdev === 0n;
}

export class OverlayLayers {
  readonly whiteoutStyle: WhiteoutStyle;
  // Directory states change only through this process (or an exec, which invalidates), so they are cached.
  private readonly hiddenCache = new Map<string, boolean>();
  /** Upper inode -> the lower inode it was copied up from, so a file keeps its inode number across copy-up. */
  readonly originInode = new Map<bigint, bigint>();

  constructor(
    readonly paths: LayerPaths,
    private readonly native: FuseNative | undefined,
    private readonly journal: Journal | undefined,
    whiteoutStyle?: WhiteoutStyle,
  ) {
    this.whiteoutStyle = whiteoutStyle ?? detectWhiteoutStyle(paths.upper, native);
  }

  upperPath(relative: string): string {
    return relative === '' ? this.paths.upper : join(this.paths.upper, relative);
  }

  lowerPath(relative: string): string {
    return relative === '' ? this.paths.lower : join(this.paths.lower, relative);
  }

  /** Is `relative` hidden by a whiteout in its upper parent? */
  private whitedOut(relative: string, upperStat: fs.BigIntStats | null): boolean {
    if (upperStat && isDeviceWhiteout(upperStat)) return true;
    if (relative === '') return false;
    if (this.whiteoutStyle === 'file') {
      return lstatOrNull(join(this.upperPath(parentOf(relative)), WHITEOUT_PREFIX + baseName(relative))) !== null;
    }
    return false;
  }

  /** True when the lower `relative` is hidden by what the upper layer holds above it. */
  private lowerHidden(relative: string): boolean {
    return relative !== '' && this.hidesLowerChildren(parentOf(relative));
  }

  /**
   * Does directory `dir` hide the lower entries under it: it, or an ancestor, is opaque, whited out
   * or replaced by a non-directory in the upper layer. Cached per directory, so a lookup costs one
   * map hit for its parent rather than a walk of its ancestors.
   */
  private hidesLowerChildren(dir: string): boolean {
    const cached = this.hiddenCache.get(dir);
    if (cached !== undefined) return cached;
    let hides = dir !== '' && this.hidesLowerChildren(parentOf(dir));
    if (!hides) {
      const st = lstatOrNull(this.upperPath(dir));
      if (st) hides = !st.isDirectory() || (dir !== '' && this.whitedOut(dir, st)) || this.isOpaque(dir);
      else if (dir !== '') hides = this.whitedOut(dir, null);
    }
    this.hiddenCache.set(dir, hides);
    return hides;
  }

  /** Called by invalidate(): others who keep what depends on the upper layer drop it too. */
  onInvalidate: (() => void) | undefined;

  /** Forgets cached directory states; call after every change to the upper layer. */
  invalidate(): void {
    this.hiddenCache.clear();
    this.onInvalidate?.();
  }

  isOpaque(relative: string): boolean {
    const dir = this.upperPath(relative);
    if (this.whiteoutStyle === 'device' && this.native) {
      const buffer = Buffer.alloc(4);
      const n = this.native.lgetxattr(dir, OPAQUE_XATTR, buffer);
      if (n > 0 && buffer.subarray(0, n).toString() === 'y') return true;
    }
    return lstatOrNull(join(dir, OPAQUE_MARKER)) !== null;
  }

  resolve(relative: string): Resolved {
    const upper = this.upperPath(relative);
    const upperStat = lstatOrNull(upper);
    if (upperStat && !isDeviceWhiteout(upperStat)) return { layer: 'upper', path: upper, stat: upperStat };
    if (this.whitedOut(relative, upperStat)) return { layer: 'none' };
    if (this.lowerHidden(relative)) return { layer: 'none' };
    const lower = this.lowerPath(relative);
    const lowerStat = lstatOrNull(lower);
    if (lowerStat) return { layer: 'lower', path: lower, stat: lowerStat };
    return { layer: 'none' };
  }

  /** The merged listing of a directory (names only, no whiteouts or markers). */
  readdir(relative: string): string[] {
    const names = new Set<string>();
    const hidden = new Set<string>();
    const upperDir = this.upperPath(relative);
    const upperStat = lstatOrNull(upperDir);
    let includeLower = true;
    if (upperStat?.isDirectory()) {
      for (const entry of fs.readdirSync(upperDir, { withFileTypes: true })) {
        if (entry.name === OPAQUE_MARKER) continue;
        if (entry.name.startsWith(WHITEOUT_PREFIX)) {
          hidden.add(entry.name.slice(WHITEOUT_PREFIX.length));
          continue;
        }
        if (entry.isCharacterDevice() && isDeviceWhiteout(fs.lstatSync(join(upperDir, entry.name), { bigint: true }))) {
          hidden.add(entry.name);
          continue;
        }
        names.add(entry.name);
      }
      includeLower = !this.isOpaque(relative);
    }
    if (includeLower && !this.lowerHidden(relative)) {
      let lowerNames: string[] = [];
      try {
        lowerNames = fs.readdirSync(this.lowerPath(relative));
      } catch {}
      for (const name of lowerNames) if (!hidden.has(name)) names.add(name);
    }
    return [...names];
  }

  /** Makes sure the upper directory chain for `relative` (a directory) exists, copying up modes and owners. */
  ensureUpperDir(relative: string): void {
    if (relative === '') return;
    const upper = this.upperPath(relative);
    const st = lstatOrNull(upper);
    if (st?.isDirectory()) return;
    this.ensureUpperDir(parentOf(relative));
    const lower = this.resolve(relative);
    if (lower.layer === 'none') throw errno('ENOENT');
    if (!lower.stat.isDirectory()) throw errno('ENOTDIR');
    fs.mkdirSync(upper);
    fs.chmodSync(upper, Number(lower.stat.mode & 0o7777n));
    fs.lchownSync(upper, Number(lower.stat.uid), Number(lower.stat.gid));
    this.native?.utimensat(upper, nsToSpec(lower.stat.atimeNs), nsToSpec(lower.stat.mtimeNs));
    // A directory keeps its inode number too: tree walkers (find, fts) check that `..` is still
    // the directory they came from, and stop with ENOENT when it is not.
    this.originInode.set(fs.lstatSync(upper, { bigint: true }).ino, lower.stat.ino);
  }

  /**
   * Copies a lower file, symlink or directory up so it can be changed, recording its base.
   * Copies to a temporary name first and renames, so a crash never leaves half a file.
   */
  copyUp(relative: string): string {
    const resolved = this.resolve(relative);
    if (resolved.layer === 'none') throw errno('ENOENT');
    if (resolved.layer === 'upper') return resolved.path;
    this.ensureUpperDir(parentOf(relative));
    const upper = this.upperPath(relative);
    const st = resolved.stat;
    if (st.isDirectory()) {
      this.ensureUpperDir(relative);
      return upper;
    }
    const temp = join(this.upperPath(parentOf(relative)), `.caret-copyup-${process.pid}-${Date.now()}`);
    if (st.isSymbolicLink()) {
      fs.symlinkSync(fs.readlinkSync(resolved.path), temp);
      this.journal?.recordBase(relative, { kind: 'symlink', target: fs.readlinkSync(resolved.path) });
    } else if (st.isFile()) {
      fs.copyFileSync(resolved.path, temp, fs.constants.COPYFILE_FICLONE);
      fs.chmodSync(temp, Number(st.mode & 0o7777n));
      this.journal?.recordBase(relative, { kind: 'file', sourcePath: temp, mode: Number(st.mode & 0o7777n) });
    } else {
      throw errno('EPERM', 'special files cannot be copied up');
    }
    fs.lchownSync(temp, Number(st.uid), Number(st.gid));
    this.native?.utimensat(temp, nsToSpec(st.atimeNs), nsToSpec(st.mtimeNs));
    this.copyXattrs(resolved.path, temp);
    // Replace a `.wh.` marker or device whiteout is not needed here: the path resolved to lower.
    fs.renameSync(temp, upper);
    this.originInode.set(fs.lstatSync(upper, { bigint: true }).ino, st.ino);
    return upper;
  }

  /** Copies a whole lower subtree up (for renaming a directory), marking directories opaque. */
  copyUpTree(relative: string): void {
    const resolved = this.resolve(relative);
    if (resolved.layer === 'none') throw errno('ENOENT');
    if (!resolved.stat.isDirectory()) {
      this.copyUp(relative);
      return;
    }
    this.ensureUpperDir(relative);
    for (const name of this.readdir(relative)) this.copyUpTree(joinRelative(relative, name));
    this.setOpaque(relative);
  }

  private copyXattrs(from: string, to: string): void {
    if (!this.native) return;
    const list = Buffer.alloc(4096);
    const n = this.native.llistxattr(from, list);
    if (n <= 0) return;
    for (const name of list.subarray(0, n).toString().split('\0')) {
      if (!name || name.startsWith('trusted.overlay.')) continue;
      const value = Buffer.alloc(65536);
      const size = this.native.lgetxattr(from, name, value);
      if (size >= 0) this.native.lsetxattr(to, name, value.subarray(0, size), 0);
    }
  }

  /** Hides `relative` (removed from the upper already, if it was there) when the lower still has it. */
  whiteoutIfLower(relative: string): void {
    if (this.lowerHidden(relative)) return;
    if (this.isOpaque(parentOf(relative)) && lstatOrNull(this.upperPath(parentOf(relative)))?.isDirectory()) return;
    if (!lstatOrNull(this.lowerPath(relative))) return;
    this.ensureUpperDir(parentOf(relative));
    if (this.whiteoutStyle === 'device') {
      const result = this.native!.mknod(this.upperPath(relative), fs.constants.S_IFCHR, 0, 0);
      if (result < 0) throw errno('EIO', `cannot create whiteout (${result})`);
    } else {
      fs.writeFileSync(join(this.upperPath(parentOf(relative)), WHITEOUT_PREFIX + baseName(relative)), '');
    }
  }

  /** Drops a whiteout at `relative` so something new can be created there; returns whether there was one. */
  clearWhiteout(relative: string): boolean {
    const upper = this.upperPath(relative);
    const st = lstatOrNull(upper);
    if (st && isDeviceWhiteout(st)) {
      fs.unlinkSync(upper);
      return true;
    }
    if (relative !== '' && this.whiteoutStyle === 'file') {
      const marker = join(this.upperPath(parentOf(relative)), WHITEOUT_PREFIX + baseName(relative));
      if (lstatOrNull(marker)) {
        fs.unlinkSync(marker);
        return true;
      }
    }
    return false;
  }

  setOpaque(relative: string): void {
    const dir = this.upperPath(relative);
    if (this.whiteoutStyle === 'device' && this.native) {
      if (this.native.lsetxattr(dir, OPAQUE_XATTR, Buffer.from('y'), 0) === 0) return;
    }
    fs.writeFileSync(join(dir, OPAQUE_MARKER), '');
  }

  /** Is there anything in the merged view of directory `relative`? */
  isEmptyDir(relative: string): boolean {
    return this.readdir(relative).length === 0;
  }
}

function detectWhiteoutStyle(upper: string, native: FuseNative | undefined): WhiteoutStyle {
  if (!native) return 'file';
  const probe = join(upper, `.caret-probe-${process.pid}`);
  try {
    if (native.mknod(probe, fs.constants.S_IFCHR, 0, 0) === 0) return 'device';
    return 'file';
  } finally {
    try {
      fs.unlinkSync(probe);
    } catch {}
  }
}

export function nsToSpec(ns: bigint): { sec: number; nsec: number } {
  let sec = ns / 1_000_000_000n;
  let nsec = ns % 1_000_000_000n;
  if (nsec < 0n) {
    nsec += 1_000_000_000n;
    sec -= 1n;
  }
  return { sec: Number(sec), nsec: Number(nsec) };
}

export function sha256File(path: string): string {
  return createHash('sha256').update(fs.readFileSync(path)).digest('hex');
}
