// Watches a directory tree (a shadow's lower layer, the user's workspace) and says when anything in
// it changed. Exec keeps one kernel overlay per shadow mounted between commands; overlayfs does not
// notice names created, removed or renamed in its lower layer behind its back, so the overlay is
// remounted when this watcher saw a change. One inotify watch per directory (fs.watch), symlinks
// not followed and other file systems mounted inside the tree not entered (the kernel overlay shows
// neither; and entering a FUSE mount, above all the shadow's own, from its own server would
// deadlock). A tree with more directories than
// `maxDirectories`, or a watch the system refuses (inotify limits), makes the watcher give up:
// `complete` stays false and the caller must treat the tree as changed every time. Each change is
// reported with the path it concerns (the entry created, removed, renamed or changed; a directory
// that appeared is reported again once it is watched), or with none when it is not known where.
import * as fs from 'node:fs';
import { join } from 'node:path';

export interface TreeWatcherOptions {
  maxDirectories?: number;
  /** Directories never to enter (besides every mount point below the root). */
  exclude?: string[];
}

/** Mount points listed in /proc/self/mountinfo (octal escapes decoded); empty where there is none. */
export function mountPoints(mountinfo = '/proc/self/mountinfo'): string[] {
  let text: string;
  try {
    text = fs.readFileSync(mountinfo, 'utf8');
  } catch {
    return [];
  }
  const points: string[] = [];
  for (const line of text.split('\n')) {
    const field = line.split(' ')[4];
    if (field) points.push(field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8))));
  }
  return points;
}

export class TreeWatcher {
  private readonly watchers = new Map<string, fs.FSWatcher>();
  private readonly maxDirectories: number;
  private readonly excluded: Set<string>;
  /** File systems mounted inside the tree (not entered, so changes in them go unseen). */
  readonly mountsInside: string[];
  private walking = 0;
  private failed = false;
  private closed = false;
  /** Resolves when the first walk finished (or the watcher gave up). */
  readonly ready: Promise<void>;

  constructor(
    root: string,
    private readonly onChange: (path?: string) => void,
    options: TreeWatcherOptions = {},
  ) {
    this.maxDirectories = options.maxDirectories ?? 50_000;
    const explicit = new Set(options.exclude ?? []);
    this.mountsInside = mountPoints().filter((point) => point.startsWith(`${root}/`) && !explicit.has(point));
    this.excluded = new Set([...explicit, ...this.mountsInside]);
    this.ready = this.watchTree(root);
  }

  /** True while every directory of the tree is watched: only then is "no change seen" meaningful. */
  get complete(): boolean {
    return !this.failed && !this.closed && this.walking === 0;
  }

  get directories(): number {
    return this.watchers.size;
  }

  close(): void {
    this.closed = true;
    for (const watcher of this.watchers.values()) watcher.close();
    this.watchers.clear();
  }

  private giveUp(): void {
    this.failed = true;
    this.onChange();
    for (const watcher of this.watchers.values()) watcher.close();
    this.watchers.clear();
  }

  /** Watches `dir` and every directory below it (breadth first, without following symlinks). */
  private async watchTree(dir: string): Promise<void> {
    this.walking++;
    try {
      const queue = [dir];
      while (queue.length > 0 && !this.failed && !this.closed) {
        const current = queue.shift()!;
        if (this.watchers.has(current) || this.excluded.has(current)) continue;
        if (!this.watch(current)) continue;
        let entries: fs.Dirent[];
        try {
          entries = await fs.promises.readdir(current, { withFileTypes: true });
        } catch {
          continue; // removed meanwhile: its parent's watch reported that
        }
        for (const entry of entries) if (entry.isDirectory()) queue.push(join(current, entry.name));
      }
    } finally {
      this.walking--;
    }
  }

  /** Adds one directory's watch; false when it is gone or the watcher gave up. */
  private watch(dir: string): boolean {
    if (this.failed || this.closed) return false;
    if (this.watchers.size >= this.maxDirectories) {
      this.giveUp();
      return false;
    }
    let watcher: fs.FSWatcher;
    try {
      watcher = fs.watch(dir, { persistent: false }, (event, name) => this.changed(dir, event, name));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return false;
      this.giveUp(); // ENOSPC (inotify watch limit), EMFILE, ...
      return false;
    }
    watcher.on('error', () => {
      // The directory went away (its parent saw that) or the watch broke: stop trusting it.
      watcher.close();
      if (this.watchers.get(dir) === watcher) this.watchers.delete(dir);
      if (fs.existsSync(dir) && !this.closed) this.giveUp();
    });
    this.watchers.set(dir, watcher);
    return true;
  }

  private changed(dir: string, event: string, name: string | Buffer | null): void {
    if (this.closed) return;
    const child = name === null ? null : join(dir, name.toString());
    this.onChange(child ?? undefined);
    // A name appeared or moved: if it is a new directory, watch it (and what is in it) too.
    if (event === 'rename' && child !== null) {
      let isDir = false;
      try {
        isDir = fs.lstatSync(child).isDirectory();
      } catch {}
      if (isDir && !this.watchers.has(child) && !this.excluded.has(child)) void this.watchTree(child).then(() => this.onChange(child));
      else if (!isDir) {
        // A removed directory's watch: drop it (and those below).
        for (const [path, watcher] of this.watchers) {
          if (path === child || path.startsWith(`${child}/`)) {
            watcher.close();
            this.watchers.delete(path);
          }
        }
      }
    }
  }
}
