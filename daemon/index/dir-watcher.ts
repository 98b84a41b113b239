// Watches a workspace through one inotify watch per directory: a watched directory reports its
// children being created, deleted, renamed and written. chokidar also opens a watch per file,
// which on a 30,000-file tree cost over 500 MB of memory (measured); per directory it is one
// handle per folder. Ignored directories are never watched.
import { type FSWatcher, lstatSync, readdirSync, watch } from 'node:fs';
import { join } from 'node:path';

export interface DirWatcherOptions {
  root: string;
  /** Workspace-relative path, '/'-separated. */
  isIgnored(rel: string, isDirectory: boolean): boolean;
  /** Something changed at `rel`: a file written, created or deleted, or a directory deleted. */
  onPath(rel: string): void;
  /** The watcher cannot watch any more (inotify limits, the root went away, ...). */
  onError(error: Error): void;
}

const child = (dir: string, name: string) => (dir ? `${dir}/${name}` : name);

export class DirWatcher {
  private readonly watchers = new Map<string, FSWatcher>();
  private closed = false;

  constructor(private readonly options: DirWatcherOptions) {
    this.watchDirectory('');
  }

  /** Directories watched. */
  get size(): number {
    return this.watchers.size;
  }

  /**
   * Watches `rel` and the directories below it; with `found`, collects the files it lists (a new
   * directory's files, created before its watch could see them). The watch starts before the
   * listing, so nothing created in between is missed.
   */
  private watchDirectory(rel: string, found?: string[]): void {
    if (this.closed || this.watchers.has(rel)) return;
    const abs = rel ? join(this.options.root, rel) : this.options.root;
    let watcher: FSWatcher;
    try {
      watcher = watch(abs, { persistent: false }, (_event, name) => this.onEvent(rel, name === null ? null : String(name)));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return; // gone already: its parent reports it
      this.fail(error as Error);
      return;
    }
    watcher.on('error', (error) => {
      // A directory deleted under its watch ends the watch; anything else is a real failure.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'EPERM') this.unwatch(rel);
      else this.fail(error);
    });
    this.watchers.set(rel, watcher);
    let entries;
    try {
      entries = readdirSync(abs, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const path = child(rel, entry.name);
      if (entry.isDirectory()) {
        if (!this.options.isIgnored(path, true)) this.watchDirectory(path, found);
      } else if (found && !this.options.isIgnored(path, false)) found.push(path);
    }
  }

  private onEvent(dir: string, name: string | null): void {
    if (this.closed) return;
    if (name === null) {
      // The kernel did not say which child: let the directory itself be resynced.
      this.options.onPath(dir);
      return;
    }
    const rel = child(dir, name);
    let stat;
    try {
      stat = lstatSync(join(this.options.root, rel));
    } catch {
      stat = undefined;
    }
    if (!stat) {
      // Deleted (or renamed away): a directory takes its watches and its files with it.
      if (this.watchers.has(rel)) this.unwatch(rel);
      this.options.onPath(rel);
      return;
    }
    if (stat.isDirectory()) {
      if (this.watchers.has(rel) || this.options.isIgnored(rel, true)) return;
      const found: string[] = [];
      this.watchDirectory(rel, found);
      found.forEach((path) => this.options.onPath(path));
      return;
    }
    if (!this.options.isIgnored(rel, false)) this.options.onPath(rel);
  }

  private unwatch(rel: string): void {
    for (const [path, watcher] of this.watchers) {
      if (path === rel || path.startsWith(`${rel}/`) || rel === '') {
        watcher.close();
        this.watchers.delete(path);
      }
    }
  }

  /** Reports `error` and stops watching (also used to inject a failure in tests). */
  fail(error: Error): void {
    if (this.closed) return;
    this.close();
    this.options.onError(error);
  }

  close(): void {
    this.closed = true;
    for (const watcher of this.watchers.values()) watcher.close();
    this.watchers.clear();
  }
}
