// The FUSE operations of a shadow, over OverlayLayers. Runs in the FUSE server process only.
// Callbacks follow fuse-native: cb(0 | -errno, value) or, for read/write, cb(bytes | -errno).
import * as fs from 'node:fs';
import { constants as osConstants } from 'node:os';
import { OverlayError, OverlayLayers } from './layers.js';
import type { FuseInstance, FuseNative, TimeSpec } from './native.js';
import { baseName, fuseToRelative, joinRelative, parentOf } from './safe-path.js';
import type { Journal } from './journal.js';

type Callback = (code: number, ...values: unknown[]) => void;

const errnos = osConstants.errno as Record<string, number>;
const OVERLAY_XATTR = /^trusted\.overlay\./;
const UPPER_INODE_OFFSET = 2 ** 52;

export function toErrno(error: unknown): number {
  if (error instanceof OverlayError) return -(errnos[error.code] ?? errnos.EIO!);
  const e = error as NodeJS.ErrnoException;
  if (typeof e?.errno === 'number' && e.errno < 0) return e.errno;
  if (e?.code && errnos[e.code]) return -errnos[e.code]!;
  return -errnos.EIO!;
}

interface Handle {
  fd: number;
  path: string;
  wrote?: boolean;
  /** Inode number to invalidate after each write: the file has other names (hard links). */
  linkedIno?: number;
}

export interface FuseStat {
  mode: number;
  uid: number;
  gid: number;
  size: number;
  dev: number;
  nlink: number;
  ino: number;
  rdev: number;
  blksize: number;
  blocks: number;
  atimeNs: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
}

