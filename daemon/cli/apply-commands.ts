// `caret apply FILE [SKETCH]`: merges a sketch (a file, or stdin) into FILE through the running
// daemon and prints the result as a zero-context unified diff (`git apply --unidiff-zero` and
// `patch` take it), or as JSON. Like every apply, it never writes FILE itself.
import { readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { CliClient } from './client.js';

type Flags = Record<string, string | boolean>;

interface Hunk {
  oldRange: { start: { line: number } };
  newRange: { start: { line: number } };
  oldText: string;
  newText: string;
  importance: string;
}
interface ApplyAnswer {
  hunks: Hunk[];
  unresolved: Array<{ kind: string; message: string; sketchText: string; nearest: Array<{ text: string }> }>;
  stats: { hunks: number; linesAdded: number; linesRemoved: number; strategy: string; durationMs: number };
}

const lines = (text: string) => (text === '' ? [] : text.replace(/\n$/, '').split('\n'));

/** Zero-context unified diff of one file's hunks. */
export function unifiedDiff(path: string, hunks: readonly Hunk[]): string {
  if (hunks.length === 0) return '';
  const out = [`--- a/${path}`, `+++ b/${path}`];
  for (const hunk of [...hunks].sort((a, b) => a.oldRange.start.line - b.oldRange.start.line)) {
    const removed = lines(hunk.oldText);
    const added = lines(hunk.newText);
    // Unified diff numbers an empty side by the line before it.
    const oldStart = removed.length ? hunk.oldRange.start.line + 1 : hunk.oldRange.start.line;
    const newStart = added.length ? hunk.newRange.start.line + 1 : hunk.newRange.start.line;
    out.push(`@@ -${oldStart},${removed.length} +${newStart},${added.length} @@`);
    for (const line of removed) out.push(`-${line}`);
    for (const line of added) out.push(`+${line}`);
  }
  return `${out.join('\n')}\n`;
}

export async function commandApply(
  withDaemon: <T>(action: (client: CliClient) => Promise<T>) => Promise<T>,
  flags: Flags,
  args: string[],
  fail: (message: string, code?: number) => never,
): Promise<number> {
  const [file, sketchPath] = args;
  if (!file) fail('usage: caret apply FILE [SKETCH|-] [--strategy=auto|merge|model] [--json]', 2);
  const strategy = typeof flags.strategy === 'string' ? flags.strategy : 'auto';
  if (!['auto', 'merge', 'model'].includes(strategy)) fail(`--strategy must be auto, merge or model (got "${strategy}")`, 2);
  let sketch: string;
  try {
    sketch = !sketchPath || sketchPath === '-' ? readFileSync(0, 'utf8') : readFileSync(sketchPath, 'utf8');
  } catch (error) {
    fail(`cannot read the sketch: ${(error as Error).message}`);
  }
  const path = resolve(file);
  const answer = (await withDaemon((client) =>
    client.request('caret/apply', { files: [{ textDocument: { uri: pathToFileURL(path).href, version: null }, sketch }], strategy }),
  )) as ApplyAnswer;
  if (flags.json) process.stdout.write(`${JSON.stringify(answer, null, 2)}\n`);
  else process.stdout.write(unifiedDiff(relative(process.cwd(), path) || path, answer.hunks));
  for (const item of answer.unresolved) {
    process.stderr.write(`caret apply: ${item.kind}: ${item.message}\n`);
    if (item.nearest[0]) process.stderr.write(`  nearest lines:\n${item.nearest[0].text.replace(/^/gm, '    ')}\n`);
  }
  if (!flags.json) {
    process.stderr.write(`caret apply: ${answer.stats.hunks} hunk(s), +${answer.stats.linesAdded} -${answer.stats.linesRemoved} (${answer.stats.strategy}, ${answer.stats.durationMs.toFixed(1)} ms); ${path} was not written\n`);
  }
  return answer.unresolved.length > 0 ? 1 : 0;
}
