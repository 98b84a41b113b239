// Diagnostics runners: TypeScript (tsc --noEmit, incremental per shadow so a second run is warm),
// ESLint (JSON output) and configured commands with a problem-matcher pattern. Output is parsed
// into LSP Diagnostics whose URIs name files in the user's tree. Parsers are pure.
import { existsSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';

export interface Diagnostic {
  range: { start: { line: number; character: number }; end: { line: number; character: number } };
  severity: 1 | 2 | 3 | 4;
  source: string;
  message: string;
  code?: string | number;
}

export interface FileDiagnostics {
  uri: string;
  diagnostics: Diagnostic[];
}

export interface CheckerSpec {
  name: string;
  argv: string[];
  parse: (output: string, shadowRoot: string, cwd: string) => Array<{ file: string; diagnostic: Diagnostic }>;
}

function severityOf(word: string | undefined): 1 | 2 | 3 | 4 {
  switch ((word ?? '').toLowerCase()) {
    case 'warning':
    case 'warn':
      return 2;
    case 'info':
    case 'information':
    case 'note':
      return 3;
    case 'hint':
      return 4;
    default:
      return 1;
  }
}

function point(line: number, column: number) {
  return { line: Math.max(0, line - 1), character: Math.max(0, column - 1) };
}

/** `src/a.ts(3,7): error TS2322: Type ...` (tsc --pretty false). */
export function parseTsc(output: string): Array<{ file: string; diagnostic: Diagnostic }> {
  const results: Array<{ file: string; diagnostic: Diagnostic }> = [];
  const lines = output.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const match = /^(.+?)\((\d+),(\d+)\): (error|warning|message) (TS\d+): (.*)$/.exec(lines[i]!.trimEnd());
    if (!match) continue;
    let message = match[6]!;
    // Continuation lines (indented) belong to the same diagnostic.
    while (i + 1 < lines.length && /^\s+\S/.test(lines[i + 1]!)) message += '\n' + lines[++i]!.trim();
    const start = point(Number(match[2]), Number(match[3]));
    results.push({ file: match[1]!, diagnostic: { range: { start, end: start }, severity: severityOf(match[4]), source: 'tsc', code: match[5]!, message } });
  }
  return results;
}

interface EslintFile {
  filePath: string;
  messages: Array<{ ruleId?: string | null; severity: number; message: string; line?: number; column?: number; endLine?: number; endColumn?: number }>;
}

export function parseEslint(output: string): Array<{ file: string; diagnostic: Diagnostic }> {
  const start = output.indexOf('[');
  if (start < 0) return [];
  let files: EslintFile[];
  try {
    files = JSON.parse(output.slice(start)) as EslintFile[];
  } catch {
    return [];
  }
  const results: Array<{ file: string; diagnostic: Diagnostic }> = [];
  for (const file of files) {
    for (const m of file.messages ?? []) {
      const begin = point(m.line ?? 1, m.column ?? 1);
      const end = m.endLine ? point(m.endLine, m.endColumn ?? 1) : begin;
      results.push({
        file: file.filePath,
        diagnostic: { range: { start: begin, end }, severity: m.severity === 2 ? 1 : 2, source: 'eslint', message: m.message, ...(m.ruleId && { code: m.ruleId }) },
      });
    }
  }
  return results;
}

/** A problem matcher: a regex with named groups file, line, column?, severity?, code?, message. */
export function parseWithPattern(output: string, pattern: string, source: string): Array<{ file: string; diagnostic: Diagnostic }> {
  const regex = new RegExp(pattern, 'gm');
  const results: Array<{ file: string; diagnostic: Diagnostic }> = [];
  for (const match of output.matchAll(regex)) {
    const groups = match.groups ?? {};
    if (!groups.file || !groups.line) continue;
    const start = point(Number(groups.line), Number(groups.column ?? 1));
    results.push({
      file: groups.file,
      diagnostic: { range: { start, end: start }, severity: severityOf(groups.severity), source, message: groups.message ?? match[0], ...(groups.code && { code: groups.code }) },
    });
    if (match[0] === '') regex.lastIndex++;
  }
  return results;
}

/** Checkers that apply to the shadow's project (tsconfig.json, ESLint config) plus configured ones. */
export function detectCheckers(shadowRoot: string, scratchDir: string, configured: Array<{ name: string; command: string[]; pattern: string }>): CheckerSpec[] {
  const checkers: CheckerSpec[] = [];
  const tsc = join(shadowRoot, 'node_modules', '.bin', 'tsc');
  if (existsSync(join(shadowRoot, 'tsconfig.json')) && existsSync(tsc)) {
    checkers.push({
      name: 'tsc',
      // Incremental state lives in the shadow's scratch dir: the second run only rechecks what changed.
      argv: [tsc, '--noEmit', '--pretty', 'false', '--incremental', '--tsBuildInfoFile', join(scratchDir, 'tsc.tsbuildinfo'), '-p', 'tsconfig.json'],
      parse: (output) => parseTsc(output),
    });
  }
  const eslint = join(shadowRoot, 'node_modules', '.bin', 'eslint');
  const eslintConfigs = ['eslint.config.js', 'eslint.config.mjs', 'eslint.config.cjs', '.eslintrc.json', '.eslintrc.js', '.eslintrc.cjs', '.eslintrc'];
  if (existsSync(eslint) && eslintConfigs.some((name) => existsSync(join(shadowRoot, name)))) {
    checkers.push({
      name: 'eslint',
      argv: [eslint, '--format', 'json', '--cache', '--cache-location', join(scratchDir, 'eslintcache'), '.'],
      parse: (output) => parseEslint(output),
    });
  }
  for (const spec of configured) {
    checkers.push({ name: spec.name, argv: spec.command, parse: (output) => parseWithPattern(output, spec.pattern, spec.name) });
  }
  return checkers;
}

/** Maps a file named by a checker (relative to cwd, or absolute in the shadow) to a URI in the user's tree; null if outside. */
export function userUri(file: string, shadowRoot: string, cwd: string, userRoot: string): string | null {
  const absolute = isAbsolute(file) ? file : join(cwd, file);
  const rel = relative(shadowRoot, absolute);
  if (rel.startsWith('..') || isAbsolute(rel)) return null;
  return pathToFileURL(join(userRoot, rel)).href;
}

export function groupByUri(items: Array<{ uri: string; diagnostic: Diagnostic }>): FileDiagnostics[] {
  const map = new Map<string, Diagnostic[]>();
  for (const { uri, diagnostic } of items) {
    const list = map.get(uri) ?? [];
    list.push(diagnostic);
    map.set(uri, list);
  }
  return [...map].sort(([a], [b]) => (a < b ? -1 : 1)).map(([uri, diagnostics]) => ({ uri, diagnostics }));
}