export function createFuseOps(
  layers: OverlayLayers,
  journal: Journal,
  native: FuseNative,
  fuse: () => FuseInstance | undefined,
  onChange: () => void = () => {},
) {
  const handles = new Map<number, Handle>();
  let nextHandle = 1;
  const lowerDev = fs.statSync(layers.paths.lower, { bigint: true }).dev;
  const upperDev = fs.statSync(layers.paths.upper, { bigint: true }).dev;

  function toStat(st: fs.BigIntStats, layer: 'upper' | 'lower'): FuseStat {
    const origin = layer === 'upper' ? layers.originInode.get(st.ino) : undefined;
    let ino = Number(origin ?? st.ino);
    if (origin === undefined && layer === 'upper' && upperDev !== lowerDev && ino < UPPER_INODE_OFFSET) ino += UPPER_INODE_OFFSET;
    return {
      mode: Number(st.mode),
      uid: Number(st.uid),
      gid: Number(st.gid),
      size: Number(st.size),
      dev: 0,
      nlink: Number(st.nlink),
      ino,
      rdev: Number(st.rdev),
      blksize: Number(st.blksize),
      blocks: Number(st.blocks),
      atimeNs: st.atimeNs,
      mtimeNs: st.mtimeNs,
      ctimeNs: st.ctimeNs,
    };
  }

  /**
   * A regular file that resolves to the lower layer: a read-only open of it needs nothing from
   * here but opening that file, which the binding then does itself (no round trips into this
   * loop for open, read and release). Valid until the upper layer changes: OverlayLayers.invalidate
   * (every change through the mount, every upper-layer change the watcher reports, every exec)
   * makes the binding forget them all. Paths near PATH_MAX stay here (the binding's buffers).
   */
  function rememberLower(path: string, real: string): void {
    const instance = fuse();
    if (instance?.rememberLower && Buffer.byteLength(path) < 4000 && Buffer.byteLength(real) < 4000) instance.rememberLower(path, real);
  }

  /**
   * The kernel gives each name of a hard-linked file a node of its own, so a change through one
   * name leaves the others' link count, mode and times stale: drop them, synchronously, so the
   * reply to this request comes after (the patched binding; attributes only, which is safe while
   * the request is pending).
   */
  function otherNamesChanged(ino: number): void {
    fuse()?.invalidateInode?.(ino);
  }

  const multiplyLinked = (st: fs.BigIntStats) => !st.isDirectory() && st.nlink > 1n;

  /** After a change to the upper file at `path`: its other names, if it has any. */
  function changedInPlace(path: string): void {
    const st = fs.lstatSync(path, { bigint: true });
    if (multiplyLinked(st)) otherNamesChanged(toStat(st, 'upper').ino);
  }

  function caller() {
    return fuse()?.context ?? { uid: 0, gid: 0, pid: 0, umask: 0 };
  }

  /** Runs a mutating operation: errors become -errno, and cached directory states are dropped. */
  function mutate(cb: Callback, fn: () => number | void): void {
    try {
      const result = fn();
      layers.invalidate();
      onChange();
      if (typeof result === 'number' && result < 0) cb(result);
      else cb(0, result);
    } catch (error) {
      layers.invalidate();
      cb(toErrno(error));
    }
  }

  /** A deleted lower file's base is its content now, so accept can tell whether the user edited it since. */
  function recordLowerBase(relative: string, path: string, st: fs.BigIntStats): void {
    if (st.isFile()) journal.recordBase(relative, { kind: 'file', sourcePath: path, mode: Number(st.mode & 0o7777n) });
    else if (st.isSymbolicLink()) journal.recordBase(relative, { kind: 'symlink', target: fs.readlinkSync(path) });
  }

  /** FUSE passes names up to 1024 bytes; a real filesystem refuses more than NAME_MAX (255). */
  function checkNameLength(relative: string): void {
    if (Buffer.byteLength(baseName(relative)) > 255) throw new OverlayError('ENAMETOOLONG', relative);
  }

  function existing(relative: string) {
    checkNameLength(relative);
    const resolved = layers.resolve(relative);
    if (resolved.layer === 'none') throw new OverlayError('ENOENT', relative);
    return resolved;
  }

  function prepareNew(relative: string): { path: string; hadWhiteout: boolean } {
    checkNameLength(relative);
    const parent = existing(parentOf(relative));
    if (!parent.stat.isDirectory()) throw new OverlayError('ENOTDIR', relative);
    layers.ensureUpperDir(parentOf(relative));
    const hadWhiteout = layers.clearWhiteout(relative);
    return { path: layers.upperPath(relative), hadWhiteout };
  }

  function own(path: string): void {
    const { uid, gid } = caller();
    // The setgid bit of a parent directory decides the group, as on a normal filesystem.
    const parent = fs.lstatSync(parentOfReal(path));
    const group = parent.mode & 0o2000 ? parent.gid : gid;
    fs.lchownSync(path, uid, group);
  }

  function openReal(path: string, flags: number): number {
    const clean = flags & ~(fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOCTTY | fs.constants.O_TRUNC);
    return fs.openSync(path, clean | fs.constants.O_NOFOLLOW);
  }

  function addHandle(fd: number, path: string): number {
    const id = nextHandle++;
    if (nextHandle > 0x7fffffff) nextHandle = 1;
    handles.set(id, { fd, path });
    return id;
  }

  return {
    init(cb: Callback) {
      cb(0);
    },
    statfs(_path: string, cb: Callback) {
      try {
        const s = fs.statfsSync(layers.paths.upper);
        cb(0, { bsize: s.bsize, frsize: s.bsize, blocks: s.blocks, bfree: s.bfree, bavail: s.bavail, files: s.files, ffree: s.ffree, favail: s.ffree, fsid: 0, flag: 0, namemax: 255 });
      } catch (error) {
        cb(toErrno(error));
      }
    },
    getattr(path: string, cb: Callback) {
      try {
        const resolved = existing(fuseToRelative(path));
        if (resolved.layer === 'lower' && resolved.stat.isFile()) rememberLower(path, resolved.path);
        cb(0, toStat(resolved.stat, resolved.layer));
      } catch (error) {
        cb(toErrno(error));
      }
    },
    fgetattr(path: string, fd: number, cb: Callback) {
      try {
        const handle = handles.get(fd);
        if (handle) {
          const st = fs.fstatSync(handle.fd, { bigint: true });
          cb(0, toStat(st, handle.path.startsWith(layers.paths.upper) ? 'upper' : 'lower'));
          return;
        }
        const resolved = existing(fuseToRelative(path));
        cb(0, toStat(resolved.stat, resolved.layer));
      } catch (error) {
        cb(toErrno(error));
      }
    },
    access(path: string, _mode: number, cb: Callback) {
      try {
        existing(fuseToRelative(path));
        cb(0);
      } catch (error) {
        cb(toErrno(error));
      }
    },
    readdir(path: string, cb: Callback) {
      try {
        const relative = fuseToRelative(path);
        const dir = existing(relative);
        if (!dir.stat.isDirectory()) throw new OverlayError('ENOTDIR', relative);
        // With each entry's attributes the kernel gets its type and inode in the listing
        // (d_type, d_ino), so `ls`, globbing and Node's withFileTypes need no lookup per entry.
        const names: string[] = [];
        const stats: FuseStat[] = [];
        for (const name of layers.readdir(relative)) {
          const entry = layers.resolve(joinRelative(relative, name));
          if (entry.layer === 'none') continue;
          names.push(name);
          stats.push(toStat(entry.stat, entry.layer));
        }
        cb(0, names, stats);
      } catch (error) {
        cb(toErrno(error));
      }
    },
    open(path: string, flags: number, cb: Callback) {
      const relative = fuseToRelative(path);
      const writing = (flags & 3) !== fs.constants.O_RDONLY || (flags & fs.constants.O_TRUNC) !== 0;
      try {
        let real: string;
        if (writing) {
          real = layers.copyUp(relative);
          layers.invalidate();
          onChange();
        } else real = existing(relative).path;
        const fd = openReal(real, flags);
        if (flags & fs.constants.O_TRUNC) fs.ftruncateSync(fd, 0);
        const id = addHandle(fd, real);
        if (writing) {
          const st = fs.fstatSync(fd, { bigint: true });
          if (multiplyLinked(st)) {
            handles.get(id)!.linkedIno = toStat(st, 'upper').ino;
            if (flags & fs.constants.O_TRUNC) otherNamesChanged(handles.get(id)!.linkedIno!);
          }
        }
        cb(0, id);
      } catch (error) {
        cb(toErrno(error));
      }
    },
    create(path: string, mode: number, cb: Callback) {
      mutate(cb, () => {
        const relative = fuseToRelative(path);
        const { path: upper } = prepareNew(relative);
        const fd = fs.openSync(upper, fs.constants.O_CREAT | fs.constants.O_RDWR | fs.constants.O_NOFOLLOW, mode & 0o7777);
        fs.fchmodSync(fd, mode & 0o7777);
        own(upper);
        return addHandle(fd, upper);
      });
    },
    read(_path: string, fh: number, buffer: Buffer, length: number, position: number, cb: Callback) {
      const handle = handles.get(fh);
      if (!handle) return cb(-errnos.EBADF!);
      try {
        cb(fs.readSync(handle.fd, buffer, 0, length, position));
      } catch (error) {
        cb(toErrno(error));
      }
    },
    write(_path: string, fh: number, buffer: Buffer, length: number, position: number, cb: Callback) {
      const handle = handles.get(fh);
      if (!handle) return cb(-errnos.EBADF!);
      try {
        const written = fs.writeSync(handle.fd, buffer, 0, length, position);
        if (handle.linkedIno !== undefined) otherNamesChanged(handle.linkedIno);
        cb(written);
        handle.wrote = true;
        onChange();
      } catch (error) {
        cb(toErrno(error));
      }
    },
    release(_path: string, fh: number, cb: Callback) {
      const handle = handles.get(fh);
      handles.delete(fh);
      try {
        if (handle?.wrote) {
          const st = fs.fstatSync(handle.fd, { bigint: true });
          if (multiplyLinked(st)) otherNamesChanged(toStat(st, 'upper').ino);
        }
        if (handle) fs.closeSync(handle.fd);
        cb(0);
      } catch (error) {
        cb(toErrno(error));
      }
    },
    // No flush: writes go straight to the layer's file, so there is nothing to flush, and without
    // the operation the kernel stops sending FLUSH (a round trip on every close()) after the first.
    fsync(_path: string, fh: number, datasync: number, cb: Callback) {
      const handle = handles.get(fh);
      if (!handle) return cb(0);
      try {
        if (datasync) fs.fdatasyncSync(handle.fd);
        else fs.fsyncSync(handle.fd);
        cb(0);
      } catch (error) {
        cb(toErrno(error));
      }
    },
    fsyncdir(_path: string, _fh: number, _datasync: number, cb: Callback) {
      cb(0);
    },
    truncate(path: string, size: number, cb: Callback) {
      mutate(cb, () => {
        const upper = layers.copyUp(fuseToRelative(path));
        fs.truncateSync(upper, size);
        changedInPlace(upper);
      });
    },
    ftruncate(path: string, fh: number, size: number, cb: Callback) {
      const handle = handles.get(fh);
      if (!handle || !handle.path.startsWith(layers.paths.upper)) return this.truncate(path, size, cb);
      mutate(cb, () => {
        fs.ftruncateSync(handle.fd, size);
        changedInPlace(handle.path);
      });
    },
    readlink(path: string, cb: Callback) {
      try {
        const resolved = existing(fuseToRelative(path));
        cb(0, fs.readlinkSync(resolved.path));
      } catch (error) {
        cb(toErrno(error));
      }
    },
    chown(path: string, uid: number, gid: number, cb: Callback) {
      mutate(cb, () => {
        const upper = layers.copyUp(fuseToRelative(path));
        fs.lchownSync(upper, uid === 0xffffffff ? -1 : uid, gid === 0xffffffff ? -1 : gid);
        changedInPlace(upper);
      });
    },
    chmod(path: string, mode: number, cb: Callback) {
      mutate(cb, () => {
        const upper = layers.copyUp(fuseToRelative(path));
        fs.chmodSync(upper, mode & 0o7777);
        changedInPlace(upper);
      });
    },
    utimens(path: string, atime: TimeSpec, mtime: TimeSpec, cb: Callback) {
      mutate(cb, () => {
        const upper = layers.copyUp(fuseToRelative(path));
        const result = native.utimensat(upper, atime, mtime);
        if (result < 0) return result;
        changedInPlace(upper);
      });
    },
    unlink(path: string, cb: Callback) {
      mutate(cb, () => {
        const relative = fuseToRelative(path);
        const resolved = existing(relative);
        if (resolved.stat.isDirectory()) throw new OverlayError('EISDIR', relative);
        if (resolved.layer === 'upper') fs.unlinkSync(resolved.path);
        else recordLowerBase(relative, resolved.path, resolved.stat);
        layers.invalidate();
        layers.whiteoutIfLower(relative);
        if (multiplyLinked(resolved.stat)) otherNamesChanged(toStat(resolved.stat, resolved.layer).ino);
      });
    },
    rmdir(path: string, cb: Callback) {
      mutate(cb, () => {
        const relative = fuseToRelative(path);
        const resolved = existing(relative);
        if (!resolved.stat.isDirectory()) throw new OverlayError('ENOTDIR', relative);
        if (!layers.isEmptyDir(relative)) throw new OverlayError('ENOTEMPTY', relative);
        // The upper directory holds only whiteouts and markers now.
        if (resolved.layer === 'upper') fs.rmSync(resolved.path, { recursive: true });
        layers.invalidate();
        layers.whiteoutIfLower(relative);
      });
    },
    mkdir(path: string, mode: number, cb: Callback) {
      mutate(cb, () => {
        const relative = fuseToRelative(path);
        const { path: upper, hadWhiteout } = prepareNew(relative);
        fs.mkdirSync(upper, { mode: mode & 0o7777 });
        fs.chmodSync(upper, mode & 0o7777);
        own(upper);
        if (hadWhiteout || fs.existsSync(layers.lowerPath(relative))) layers.setOpaque(relative);
      });
    },
    symlink(target: string, path: string, cb: Callback) {
      mutate(cb, () => {
        const { path: upper } = prepareNew(fuseToRelative(path));
        fs.symlinkSync(target, upper);
        own(upper);
      });
    },
    link(from: string, to: string, cb: Callback) {
      mutate(cb, () => {
        const source = existing(fuseToRelative(from));
        if (source.stat.isDirectory()) throw new OverlayError('EPERM', from);
        const upperSource = layers.copyUp(fuseToRelative(from));
        const { path: upper } = prepareNew(fuseToRelative(to));
        fs.linkSync(upperSource, upper);
        otherNamesChanged(toStat(source.stat, source.layer).ino);
      });
    },
    rename(from: string, to: string, cb: Callback) {
      mutate(cb, () => {
        const source = fuseToRelative(from);
        const target = fuseToRelative(to);
        const resolved = existing(source);
        const destination = layers.resolve(target);
        const isDir = resolved.stat.isDirectory();
        if (destination.layer !== 'none') {
          const destIsDir = destination.stat.isDirectory();
          if (isDir && !destIsDir) throw new OverlayError('ENOTDIR', target);
          if (!isDir && destIsDir) throw new OverlayError('EISDIR', target);
          if (destIsDir && !layers.isEmptyDir(target)) throw new OverlayError('ENOTEMPTY', target);
        }
        if (isDir) layers.copyUpTree(source);
        else layers.copyUp(source);
        layers.invalidate();
        const parent = existing(parentOf(target));
        if (!parent.stat.isDirectory()) throw new OverlayError('ENOTDIR', target);
        layers.ensureUpperDir(parentOf(target));
        const upperTarget = layers.upperPath(target);
        const targetUpperStat = lstatOrNull(upperTarget);
        if (targetUpperStat?.isDirectory()) fs.rmSync(upperTarget, { recursive: true });
        else layers.clearWhiteout(target);
        fs.renameSync(layers.upperPath(source), upperTarget);
        if (isDir || destination.layer !== 'none' || fs.existsSync(layers.lowerPath(target))) {
          if (isDir) layers.setOpaque(target);
        }
        journal.recordRename(source, target);
        layers.invalidate();
        layers.whiteoutIfLower(source);
        if (destination.layer !== 'none' && multiplyLinked(destination.stat)) otherNamesChanged(toStat(destination.stat, destination.layer).ino);
      });
    },
    mknod(path: string, mode: number, _dev: number, cb: Callback) {
      mutate(cb, () => {
        const type = mode & fs.constants.S_IFMT;
        // Device nodes would reach hardware outside the shadow: only FIFOs, sockets and files.
        if (type !== fs.constants.S_IFIFO && type !== fs.constants.S_IFSOCK && type !== fs.constants.S_IFREG) {
          throw new OverlayError('EPERM', 'device files cannot be created in a shadow');
        }
        const { path: upper } = prepareNew(fuseToRelative(path));
        const result = native.mknod(upper, mode, 0, 0);
        if (result < 0) return result;
        own(upper);
      });
    },
    setxattr(path: string, name: string, value: Buffer, _position: number, flags: number, cb: Callback) {
      if (OVERLAY_XATTR.test(name)) return cb(-errnos.EPERM!);
      mutate(cb, () => {
        const upper = layers.copyUp(fuseToRelative(path));
        const result = native.lsetxattr(upper, name, Buffer.from(value), flags);
        if (result < 0) return result;
        changedInPlace(upper);
      });
    },
    getxattr(path: string, name: string, _position: number, cb: Callback) {
      if (OVERLAY_XATTR.test(name)) return cb(0, null);
      try {
        const resolved = existing(fuseToRelative(path));
        const buffer = Buffer.alloc(65536);
        const size = native.lgetxattr(resolved.path, name, buffer);
        if (size === -errnos.ENODATA!) return cb(0, null);
        if (size < 0) return cb(size);
        cb(0, buffer.subarray(0, size));
      } catch (error) {
        cb(toErrno(error));
      }
    },
    listxattr(path: string, cb: Callback) {
      try {
        const resolved = existing(fuseToRelative(path));
        const buffer = Buffer.alloc(65536);
        const size = native.llistxattr(resolved.path, buffer);
        if (size < 0) return cb(size);
        const names = buffer.subarray(0, size).toString().split('\0').filter((n) => n && !OVERLAY_XATTR.test(n));
        cb(0, names);
      } catch (error) {
        cb(toErrno(error));
      }
    },
    removexattr(path: string, name: string, cb: Callback) {
      if (OVERLAY_XATTR.test(name)) return cb(-errnos.EPERM!);
      mutate(cb, () => {
        const upper = layers.copyUp(fuseToRelative(path));
        const result = native.lremovexattr(upper, name);
        if (result < 0) return result;
        changedInPlace(upper);
      });
    },
  };
}

function parentOfReal(path: string): string {
  const index = path.lastIndexOf('/');
  return index <= 0 ? '/' : path.slice(0, index);
}

function lstatOrNull(path: string): fs.Stats | null {
  try {
    return fs.lstatSync(path);
  } catch {
    return null;
  }
}
