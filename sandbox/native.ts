// The patched fuse-native binding (patches/apply-fuse-native.mjs): the FUSE class plus the
// real-path system calls Node's fs lacks (mknod, xattrs, nanosecond utimensat). Loaded lazily so
// that copy mode works where fuse-native is missing or unpatched.
import { createRequire } from 'node:module';

export interface TimeSpec {
  sec: number;
  nsec: number;
}

export interface FuseNative {
  new (mountPath: string, ops: Record<string, unknown>, options: Record<string, unknown>): FuseInstance;
  CARET_PATCH?: number;
  UTIME_NOW: number;
  UTIME_OMIT: number;
  utimensat(target: string, atime: TimeSpec, mtime: TimeSpec): number;
  mknod(target: string, mode: number, major: number, minor: number): number;
  lgetxattr(target: string, name: string, buffer: Buffer): number;
  lsetxattr(target: string, name: string, value: Buffer, flags: number): number;
  llistxattr(target: string, buffer: Buffer): number;
  lremovexattr(target: string, name: string): number;
  unmount(mountPath: string, callback: (error?: Error | null) => void): void;
  [errno: string]: unknown;
}

export interface FuseInstance {
  context: { uid: number; gid: number; pid: number; umask: number };
  mount(callback: (error?: Error | null) => void): void;
  unmount(callback: (error?: Error | null) => void): void;
  /** Kernel cache control (the patch's tracking channel; see kernel-cache.ts). */
  setLongCache?(seconds: number): number;
  invalidate?(path: string | null): number;
  cacheStats?(): { nodes: number; sent: number; broken: boolean; longSeconds: number };
  /** Read-only opens of view path `path` may open lower file `real` without the JavaScript (fuse-ops.ts). */
  rememberLower?(path: string, real: string): number;
  forgetLower?(): number;
  /** Drops the kernel's attributes for every name of inode `ino`, synchronously (hard links). */
  invalidateInode?(ino: number): number;
}

export type NativeStatus = { ok: true; fuse: FuseNative } | { ok: false; reason: string; fix: string };

let cached: NativeStatus | undefined;

export function loadFuseNative(): NativeStatus {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  try {
    const fuse = require('fuse-native') as FuseNative;
    if (!fuse.CARET_PATCH || typeof fuse.utimensat !== 'function') {
      cached = {
        ok: false,
        reason: 'fuse-native is installed but not patched (its upstream build truncates timestamps and mis-sets mtime)',
        fix: 'run `node patches/apply-fuse-native.mjs` in the caret package directory',
      };
    } else cached = { ok: true, fuse };
  } catch (error) {
    cached = {
      ok: false,
      reason: `fuse-native cannot be loaded: ${(error as Error).message.split('\n')[0]}`,
      fix: 'install fuse-native (npm install) and run `node patches/apply-fuse-native.mjs`',
    };
  }
  return cached;
}
