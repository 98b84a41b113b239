// Apply benchmark.
//
//   npm run bench -- apply [--repo GIT_DIR ...] [--commits N] [--skip-accuracy] [--skip-speculative]
//                         [--dump-wrong DIR] [--dump-declined DIR] [--model-dir DIR]   (or CARET_APPLY_MODEL_DIR: a real ONNX model, e.g. Qwen2.5-Coder)
//
// 1. Accuracy on real history: for commits that change one region of a file, the sketch is the
//    changed region with unchanged surroundings elided in several styles (test/apply/corpus.ts).
//    Reports, per style and overall, how often the deterministic merge is exact, declines
//    (unresolved), or is wrong (differs from the commit without saying so). Repositories: this
//    one, plus every --repo (default: /tmp/apply-corpus/* when present).
// 2. Merge time for files of 1k, 5k and 20k lines (median of repeated runs).
// 3. Time to the first streamed hunk through a real daemon (Unix socket, partial results).
// 4. Speculative edits against plain greedy decoding on the constructed induction-head model (and
//    a real model when given), for sketches changing 1%, 10% and 50% of the lines.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mergeSketch } from '../../daemon/apply/index.js';
import { casesFor, type CorpusCase, STYLES } from '../apply/corpus.js';
import { runSpeculativeBench } from '../apply/speculative-bench.js';
import { connectUnix, initializeParams, makeTestEnv, repoRoot, startTestDaemon } from '../helpers/index.js';

interface Options {
  repos: string[];
  commits: number;
  skipAccuracy: boolean;
  skipSpeculative: boolean;
  modelDir?: string;
  /** Writes every wrong case there as JSON (original, sketch, expected, actual), for study. */
  dumpWrong?: string;
  /** Writes every declined case there as JSON (with the unresolved regions), for study. */
  dumpDeclined?: string;
}

function parseArgs(argv: string[]): Options {
  const options: Options = { repos: [], commits: 4000, skipAccuracy: false, skipSpeculative: false };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = () => {
      const next = argv[++i];
      if (next === undefined) throw new Error(`${flag} needs a value`);
      return next;
    };
    if (flag === '--repo') options.repos.push(value());
    else if (flag === '--commits') options.commits = Number(value());
    else if (flag === '--skip-accuracy') options.skipAccuracy = true;
    else if (flag === '--skip-speculative') options.skipSpeculative = true;
    else if (flag === '--model-dir') options.modelDir = value();
    else if (flag === '--dump-wrong') options.dumpWrong = value();
    else if (flag === '--dump-declined') options.dumpDeclined = value();
    else throw new Error(`unknown flag ${flag}`);
  }
  if (options.repos.length === 0) {
    options.repos.push(repoRoot);
    if (existsSync('/tmp/apply-corpus')) for (const name of readdirSync('/tmp/apply-corpus')) options.repos.push(join('/tmp/apply-corpus', name));
  }
  options.modelDir ??= process.env.CARET_APPLY_MODEL_DIR;
  return options;
}

/** (commit, path) pairs of modified text files, newest first, with both versions read in one `git cat-file --batch`. */
function historyPairs(repo: string, commits: number): Array<{ id: string; path: string; before: string; after: string }> {
  const git = (args: string[], input?: string) =>
    spawnSync('git', ['-C', repo, ...args], { ...(input !== undefined && { input: Buffer.from(input) }), maxBuffer: 1 << 30 });
  const log = git(['log', '--no-merges', '--diff-filter=M', '--name-status', '--format=@%H', '-n', String(commits)]).stdout.toString('utf8');
  const wanted: Array<{ commit: string; path: string }> = [];
  let commit = '';
  for (const line of log.split('\n')) {
    if (line.startsWith('@')) commit = line.slice(1);
    else if (line.startsWith('M\t')) wanted.push({ commit, path: line.slice(2) });
  }
  const requests = wanted.flatMap(({ commit: c, path }) => [`${c}^:${path}`, `${c}:${path}`]).join('\n') + '\n';
  const out = git(['cat-file', '--batch'], requests).stdout;
  const blobs: Array<string | undefined> = [];
  let at = 0;
  while (at < out.length) {
    const headerEnd = out.indexOf(10, at);
    const header = out.subarray(at, headerEnd).toString('utf8');
    at = headerEnd + 1;
    const parts = header.split(' ');
    if (parts[1] === 'missing' || parts.length < 3) {
      blobs.push(undefined);
      continue;
    }
    const size = Number(parts[2]);
    const body = out.subarray(at, at + size);
    at += size + 1;
    blobs.push(body.includes(0) ? undefined : body.toString('utf8'));
  }
  const pairs: Array<{ id: string; path: string; before: string; after: string }> = [];
  wanted.forEach(({ commit: c, path }, index) => {
    const before = blobs[2 * index];
    const after = blobs[2 * index + 1];
    if (before !== undefined && after !== undefined && before.length < 400_000) pairs.push({ id: `${c.slice(0, 10)}:${path}`, path, before, after });
  });
  return pairs;
}

