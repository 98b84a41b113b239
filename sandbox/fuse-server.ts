// The FUSE server: a process of its own per shadow, so that no kernel request ever waits on the
// daemon's event loop (and keystroke-driven requests never wait on a kernel request). Started by
// FuseMount with an IPC channel; mounts, says `ready`, and unmounts when told to or when the
// daemon goes away (auto_unmount covers SIGKILL).
import * as fs from 'node:fs';
import { Journal } from './journal.js';
import { OverlayLayers } from './layers.js';
import { createFuseOps } from './fuse-ops.js';
import { loadFuseNative, type FuseInstance } from './native.js';
import { TreeWatcher } from './tree-watch.js';
import { KernelCache, viewPathOf } from './kernel-cache.js';

/**
 * How long the kernel may keep entries and attributes while every change is seen and invalidated
 * (kernel-cache.ts). Not forever: it bounds the damage should an inotify event ever be lost
 * (inotify drops events when its queue overflows, and Node does not say so).
 */
export const LONG_CACHE_SECONDS = 60;

export interface MountRequest {
  type: 'mount';
  lower: string;
  upper: string;
  metaDir: string;
  mountPath: string;
  /** Seconds the kernel may cache attributes, entries and missing names (bounds how late lower changes show). */
  cacheSeconds: number;
  /** Seconds while changes are invalidated (default LONG_CACHE_SECONDS; 0: only `cacheSeconds`). */
  longCacheSeconds?: number;
  /**
   * Kernel passthrough reads of lower files of at least this many bytes (see passthroughMinBytes);
   * null: off; undefined: CARET_SHADOW_PASSTHROUGH, else the default.
   */
  passthroughMinBytes?: number | null;
  /**
   * Directory opens without an OPENDIR round trip while long validities are trusted (see
   * noOpendir); undefined: CARET_SHADOW_NO_OPENDIR, else on.
   */
  noOpendir?: boolean;
}

/**
 * Below this size a file read through the mount is served from the FUSE inode's own page cache
 * (kept between opens): as fast for small files, and without passthrough's costs (a backing file
 * registered per open node, and an attribute refresh after reads).
 */
export const DEFAULT_PASSTHROUGH_MIN_BYTES = 1 << 20;

/**
 * The passthrough threshold from CARET_SHADOW_PASSTHROUGH: `off` (or 0/false/no) turns it off, a
 * byte count sets the threshold, `on` or unset is the default. Anything else is an error, so a
 * typo does not silently change what is measured.
 */
export function passthroughMinBytes(value: string | undefined): number | null {
  const text = (value ?? '').trim().toLowerCase();
  if (text === '' || text === 'on' || text === '1' || text === 'true' || text === 'yes') return DEFAULT_PASSTHROUGH_MIN_BYTES;
  if (text === 'off' || text === '0' || text === 'false' || text === 'no') return null;
  if (/^\d+$/.test(text)) return Number(text);
  throw new Error(`CARET_SHADOW_PASSTHROUGH must be on, off or a size in bytes, not ${JSON.stringify(value)}`);
}

/**
 * CARET_SHADOW_NO_OPENDIR: `off` (or 0/false/no) keeps the OPENDIR and RELEASEDIR round trip of
 * every directory open; `on` or unset lets the kernel open directories by itself once the server
 * trusts its invalidations (patches/fuse-native+2.2.6.patch, cc_dir_request). Anything else is an
 * error.
 */
export function noOpendir(value: string | undefined): boolean {
  const text = (value ?? '').trim().toLowerCase();
  if (text === '' || text === 'on' || text === '1' || text === 'true' || text === 'yes') return true;
  if (text === 'off' || text === '0' || text === 'false' || text === 'no') return false;
  throw new Error(`CARET_SHADOW_NO_OPENDIR must be on or off, not ${JSON.stringify(value)}`);
}

// statfs(2) types of stacking file systems: a backing file on one needs max_stack_depth 2.
const STACKED_FS_TYPES = new Set([0x794c7630 /* overlayfs */, 0xf15f /* ecryptfs */]);

/** max_stack_depth for backing files in `dir` (the kernel refuses deeper ones: ELOOP). */
export function backingStackDepth(dir: string): number {
  try {
    return STACKED_FS_TYPES.has(fs.statfsSync(dir).type) ? 2 : 1;
  } catch {
    return 1;
  }
}

