// Index benchmark.
//
//   npm run bench -- index [--tree DIR ...] [--no-defaults] [--copies N] [--queries N] [--saves N]
//
// Trees: this project's node_modules, and a large public repository checked out under /tmp
// (default /tmp/bench-git: `git archive` of git/git), plus a ~30,000-file tree made of N copies of
// it (/tmp/bench-git-xN) for the resync goal. For each tree, in one run, side by side:
//   cold index (the lexical pass, after which every file is searchable, and both passes): files/s
//   and MB/s; no-change resync time (median of 5); save-to-searchable
//   latency through the real watcher (p50/p95); lexical query latency p50/p99 against ripgrep
//   (`rg -F -i -l`, same query, same tree, honouring the same .gitignore files); database size
//   against source size; peak RSS of the process (indexer and parse workers are threads in it).
import { spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { IndexService } from '../../daemon/index/index.js';
import { repoRoot } from '../helpers/index.js';

interface Options {
  trees: string[];
  copies: number;
  queries: number;
  saves: number;
}

function parseArgs(argv: string[]): Options {
  const options: Options = { trees: [], copies: 6, queries: 40, saves: 20 };
  let defaults = true;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--tree') options.trees.push(argv[++i]!);
    else if (arg === '--no-defaults') defaults = false;
    else if (arg === '--copies') options.copies = Number(argv[++i]);
    else if (arg === '--queries') options.queries = Number(argv[++i]);
    else if (arg === '--saves') options.saves = Number(argv[++i]);
  }
  if (defaults) {
    options.trees.unshift(join(repoRoot, 'node_modules'));
    if (existsSync('/tmp/bench-git')) {
      options.trees.push('/tmp/bench-git');
      if (options.copies > 1) options.trees.push(multiply('/tmp/bench-git', options.copies));
    } else console.log('(no /tmp/bench-git: check out a large repository there, e.g. `git archive HEAD | tar -x -C /tmp/bench-git`)');
  }
  return options;
}