interface Tally {
  exact: number;
  declined: number;
  wrong: number;
}

function accuracy(options: Options): void {
  console.log('\n-- accuracy of the deterministic merge on real history --');
  const all: CorpusCase[] = [];
  for (const repo of options.repos) {
    if (!existsSync(repo)) continue;
    const name = repo.replace(/\/(\.git)?\/?$/, '').split('/').pop() || repo;
    const pairs = historyPairs(repo, options.commits);
    const cases = pairs.flatMap((pair) => casesFor(pair.id, pair.path, pair.before, pair.after));
    console.log(`${name}: ${pairs.length} modified files in history, ${cases.length / STYLES.length} single-region changes, ${cases.length} cases`);
    all.push(...cases.map((c) => ({ ...c, id: `${name}/${c.id}` })));
  }
  const byStyle = new Map<string, Tally>();
  const total: Tally = { exact: 0, declined: 0, wrong: 0 };
  const wrongExamples: string[] = [];
  const started = performance.now();
  for (const item of all) {
    const result = mergeSketch(item.original, item.sketch);
    const tally = byStyle.get(item.style) ?? { exact: 0, declined: 0, wrong: 0 };
    byStyle.set(item.style, tally);
    let outcome: keyof Tally;
    if (result.refusal || result.unresolved.length > 0) {
      outcome = 'declined';
      if (options.dumpDeclined) {
        mkdirSync(options.dumpDeclined, { recursive: true });
        const name = `${total.declined}-${item.id.replace(/[^\w.-]+/g, '_')}.json`;
        const why = result.refusal ? [result.refusal] : result.unresolved;
        writeFileSync(join(options.dumpDeclined, name), JSON.stringify({ ...item, unresolved: why.map(({ kind, message }) => ({ kind, message })) }, null, 1));
      }
    } else if (result.text === item.expected) outcome = 'exact';
    else {
      outcome = 'wrong';
      if (wrongExamples.length < 12) wrongExamples.push(`${item.id} [${item.style}]`);
      if (options.dumpWrong) {
        mkdirSync(options.dumpWrong, { recursive: true });
        const name = `${total.wrong}-${item.id.replace(/[^\w.-]+/g, '_')}.json`;
        writeFileSync(join(options.dumpWrong, name), JSON.stringify({ ...item, actual: result.text }, null, 1));
      }
    }
    tally[outcome]++;
    total[outcome]++;
  }
  const elapsed = performance.now() - started;
  const pct = (n: number, of: number) => `${((100 * n) / Math.max(1, of)).toFixed(2)}%`;
  const row = (label: string, t: Tally) => {
    const n = t.exact + t.declined + t.wrong;
    const of = (count: number) => `${pct(count, n).padStart(6)} (${count})`;
    console.log(`${label.padEnd(48)} n=${String(n).padStart(5)}  exact ${of(t.exact)}  declined ${of(t.declined)}  wrong ${of(t.wrong)}`);
  };
  for (const [style, tally] of byStyle) row(style, tally);
  row('all styles', total);
  console.log(`(${all.length} merges in ${elapsed.toFixed(0)} ms)`);
  if (wrongExamples.length) console.log(`wrong, first few: ${wrongExamples.join(', ')}`);
}

