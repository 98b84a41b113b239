// The live configuration: the user's file, each workspace root's file (restricted by trust), and
// per-connection overlays from the editor's settings. Files are polled for changes (they may not
// exist yet, and polling two or three stat calls a second costs nothing); a file that turns bad
// keeps its last good contents in force and its problems are reported.
import { EventEmitter } from 'node:events';
import { unwatchFile, watchFile } from 'node:fs';
import { join } from 'node:path';
import type { Config, ConfigInput } from './schema.js';
import { type ConfigProblem, mergeConfig, readConfigFile, restrictWorkspaceConfig, withDefaults } from './load.js';
import { isTrusted, readTrustedRoots } from '../trust.js';

interface FileState {
  config: ConfigInput;
  problems: ConfigProblem[];
}

export interface ConfigServiceOptions {
  userFile: string;
  trustFile: string;
  /** Poll interval for config files, ms. */
  pollMs?: number;
}

export const workspaceConfigFile = (root: string) => join(root, '.caret', 'config.toml');

export class ConfigService extends EventEmitter<{ change: [problems: ConfigProblem[]] }> {
  private user: FileState = { config: {}, problems: [] };
  private readonly roots = new Map<string, { refs: number; state: FileState }>();
  private trusted: string[] = [];
  private readonly watched = new Set<string>();
  private readonly pollMs: number;

  constructor(private readonly options: ConfigServiceOptions) {
    super();
    this.pollMs = options.pollMs ?? 1000;
    this.reload();
  }

  /** Starts watching the user's file and the trust list. */
  watch(): void {
    this.watchFile(this.options.userFile);
    this.watchFile(this.options.trustFile);
    for (const root of this.roots.keys()) this.watchFile(workspaceConfigFile(root));
  }

  /** Re-reads every file. Returns all current problems. */
  reload(): ConfigProblem[] {
    this.trusted = readTrustedRoots(this.options.trustFile);
    this.user = this.readKeepingLastGood(this.options.userFile, this.user);
    for (const [root, entry] of this.roots) entry.state = this.readWorkspace(root, entry.state);
    return this.problems();
  }

  addRoot(root: string): void {
    const entry = this.roots.get(root);
    if (entry) {
      entry.refs++;
      return;
    }
    this.roots.set(root, { refs: 1, state: this.readWorkspace(root, { config: {}, problems: [] }) });
    if (this.watched.size > 0) this.watchFile(workspaceConfigFile(root));
  }

  removeRoot(root: string): void {
    const entry = this.roots.get(root);
    if (!entry || --entry.refs > 0) return;
    this.roots.delete(root);
    this.unwatch(workspaceConfigFile(root));
  }

  /** Effective configuration for a workspace root (or the user's alone), plus an overlay. */
  get(root?: string, overlay: ConfigInput = {}): Config {
    const workspace = root ? this.roots.get(root)?.state.config ?? {} : {};
    return withDefaults(mergeConfig(this.user.config, workspace, overlay));
  }

  isTrusted(root: string): boolean {
    return isTrusted(root, this.trusted);
  }

  problems(): ConfigProblem[] {
    return [...this.user.problems, ...[...this.roots.values()].flatMap((entry) => entry.state.problems)];
  }

  dispose(): void {
    for (const file of [...this.watched]) this.unwatch(file);
    this.removeAllListeners();
  }

  private readWorkspace(root: string, previous: FileState): FileState {
    const file = workspaceConfigFile(root);
    const read = this.readKeepingLastGood(file, previous);
    const restricted = restrictWorkspaceConfig(read.config, file, this.isTrusted(root));
    return { config: restricted.config, problems: [...read.problems, ...restricted.problems] };
  }

  private readKeepingLastGood(file: string, previous: FileState): FileState {
    const loaded = readConfigFile(file);
    const unreadable = loaded.problems.some((problem) => problem.key === '');
    return unreadable ? { config: previous.config, problems: loaded.problems } : loaded;
  }

  private watchFile(file: string): void {
    if (this.watched.has(file)) return;
    this.watched.add(file);
    watchFile(file, { interval: this.pollMs, persistent: false }, (current, previous) => {
      if (current.mtimeMs === previous.mtimeMs && current.size === previous.size && current.ino === previous.ino) return;
      this.emit('change', this.reload());
    });
  }

  private unwatch(file: string): void {
    if (!this.watched.delete(file)) return;
    unwatchFile(file);
  }
}