export type ServerMessage =
  | { type: 'ready'; whiteoutStyle: string; pid: number }
  | { type: 'error'; message: string }
  | { type: 'changed' }
  | { type: 'generation'; request: number; value: number | null; upper: number | null }
  | { type: 'cache'; request: number; long: boolean; watched: boolean; nodes: number; sent: number; noOpendir: boolean; dirWraps: number; passthrough: PassthroughState | null };

/**
 * Passthrough in the binding: asked for in INIT (`negotiated`), still given (`on`: off for good
 * once the kernel refused a backing file, `errno` says why), opens given so far, opens moved to a
 * node of their own (`splits`), passthrough opens and backing files now.
 */
export interface PassthroughState {
  negotiated: boolean;
  on: boolean;
  opens: number;
  splits: number;
  refused: number;
  errno: number;
  live: number;
  backings: number;
}

/**
 * `generation` asks for a number (`value`) that grows whenever the view may have changed behind a
 * kernel overlay of the same layers: a write through this mount, or any change the lower-layer
 * watcher saw; and for one (`upper`) that grows on any change in the upper layer, whoever made it
 * (this mount or a command on the kernel overlay). null: unknown (that tree is not fully watched),
 * so treat every ask as a change.
 */
export type ClientMessage =
  | MountRequest
  | { type: 'invalidate' }
  | { type: 'unmount' }
  | { type: 'generation'; request: number }
  | { type: 'cache'; request: number };

function send(message: ServerMessage): void {
  process.send?.(message);
}

let instance: FuseInstance | undefined;
let layers: OverlayLayers | undefined;
let stopping = false;
let generation = 0;
let lowerWatcher: TreeWatcher | undefined;
let upperGeneration = 0;
let upperWatcher: TreeWatcher | undefined;
let kernelCache: KernelCache | undefined;

function stop(code: number): void {
  if (stopping) return;
  stopping = true;
  if (!instance) process.exit(code);
  instance.unmount(() => process.exit(code));
  setTimeout(() => process.exit(code), 3000).unref();
}