function syntheticFile(lines: number): string {
  const out: string[] = [];
  for (let i = 0; out.length < lines; i++) {
    out.push(`export function handler${i}(request, response) {`);
    out.push(`  const value${i} = request.params.id${i % 7} ?? ${i};`);
    out.push(`  if (!value${i}) return response.status(404).end();`);
    out.push(`  return response.json({ id: value${i}, name: "item-${i}" });`);
    out.push('}');
    out.push('');
  }
  return out.slice(0, lines).join('\n') + '\n';
}

/** A sketch that edits three functions spread over the file, with markers between. */
function syntheticSketch(file: string): string {
  const lines = file.split('\n');
  const functions = Math.floor(lines.length / 6);
  const parts: string[] = ['// ... existing code ...'];
  for (const k of [Math.floor(functions * 0.1), Math.floor(functions * 0.5), Math.floor(functions * 0.9)]) {
    parts.push(`export function handler${k}(request, response) {`);
    parts.push(`  const value${k} = request.params.id${k % 7} ?? ${k};`);
    parts.push(`  log.debug("handler${k}", value${k});`);
    parts.push(`  if (!value${k}) return response.status(400).end();`);
    parts.push('// ... existing code ...');
  }
  return parts.join('\n') + '\n';
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function mergeTiming(): void {
  console.log('\n-- merge time (three edits spread over the file; median of 30 runs after 5 warm-up) --');
  for (const size of [1000, 5000, 20000]) {
    const file = syntheticFile(size);
    const sketch = syntheticSketch(file);
    const result = mergeSketch(file, sketch);
    if (result.unresolved.length || result.refusal) throw new Error('synthetic sketch did not merge');
    for (let i = 0; i < 5; i++) mergeSketch(file, sketch);
    const times: number[] = [];
    for (let i = 0; i < 30; i++) {
      const t0 = performance.now();
      mergeSketch(file, sketch);
      times.push(performance.now() - t0);
    }
    console.log(`${String(size).padStart(6)} lines: merge ${median(times).toFixed(2)} ms`);
  }
}

async function firstHunkTiming(): Promise<void> {
  console.log('\n-- time to the first streamed hunk (real daemon, Unix socket, vscode-jsonrpc) --');
  const env = makeTestEnv();
  const daemon = await startTestDaemon(env);
  try {
    const connection = await connectUnix(env.paths.socketPath);
    await connection.sendRequest('initialize', initializeParams());
    await connection.sendNotification('initialized', {});
    for (const size of [1000, 5000, 20000]) {
      const uri = `file:///tmp/caret-bench/file${size}.js`;
      const file = syntheticFile(size);
      await connection.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'javascript', version: 1, text: file } });
      const firsts: number[] = [];
      const totals: number[] = [];
      for (let run = 0; run < 12; run++) {
        const token = `bench-${size}-${run}`;
        let first = 0;
        const t0 = performance.now();
        const subscription = connection.onProgress({ method: '$/progress' } as never, token, () => {
          if (!first) first = performance.now() - t0;
        });
        await connection.sendRequest('caret/apply', { files: [{ textDocument: { uri }, sketch: syntheticSketch(file) }], partialResultToken: token });
        totals.push(performance.now() - t0);
        firsts.push(first);
        subscription.dispose();
      }
      console.log(`${String(size).padStart(6)} lines: first hunk ${median(firsts.slice(2)).toFixed(1)} ms, whole result ${median(totals.slice(2)).toFixed(1)} ms`);
    }
    connection.dispose();
  } finally {
    await daemon.stop('bench over');
    env.cleanup();
  }
}

const options = parseArgs(process.argv.slice(2));
console.log(`apply benchmark, ${new Date().toISOString().slice(0, 10)}, node ${process.version}`);
if (!options.skipAccuracy) accuracy(options);
mergeTiming();
await firstHunkTiming();
if (!options.skipSpeculative) await runSpeculativeBench(options.modelDir);