function multiply(source: string, copies: number): string {
  const target = `${source}-x${copies}`;
  if (!existsSync(join(target, '.complete'))) {
    rmSync(target, { recursive: true, force: true });
    for (let i = 0; i < copies; i++) cpSync(source, join(target, `copy${i}`), { recursive: true });
    writeFileSync(join(target, '.complete'), '');
  }
  return target;
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
};
const median = (values: number[]) => percentile(values, 50);
const ms = (value: number) => `${value.toFixed(value < 10 ? 2 : 0)} ms`;
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function benchTree(root: string, options: Options): Promise<void> {
  console.log(`\n-- ${root}`);
  const cacheDir = `/tmp/caret-bench-cache-${process.pid}`;
  rmSync(cacheDir, { recursive: true, force: true });
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 25);
  const service = new IndexService({
    cacheDir,
    log: { debug() {}, info() {}, warn() {}, error: (message, fields) => console.error(message, fields) },
    settings: () => ({ enabled: true, maxFileBytes: 1024 * 1024, parseWorkers: 0, watch: true, debounceMs: 75, burstLimit: 1000, resyncIntervalSeconds: 0, embedBatchSize: 32 }),
  });
  try {
    // Cold index: the lexical pass (every file searchable) is the first sync the indexer reports;
    // the second pass (trigram rows, syntax-aware chunks, symbols) follows.
    const started = performance.now();
    const index = service.open(root, true)!;
    const lexical = await index.nextSync();
    const lexicalMs = performance.now() - started;
    const lexicalRss = peakRss;
    await index.whenIdle();
    const coldMs = performance.now() - started;
    const status = index.status();
    const sizeDb = new Database(status.database, { readonly: true });
    const sourceBytes = sizeDb.prepare('SELECT coalesce(sum(size), 0) FROM files WHERE skip_reason IS NULL').pluck().get() as number;
    sizeDb.close();
    console.log(
      `cold lexical pass: ${lexical.indexed} files searchable in ${(lexicalMs / 1000).toFixed(2)} s: ${(lexical.indexed / (lexicalMs / 1000)).toFixed(0)} files/s, ${(lexical.bytes / 1024 / 1024 / (lexicalMs / 1000)).toFixed(1)} MB/s (peak RSS so far ${mb(lexicalRss)})`,
    );
    console.log(`both passes: ${status.files} files (${mb(sourceBytes)}), ${status.chunks} chunks, ${status.symbols} symbols in ${(coldMs / 1000).toFixed(2)} s (peak RSS so far ${mb(peakRss)})`);
    console.log(`  ${(status.files / (coldMs / 1000)).toFixed(0)} files/s, ${(sourceBytes / 1024 / 1024 / (coldMs / 1000)).toFixed(1)} MB/s; skipped ${JSON.stringify(status.skipped)}`);

    // No-change resync.
    const resyncs: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      index.reindex(true, undefined, 'bench');
      await index.whenIdle();
      resyncs.push(performance.now() - t);
    }
    console.log(`no-change resync of ${status.files} files: median ${ms(median(resyncs))} (re-read ${index.lastSync!.reread})`);

    // Save-to-searchable through the watcher.
    const db = new Database(status.database, { readonly: true });
    const candidates = db.prepare("SELECT path FROM files WHERE skip_reason IS NULL AND language IN ('c', 'javascript', 'typescript', 'python', 'shellscript') ORDER BY id LIMIT 2000").pluck().all() as string[];
    const saves: number[] = [];
    for (let i = 0; i < Math.min(options.saves, candidates.length); i++) {
      const path = candidates[Math.floor((i * candidates.length) / options.saves)]!;
      const abs = join(root, path);
      const original = readFileSync(abs);
      const token = `caretbenchtoken${i}x${Date.now()}`;
      const t = performance.now();
      appendFileSync(abs, `\n// ${token}\n`);
      while ((await index.query({ query: token, limit: 1, mode: 'lexical' })).length === 0) {
        if (performance.now() - t > 10_000) throw new Error(`${path} not searchable after 10 s`);
        await sleep(2);
      }
      saves.push(performance.now() - t);
      writeFileSync(abs, original);
      await sleep(150);
    }
    if (saves.length) console.log(`save-to-searchable (${saves.length} saves): p50 ${ms(median(saves))}, p95 ${ms(percentile(saves, 95))} (peak RSS so far ${mb(peakRss)})`);
    await index.whenIdle();

    // Lexical queries against ripgrep, on identifiers from the tree itself.
    const names = db.prepare('SELECT DISTINCT name FROM symbols WHERE length(name) >= 6 ORDER BY name').pluck().all() as string[];
    db.close();
    const queries = Array.from({ length: Math.min(options.queries, names.length) }, (_, i) => names[Math.floor((i * names.length) / options.queries)]!);
    if (queries.length === 0) queries.push('function', 'return', 'exports');
    // Through the search thread, as the daemon's handlers query (the message round trip included).
    for (const query of queries.slice(0, 3)) await index.query({ query, limit: 20, mode: 'lexical' }); // warm up
    const ours: number[] = [];
    for (const query of queries) {
      const t = performance.now();
      await index.query({ query, limit: 20, mode: 'lexical' });
      ours.push(performance.now() - t);
    }
    const rg: number[] = [];
    const rgQueries = queries.slice(0, Math.min(queries.length, 15));
    spawnSync('rg', ['-F', '-i', '-l', rgQueries[0]!, root], { stdio: 'ignore' }); // warm the page cache
    for (const query of rgQueries) {
      const t = performance.now();
      const result = spawnSync('rg', ['-F', '-i', '-l', '--max-filesize', '1M', query, root], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
      if (result.error) throw result.error;
      rg.push(performance.now() - t);
    }
    console.log(`lexical query (${ours.length} queries): caret p50 ${ms(median(ours))}, p99 ${ms(percentile(ours, 99))}; rg p50 ${ms(median(rg))}, p99 ${ms(percentile(rg, 99))}; rg/caret p50 = ${(median(rg) / median(ours)).toFixed(1)}x`);

    const dbBytes = ['', '-wal'].reduce((sum, suffix) => sum + (existsSync(status.database + suffix) ? statSync(status.database + suffix).size : 0), 0);
    console.log(`database ${mb(dbBytes)} for ${mb(sourceBytes)} of source (${(dbBytes / Math.max(1, sourceBytes)).toFixed(2)}x)`);
  } finally {
    await service.dispose();
    clearInterval(sampler);
    console.log(`peak RSS ${mb(peakRss)}`);
    rmSync(cacheDir, { recursive: true, force: true });
  }
}

const options = parseArgs(process.argv.slice(2));
mkdirSync('/tmp', { recursive: true });
// glibc's malloc settings change peak RSS (docs/index.md, Memory): say which ones this run had.
const mallocEnv = Object.entries(process.env).filter(([name]) => name.startsWith('MALLOC_') || name === 'GLIBC_TUNABLES');
console.log(`malloc settings: ${mallocEnv.length ? mallocEnv.map(([name, value]) => `${name}=${value}`).join(' ') : 'glibc defaults'}`);
for (const tree of options.trees) await benchTree(tree, options);
