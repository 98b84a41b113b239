// The kernel's caches of a FUSE shadow: which changes must drop what, and when the kernel may keep
// entries and attributes long. Runs in the FUSE server process.
//
// The mount's own timeouts (`cacheSeconds`, 1 s) bound how stale the kernel's view can be when
// nobody tells it anything. The patched binding can do better: it knows which kernel node stands
// for which path and can invalidate exactly one path's entry and inode (see the fuse-native patch,
// cc_state). So every change the server hears of (the watchers of the user's tree and of the upper
// layer, which together see every change to either layer: writes through this mount, commands on
// exec's kernel overlay, the user's edits) invalidates that path, and while both watchers are
// complete the kernel may keep everything for `longSeconds`. Whenever a watcher is not complete
// (still walking, given up, or a file system mounted inside the tree it cannot see into), long
// validities are off and everything cached so far is dropped.
import { WHITEOUT_PREFIX, OPAQUE_MARKER } from './layers.js';

/** What the patched binding offers (FuseInstance); absent on an older build. */
export interface KernelCacheTarget {
  setLongCache?(seconds: number): number;
  invalidate?(path: string | null): number;
}

/**
 * The view path a change at `absolute` inside `root` concerns ('' for the root itself), or null
 * when it is not inside `root`. In the upper layer a whiteout `.wh.NAME` stands for NAME and an
 * opaque marker for its directory.
 */
export function viewPathOf(root: string, absolute: string, upper = false): string | null {
  let relative: string;
  if (absolute === root) relative = '';
  else if (absolute.startsWith(`${root}/`)) relative = absolute.slice(root.length + 1);
  else return null;
  if (!upper || relative === '') return relative;
  const slash = relative.lastIndexOf('/');
  const dir = slash < 0 ? '' : relative.slice(0, slash);
  const name = relative.slice(slash + 1);
  if (name === OPAQUE_MARKER) return dir;
  if (name.startsWith(WHITEOUT_PREFIX) && name.length > WHITEOUT_PREFIX.length) {
    const hidden = name.slice(WHITEOUT_PREFIX.length);
    return dir ? `${dir}/${hidden}` : hidden;
  }
  return relative;
}

export class KernelCache {
  private trusted = false;
  /** Paths already invalidated during this turn of the event loop (a save is several events). */
  private readonly recent = new Set<string>();
  private clearing = false;

  constructor(
    private readonly target: KernelCacheTarget,
    private readonly longSeconds: number,
  ) {}

  /** Whether the binding can invalidate at all (else the mount's short timeouts are all there is). */
  get supported(): boolean {
    return typeof this.target.invalidate === 'function' && typeof this.target.setLongCache === 'function';
  }

  /** Long validities are in force (every change is being seen and invalidated). */
  get long(): boolean {
    return this.trusted;
  }

  /** Something changed at view path `path`; null: somewhere, unknown where. */
  changed(path: string | null): void {
    if (!this.supported) return;
    if (path === null) {
      this.target.invalidate!(null);
      return;
    }
    if (this.recent.has(path)) return;
    this.recent.add(path);
    if (!this.clearing) {
      this.clearing = true;
      setImmediate(() => {
        this.clearing = false;
        this.recent.clear();
      });
    }
    this.target.invalidate!(path);
  }

  /**
   * Whether every change is being seen: turns long validities on, or off (dropping everything
   * the kernel may have kept long, since changes may have gone unseen).
   */
  setTrusted(trusted: boolean): void {
    if (!this.supported || this.longSeconds <= 0 || trusted === this.trusted) return;
    if (trusted) {
      this.trusted = this.target.setLongCache!(this.longSeconds) === 0;
    } else {
      this.trusted = false;
      this.target.setLongCache!(0);
      this.target.invalidate!(null);
    }
  }
}
