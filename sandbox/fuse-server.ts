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

export interface MountRequest {
  type: 'mount';
  lower: string;
  upper: string;
  metaDir: string;
  mountPath: string;
  /** Seconds the kernel may cache attributes, entries and missing names (bounds how late lower changes show). */
  cacheSeconds: number;
}

export type ServerMessage =
  | { type: 'ready'; whiteoutStyle: string; pid: number }
  | { type: 'error'; message: string }
  | { type: 'changed' }
  | { type: 'generation'; request: number; value: number | null; upper: number | null };

/**
 * `generation` asks for a number (`value`) that grows whenever the view may have changed behind a
 * kernel overlay of the same layers: a write through this mount, or any change the lower-layer
 * watcher saw; and for one (`upper`) that grows on any change in the upper layer, whoever made it
 * (this mount or a command on the kernel overlay). null: unknown (that tree is not fully watched),
 * so treat every ask as a change.
 */
export type ClientMessage = MountRequest | { type: 'invalidate' } | { type: 'unmount' } | { type: 'generation'; request: number };

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
    lowerWatcher = new TreeWatcher(request.lower, () => generation++, { exclude: [request.mountPath] });
    upperWatcher = new TreeWatcher(request.upper, () => upperGeneration++, { exclude: [request.mountPath] });
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
  else if (message.type === 'unmount') stop(0);
});
process.on('disconnect', () => stop(0));
process.on('SIGTERM', () => stop(0));
process.on('SIGINT', () => stop(0));
