// Walks a workspace root and lists the files the index should hold, with their stat (the stat
// cache's key), counting everything it leaves out and why. Synchronous on purpose: it runs in the
// indexer's worker thread, where blocking calls are the fastest way to stat 30,000 files.
import { lstatSync, readdirSync, realpathSync, statSync, type Dirent } from 'node:fs';
import { join, sep } from 'node:path';
import { IgnoreRules } from './ignore-rules.js';

export type SkipReason =
  | 'ignored'
  | 'too-large'
  | 'binary'
  | 'unreadable'
  | 'symlink-outside-root'
  | 'symlink-loop'
  | 'symlink-in-root'
  | 'special-file';

export const SKIP_REASON_DOCS: Record<SkipReason, string> = {
  ignored: 'matched .gitignore, .git/info/exclude or .caretignore (a directory counts once)',
  'too-large': 'larger than index.maxFileBytes',
  binary: 'contains NUL bytes (a binary file)',
  unreadable: 'could not be read (permissions, or an I/O error)',
  'symlink-outside-root': 'a symbolic link to somewhere outside the workspace (never followed)',
  'symlink-loop': 'a symbolic link that loops or dangles',
  'symlink-in-root': 'a symbolic link to a path inside the workspace, which is indexed under its own name',
  'special-file': 'a socket, FIFO or device',
};

export interface FileStat {
  size: number;
  mtimeMs: number;
  ino: number;
}

export interface ScanResult {
  /** Relative POSIX path -> stat. */
  files: Map<string, FileStat>;
  skipped: Map<SkipReason, number>;
  /** A few example paths per reason, for `caret/index/status`. */
  examples: Map<SkipReason, string[]>;
}

export interface ScanOptions {
  maxFileBytes: number;
  ignore?: IgnoreRules;
  /** Checked between directories; a scan stops with this error when it returns one. */
  shouldStop?: () => Error | undefined;
}

export class RootMissingError extends Error {
  constructor(readonly root: string, cause: unknown) {
    super(`workspace root ${root} cannot be read (${(cause as NodeJS.ErrnoException).code ?? String(cause)}); it was moved, deleted or unmounted`);
  }
}

const EXAMPLES_PER_REASON = 10;

export function scanWorkspace(root: string, options: ScanOptions): ScanResult {
  const rules = options.ignore ?? new IgnoreRules(root);
  const result: ScanResult = { files: new Map(), skipped: new Map(), examples: new Map() };
  const skip = (reason: SkipReason, path: string) => {
    result.skipped.set(reason, (result.skipped.get(reason) ?? 0) + 1);
    const list = result.examples.get(reason) ?? [];
    if (list.length < EXAMPLES_PER_REASON) list.push(path);
    result.examples.set(reason, list);
  };
  let realRoot: string;
  try {
    realRoot = realpathSync(root);
    if (!statSync(realRoot).isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
  } catch (error) {
    throw new RootMissingError(root, error);
  }
  const insideRoot = (real: string) => real === realRoot || real.startsWith(realRoot + sep);

  const stack: string[] = [''];
  let first = true;
  while (stack.length) {
    const stop = options.shouldStop?.();
    if (stop) throw stop;
    const dir = stack.pop()!;
    let entries: Dirent[];
    try {
      entries = readdirSync(join(root, dir), { withFileTypes: true });
    } catch (error) {
      if (first) throw new RootMissingError(root, error);
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') skip('unreadable', dir);
      continue; // deleted during the scan: nothing to index
    }
    first = false;
    for (const entry of entries) {
      const rel = dir === '' ? entry.name : `${dir}/${entry.name}`;
      const abs = join(root, rel);
      let kind: 'file' | 'dir' | 'link' | 'other';
      if (entry.isFile()) kind = 'file';
      else if (entry.isDirectory()) kind = 'dir';
      else if (entry.isSymbolicLink()) kind = 'link';
      else if (entry.isFIFO() || entry.isSocket() || entry.isCharacterDevice() || entry.isBlockDevice()) kind = 'other';
      else {
        try {
          const stat = lstatSync(abs);
          kind = stat.isFile() ? 'file' : stat.isDirectory() ? 'dir' : stat.isSymbolicLink() ? 'link' : 'other';
        } catch {
          continue;
        }
      }
      if (kind === 'dir') {
        if (rules.isIgnored(rel, true)) skip('ignored', rel);
        else stack.push(rel);
        continue;
      }
      if (rules.isIgnored(rel, false)) {
        skip('ignored', rel);
        continue;
      }
      if (kind === 'other') {
        skip('special-file', rel);
        continue;
      }
      if (kind === 'link') {
        let target: string;
        try {
          target = realpathSync(abs);
        } catch {
          skip('symlink-loop', rel);
          continue;
        }
        skip(insideRoot(target) ? 'symlink-in-root' : 'symlink-outside-root', rel);
        continue;
      }
      let stat;
      try {
        stat = lstatSync(abs, { bigint: false });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') skip('unreadable', rel);
        continue;
      }
      if (stat.size > options.maxFileBytes) {
        skip('too-large', rel);
        continue;
      }
      result.files.set(rel, { size: stat.size, mtimeMs: stat.mtimeMs, ino: stat.ino });
    }
  }
  return result;
}