function mount(request: MountRequest): void {
  const status = loadFuseNative();
  if (!status.ok) {
    send({ type: 'error', message: `${status.reason}; ${status.fix}` });
    process.exit(2);
  }
  const Fuse = status.fuse;
  fs.mkdirSync(request.mountPath, { recursive: true });
  const journal = new Journal(request.metaDir);
  layers = new OverlayLayers({ lower: request.lower, upper: request.upper }, Fuse, journal);
  // Whatever changes the upper layer may change which file a path means: the binding's direct
  // read-only opens (fuse-ops.ts, rememberLower) are forgotten with the layers' own caches.
  layers.onInvalidate = () => instance?.forgetLower?.();
  let changeNotified = false;
  const ops = createFuseOps(layers, journal, Fuse, () => instance, () => {
    // Synchronously, before the kernel gets the reply, so a command started after the write sees it.
    generation++;
    // One `changed` per quiet period is enough for the daemon's bookkeeping (idle time, disk use).
    if (changeNotified) return;
    changeNotified = true;
    setTimeout(() => {
      changeNotified = false;
      send({ type: 'changed' });
    }, 500).unref();
  });
  const seconds = request.cacheSeconds;
  let minBytes: number | null;
  let dirOpensInKernel: boolean;
  try {
    minBytes = request.passthroughMinBytes !== undefined ? request.passthroughMinBytes : passthroughMinBytes(process.env.CARET_SHADOW_PASSTHROUGH);
    dirOpensInKernel = request.noOpendir ?? noOpendir(process.env.CARET_SHADOW_NO_OPENDIR);
  } catch (error) {
    send({ type: 'error', message: (error as Error).message });
    process.exit(2);
  }
  // Process-wide in the binding (this process serves one mount); read when the kernel's INIT comes.
  const setPassthrough = (Fuse as unknown as { setPassthrough?: (min: number, depth: number) => number }).setPassthrough;
  setPassthrough?.(minBytes ?? -1, backingStackDepth(request.lower));
  (Fuse as unknown as { setNoOpendir?: (on: boolean) => number }).setNoOpendir?.(dirOpensInKernel);
  instance = new Fuse(request.mountPath, ops as unknown as Record<string, unknown>, {
    allowOther: true,
    defaultPermissions: true,
    autoUnmount: true,
    useIno: true,
    readdirIno: true,
    bigWrites: true,
    maxWrite: 131072,
    maxRead: 131072,
    autoCache: true,
    // auto_cache keeps a file's pages on open while the library's own record of its size and mtime
    // is unchanged, and by default re-reads the attributes (a round trip into the server) on an
    // open more than attr_timeout after the last look. The record is refreshed by every lookup and
    // getattr, which come at least every `cacheSeconds` without invalidation, and changes are
    // invalidated with it: the extra look on open adds nothing, so it is made rare.
    acAttrTimeout: request.longCacheSeconds ?? LONG_CACHE_SECONDS,
    entryTimeout: seconds,
    attrTimeout: seconds,
    negativeTimeout: seconds,
    force: true,
    name: 'caret-shadow',
    extraOptions: ['nodev', 'nosuid', 'subtype=caret'],
    timeout: 120_000,
  });
  instance.mount((error) => {
    if (error) {
      send({ type: 'error', message: `mount failed: ${error.message}` });
      process.exit(3);
    }
    // Started once mounted, so that a lower tree holding this very mount (a workspace that contains
    // caret's state directory) lists it among the mount points not to enter.
    const cache = new KernelCache(instance!, request.longCacheSeconds ?? LONG_CACHE_SECONDS);
    kernelCache = cache;
    const heard = (root: string, upper: boolean, watcher: () => TreeWatcher | undefined) => (path?: string) => {
      const view = path === undefined ? null : viewPathOf(root, path, upper);
      cache.changed(view);
      // A watcher that gave up sees nothing from now on: nothing may be cached long.
      if (view === null && watcher() && !watcher()!.complete) cache.setTrusted(false);
    };
    lowerWatcher = new TreeWatcher(request.lower, (path) => {
      generation++;
      heard(request.lower, false, () => lowerWatcher)(path);
    }, { exclude: [request.mountPath] });
    upperWatcher = new TreeWatcher(request.upper, (path) => {
      upperGeneration++;
      layers!.invalidate(); // a command on exec's overlay changed the upper layer behind this server
      heard(request.upper, true, () => upperWatcher)(path);
    }, { exclude: [request.mountPath] });
    const lower = lowerWatcher;
    const upper = upperWatcher;
    // Long validities only once both trees are fully watched, and never with a file system mounted
    // inside either (its changes would go unseen).
    void Promise.all([lower.ready, upper.ready]).then(() => {
      if (stopping) return;
      cache.setTrusted(lower.complete && upper.complete && lower.mountsInside.length === 0 && upper.mountsInside.length === 0);
    });
    send({ type: 'ready', whiteoutStyle: layers!.whiteoutStyle, pid: process.pid });
  });
}

process.on('message', (message: ClientMessage) => {
  if (message.type === 'mount') mount(message);
  else if (message.type === 'invalidate') layers?.invalidate();
  else if (message.type === 'generation') {
    // Answered after this loop turn's other ready events: a change in the lower tree made before the
    // question was asked has its inotify event queued already, and is counted first.
    setImmediate(() =>
      send({
        type: 'generation',
        request: message.request,
        value: lowerWatcher?.complete ? generation : null,
        upper: upperWatcher?.complete ? upperGeneration : null,
      }),
    );
  }
  else if (message.type === 'cache') {
    // noOpendir and dirWraps: from a binding that opens directories without a round trip.
    const stats = (instance?.cacheStats?.() ?? { nodes: 0, sent: 0 }) as { nodes: number; sent: number; noOpendir?: boolean; dirWraps?: number };
    const watched = !!lowerWatcher?.complete && !!upperWatcher?.complete;
    const passthrough = (instance as unknown as { passthroughStats?: () => PassthroughState } | undefined)?.passthroughStats?.() ?? null;
    send({ type: 'cache', request: message.request, long: kernelCache?.long ?? false, watched, nodes: stats.nodes, sent: stats.sent, noOpendir: stats.noOpendir ?? false, dirWraps: stats.dirWraps ?? 0, passthrough });
  }
  else if (message.type === 'unmount') stop(0);
});
process.on('disconnect', () => stop(0));
process.on('SIGTERM', () => stop(0));
process.on('SIGINT', () => stop(0));
