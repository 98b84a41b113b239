// Which paths the index leaves out: .gitignore files at every level, .git/info/exclude and
// .caretignore files (same syntax, for things git tracks but search should not see), with git's
// precedence: a deeper file's rules override a shallower one's, and `!pattern` re-includes.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ignore, { type Ignore } from 'ignore';

export const IGNORE_FILES = ['.gitignore', '.caretignore'] as const;
/** Never indexed, whatever the rules say. */
const ALWAYS_IGNORED = new Set(['.git', '.hg', '.svn']);

function readRules(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

export class IgnoreRules {
  /** Directory (relative, '' = root) -> its matcher, or null when it has no ignore files. */
  private readonly matchers = new Map<string, Ignore | null>();

  constructor(private readonly root: string) {}

  /** Forgets every cached rule file (after an ignore file changed). */
  reset(): void {
    this.matchers.clear();
  }

  private matcherFor(dir: string): Ignore | null {
    const cached = this.matchers.get(dir);
    if (cached !== undefined) return cached;
    const texts: string[] = [];
    if (dir === '') {
      const exclude = readRules(join(this.root, '.git', 'info', 'exclude'));
      if (exclude) texts.push(exclude);
    }
    for (const name of IGNORE_FILES) {
      const text = readRules(join(this.root, dir, name));
      if (text) texts.push(text);
    }
    const matcher = texts.length ? texts.reduce((rules, text) => rules.add(text), ignore({ allowRelativePaths: true })) : null;
    this.matchers.set(dir, matcher);
    return matcher;
  }

  /**
   * Whether a path (relative, POSIX) is ignored, assuming its parent directories are not (the
   * scanner never descends into an ignored directory).
   */
  isIgnored(relPath: string, isDirectory: boolean): boolean {
    const name = relPath.slice(relPath.lastIndexOf('/') + 1);
    if (isDirectory && ALWAYS_IGNORED.has(name)) return true;
    let ignored = false;
    let dir = '';
    for (;;) {
      const matcher = this.matcherFor(dir);
      if (matcher) {
        const rest = dir === '' ? relPath : relPath.slice(dir.length + 1);
        const result = matcher.test(isDirectory ? `${rest}/` : rest);
        if (result.ignored) ignored = true;
        else if (result.unignored) ignored = false;
      }
      const next = relPath.indexOf('/', dir === '' ? 0 : dir.length + 1);
      if (next < 0) break;
      dir = relPath.slice(0, next);
    }
    return ignored;
  }

  /** Whether any ancestor directory of the path is ignored, or the path itself. */
  isIgnoredDeep(relPath: string, isDirectory: boolean): boolean {
    const segments = relPath.split('/');
    for (let i = 1; i < segments.length; i++) {
      if (this.isIgnored(segments.slice(0, i).join('/'), true)) return true;
    }
    return this.isIgnored(relPath, isDirectory);
  }
}
