// Whether a file is ignored (.gitignore, .caretignore, .git/info/exclude) in a workspace root, for
// the send policy: text from ignored files never reaches a hosted provider. The index room keeps
// its own rules for scanning; models sit below it and read the same files with the same `ignore`
// package and git's precedence (a deeper file's rules override a shallower one's, `!` re-includes).
// Rules are cached per directory and re-read when an ignore file's mtime changes (looked at most
// once per `recheckMs`, so a keystroke's prompt costs no disk reads in between).
import { statSync, readFileSync } from 'node:fs';
import { isAbsolute, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ignore, { type Ignore } from 'ignore';

const ruleFiles = ['.gitignore', '.caretignore'];
const alwaysIgnored = new Set(['.git', '.hg', '.svn']);

interface DirRules {
  /** mtimes (ms, -1 when absent) of the files the rules came from, in a fixed order. */
  stamp: string;
  checkedAt: number;
  matcher: Ignore | null;
}

export interface IgnoredPathsOptions {
  /** How long cached rules are trusted before the files' mtimes are looked at again (default 1000 ms). */
  recheckMs?: number;
  now?: () => number;
}

function mtime(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return -1;
  }
}

/** A path, `file://` URI, or path relative to `root`, as a POSIX path relative to root; undefined when outside it. */
export function relativeToRoot(root: string, path: string): string | undefined {
  let absolute: string;
  if (path.startsWith('file://')) {
    try {
      absolute = fileURLToPath(path);
    } catch {
      return undefined;
    }
  } else if (/^[a-z][a-z0-9+.-]*:/i.test(path)) return undefined; // untitled:, other schemes: no file
  else absolute = isAbsolute(path) ? path : join(root, path);
  const rel = relative(root, absolute);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) return undefined;
  return rel.split(sep).join('/');
}

export class IgnoredPaths {
  private readonly rules = new Map<string, DirRules>();
  private readonly recheckMs: number;
  private readonly now: () => number;

  constructor(options: IgnoredPathsOptions = {}) {
    this.recheckMs = options.recheckMs ?? 1000;
    this.now = options.now ?? Date.now;
  }

  /** True when `path` (absolute, file:// URI, or relative to root) is ignored in `root`. */
  isIgnored(root: string, path: string): boolean {
    const rel = relativeToRoot(root, path);
    if (rel === undefined) return false;
    const segments = rel.split('/');
    // A file inside an ignored directory is ignored, whatever its own name says.
    for (let i = 1; i < segments.length; i++) {
      if (this.test(root, segments.slice(0, i).join('/'), true)) return true;
    }
    return this.test(root, rel, false);
  }

  /** Forgets cached rules (all, or one root's). */
  clear(root?: string): void {
    if (root === undefined) this.rules.clear();
    else for (const key of this.rules.keys()) if (key === root || key.startsWith(root + sep)) this.rules.delete(key);
  }

  private test(root: string, rel: string, isDirectory: boolean): boolean {
    const name = rel.slice(rel.lastIndexOf('/') + 1);
    if (isDirectory && alwaysIgnored.has(name)) return true;
    let ignored = false;
    let dir = '';
    for (;;) {
      const matcher = this.matcher(root, dir);
      if (matcher) {
        const rest = dir === '' ? rel : rel.slice(dir.length + 1);
        const result = matcher.test(isDirectory ? `${rest}/` : rest);
        if (result.ignored) ignored = true;
        else if (result.unignored) ignored = false;
      }
      const next = rel.indexOf('/', dir === '' ? 0 : dir.length + 1);
      if (next < 0) return ignored;
      dir = rel.slice(0, next);
    }
  }

  private matcher(root: string, dir: string): Ignore | null {
    const absolute = dir ? join(root, dir) : root;
    const files = [...(dir === '' ? [join(root, '.git', 'info', 'exclude')] : []), ...ruleFiles.map((name) => join(absolute, name))];
    const cached = this.rules.get(absolute);
    const now = this.now();
    if (cached && now - cached.checkedAt < this.recheckMs) return cached.matcher;
    const stamp = files.map(mtime).join(',');
    if (cached && cached.stamp === stamp) {
      cached.checkedAt = now;
      return cached.matcher;
    }
    const texts: string[] = [];
    for (const file of files) {
      try {
        texts.push(readFileSync(file, 'utf8'));
      } catch {
        // absent
      }
    }
    const matcher = texts.length ? texts.reduce((rules, text) => rules.add(text), ignore({ allowRelativePaths: true })) : null;
    this.rules.set(absolute, { stamp, checkedAt: now, matcher });
    return matcher;
  }
}
