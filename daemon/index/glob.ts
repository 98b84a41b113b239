// Path globs for search filters, matched against workspace-relative POSIX paths: `**` crosses
// directories, `*` and `?` do not, `{a,b}` alternates, `[...]` is a class. A pattern without a
// slash matches a file's name at any depth (as in .gitignore and ripgrep); `!` excludes.

function globToRegExpSource(glob: string): string {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') {
      if (glob[i + 1] === '*') {
        const slash = glob[i + 2] === '/';
        out += slash ? '(?:.*/)?' : '.*';
        i += slash ? 2 : 1;
      } else out += '[^/]*';
    } else if (c === '?') out += '[^/]';
    else if (c === '{') {
      const end = glob.indexOf('}', i);
      if (end < 0) out += '\\{';
      else {
        out += `(?:${glob.slice(i + 1, end).split(',').map(globToRegExpSource).join('|')})`;
        i = end;
      }
    } else if (c === '[') {
      const end = glob.indexOf(']', i + 1);
      if (end < 0) out += '\\[';
      else {
        let body = glob.slice(i + 1, end).replace(/\\/g, '\\\\');
        if (body.startsWith('!')) body = '^' + body.slice(1);
        out += `[${body}]`;
        i = end;
      }
    } else out += /[.+^$()|\\]/.test(c) ? `\\${c}` : c;
  }
  return out;
}

export interface PathFilter {
  (path: string): boolean;
}

/** A predicate over relative paths; undefined when there are no patterns. */
export function compilePathGlobs(patterns: readonly string[] | undefined): PathFilter | undefined {
  if (!patterns || patterns.length === 0) return undefined;
  const include: RegExp[] = [];
  const exclude: RegExp[] = [];
  for (const raw of patterns) {
    const negated = raw.startsWith('!');
    let pattern = negated ? raw.slice(1) : raw;
    pattern = pattern.replace(/^\.\//, '').replace(/^\//, '');
    if (pattern.endsWith('/')) pattern += '**';
    const anchored = pattern.includes('/') ? pattern : `**/${pattern}`;
    const regexp = new RegExp(`^${globToRegExpSource(anchored)}(?:/.*)?$`);
    (negated ? exclude : include).push(regexp);
  }
  return (path) => (include.length === 0 || include.some((r) => r.test(path))) && !exclude.some((r) => r.test(path));
}
