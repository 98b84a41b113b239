// The two indexing passes, the search thread, cancelling indexing and a failed watcher: real
// files, real SQLite, real worker threads and a real file watcher.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { IgnoreRules } from '../../daemon/index/ignore-rules.js';
import { ParsePool } from '../../daemon/index/parse-pool.js';
import { IndexSearcher, PENDING_SCAN, PENDING_SCAN_FILES, searchSymbols } from '../../daemon/index/search.js';
import { type Db, IndexWriter, openIndexDatabase } from '../../daemon/index/store.js';
import { fullSync, INLINE_FILES, pathSync, secondPass, SYNTAX_WORKERS, type SyncContext } from '../../daemon/index/sync.js';
import { eventually, makeService, openReady, paths, tempDir, writeTree } from './helpers.js';

const tree = {
  'src/user.ts': 'export class UserService {\n  getUserName(id: number): string {\n    return `user_${id}`;\n  }\n}\n',
  'src/lib.py': 'def parse_config_file(path):\n    return open(path).read()\n',
  'notes.md': 'The quick brown fox mentions getUserName.\n',
  'data.txt': 'plain words: zebraQuokka and ${weird} punctuation\n',
};

function syncContext(root: string, db: Db, pool: ParsePool, shouldYield?: () => boolean): SyncContext {
  return {
    root,
    maxFileBytes: 1024 * 1024,
    pool,
    writer: new IndexWriter(db),
    ignore: new IgnoreRules(root),
    shouldStop: () => undefined,
    ...(shouldYield && { shouldYield }),
    onProgress: () => undefined,
  };
}

const hitPaths = (searcher: IndexSearcher, query: string) =>
  [...new Set(searcher.search({ query, limit: 20, mode: 'lexical' }).map((hit) => hit.path))].sort();

test('the lexical pass makes every file searchable by identifier and substring; the second pass adds symbols and trigram rows', async () => {
  const ws = tempDir();
  const cache = tempDir();
  writeTree(ws.dir, tree);
  const { db } = openIndexDatabase(join(cache.dir, 'ix.db'), ws.dir);
  const pool = new ParsePool({ size: 2 });
  try {
    const context = syncContext(ws.dir, db, pool);
    const { stats } = await fullSync(context);
    assert.equal(stats.indexed, 4);
    const searcher = new IndexSearcher(db);
    // After the lexical pass alone: every file is pending, none has trigram rows or symbols...
    assert.equal(db.prepare('SELECT count(*) FROM files WHERE pending > 0').pluck().get(), 4);
    assert.equal(db.prepare('SELECT count(*) FROM fts_grams WHERE content LIKE ?').pluck().get('%user%'), 0);
    assert.deepEqual(searchSymbols(db, 'getUserName', 5), []);
    // ...and yet identifiers in every spelling and substrings are found.
    assert.deepEqual(hitPaths(searcher, 'get_user_name'), ['notes.md', 'src/user.ts']);
    assert.deepEqual(hitPaths(searcher, 'configFile'), ['src/lib.py']);
    assert.deepEqual(hitPaths(searcher, 'ck brown f'), ['notes.md']);
    assert.deepEqual(hitPaths(searcher, '${weird}'), ['data.txt']);
    const before = hitPaths(searcher, 'user_${');

    const second = await secondPass(context, () => undefined);
    assert.equal(second.yielded, false);
    assert.equal(db.prepare('SELECT count(*) FROM files WHERE pending > 0').pluck().get(), 0);
    assert.deepEqual(searchSymbols(db, 'getUserName', 5).map((s) => `${s.container}.${s.name}`), ['UserService.getUserName']);
    // Substrings now come from the trigram index, with the same answers.
    assert.ok((db.prepare('SELECT count(*) FROM fts_grams WHERE content LIKE ?').pluck().get('%user%') as number) > 0);
    assert.deepEqual(hitPaths(searcher, 'user_${'), before);
    assert.deepEqual(hitPaths(searcher, 'ck brown f'), ['notes.md']);
    // The syntax pass chunked along the tree: the method's chunk names its class.
    const [hit] = searcher.search({ query: 'getUserName', limit: 1, mode: 'lexical', paths: ['*.ts'] });
    assert.equal(hit?.symbol, 'UserService');
    db.prepare("INSERT INTO fts_grams(fts_grams) VALUES ('integrity-check')").run();
  } finally {
    await pool.close();
    db.close();
    ws.cleanup();
    cache.cleanup();
  }
});

test('a second pass that yields leaves the rest pending; files rewritten or removed before it keep the trigram index consistent', async () => {
  const ws = tempDir();
  const cache = tempDir();
  const files: Record<string, string> = {};
  for (let i = 0; i < 300; i++) files[`d${i % 7}/f${i}.${i % 2 ? 'ts' : 'txt'}`] = `export const value${i} = "marker ${i}";\n`;
  writeTree(ws.dir, files);
  const { db } = openIndexDatabase(join(cache.dir, 'ix.db'), ws.dir);
  const pool = new ParsePool({ size: 2 });
  try {
    let yieldNow = false;
    const context = syncContext(ws.dir, db, pool, () => yieldNow);
    await fullSync(context);
    let batches = 0;
    const first = await secondPass(context, () => {
      if (++batches >= 2) yieldNow = true;
    });
    assert.equal(first.yielded, true);
    const pending = db.prepare('SELECT count(*) FROM files WHERE pending > 0').pluck().get() as number;
    assert.ok(pending > 0 && pending < 300, `${pending} files still pending`);
    // Pending and finished files change and disappear: their rows are replaced without touching
    // trigram rows they never had.
    writeFileSync(join(ws.dir, 'd0/f0.txt'), 'rewritten zanzibar\n');
    writeFileSync(join(ws.dir, 'd5/f299.ts'), 'export const rewrittenLate = 1;\n');
    rmSync(join(ws.dir, 'd1/f1.ts'));
    rmSync(join(ws.dir, 'd5/f292.txt'));
    await new Promise((resolve) => setTimeout(resolve, 20));
    yieldNow = false;
    await fullSync(context);
    const rest = await secondPass(context, () => undefined);
    assert.equal(rest.yielded, false);
    assert.equal(db.prepare('SELECT count(*) FROM files WHERE pending > 0').pluck().get(), 0);
    db.prepare("INSERT INTO fts_grams(fts_grams) VALUES ('integrity-check')").run();
    const searcher = new IndexSearcher(db);
    assert.deepEqual(hitPaths(searcher, 'zanzibar'), ['d0/f0.txt']);
    assert.deepEqual(hitPaths(searcher, 'marker 150'), ['d3/f150.txt']);
    assert.deepEqual(hitPaths(searcher, 'rewrittenLate'), ['d5/f299.ts']);
    assert.ok(!hitPaths(searcher, 'value1').includes('d1/f1.ts'));
    assert.ok(!hitPaths(searcher, 'marker 292').includes('d5/f292.txt'));
    assert.deepEqual((db.prepare('SELECT path FROM files').pluck().all() as string[]).filter((path) => /^(d1\/f1\.ts|d5\/f292\.txt)$/.test(path)), []);
    assert.deepEqual((db.prepare('SELECT path FROM files').pluck().all() as string[]).filter((path) => !/^d\d\/f\d+\.(ts|txt)$/.test(path)), []);
    assert.equal(db.prepare('SELECT count(*) FROM files').pluck().get(), 298);
  } finally {
    await pool.close();
    db.close();
    ws.cleanup();
    cache.cleanup();
  }
});

test('searches run in the search thread; a cancelled query ends with its thread and the next one still answers', async () => {
  const ws = tempDir();
  const cache = tempDir();
  writeTree(ws.dir, tree);
  const service = makeService(cache.dir);
  try {
    const index = await openReady(service, ws.dir);
    const query = { query: 'getUserName', limit: 10, mode: 'lexical' as const };
    assert.deepEqual(await index.query(query), index.search(query));
    assert.deepEqual((await index.findSymbols('UserServ', 5)).map((s) => s.name), ['UserService']);
    const started = index.searchThreadsStarted;
    const controller = new AbortController();
    const running = index.query({ query: 'brown', limit: 10, mode: 'lexical' }, controller.signal);
    controller.abort(new Error('client cancelled'));
    await assert.rejects(running, /client cancelled/);
    const aborted = new AbortController();
    aborted.abort(new Error('already cancelled'));
    await assert.rejects(index.query(query, aborted.signal), /already cancelled/);
    assert.deepEqual((await index.query({ query: 'brown', limit: 10, mode: 'lexical' })).map((hit) => hit.path), ['notes.md']);
    assert.equal(index.searchThreadsStarted, started + 1, 'the cancelled query cost its thread');
  } finally {
    await service.dispose();
    ws.cleanup();
    cache.cleanup();
  }
});

test('cancelling indexing stops the pass with a warning; the next resync finishes it', async () => {
  const ws = tempDir();
  const cache = tempDir();
  const files: Record<string, string> = {};
  for (let i = 0; i < 2500; i++) files[`m${i % 40}/file${i}.ts`] = `export function cancelProbe${i}(a: number) {\n  return a + ${i};\n}\n`;
  writeTree(ws.dir, files);
  const service = makeService(cache.dir, { watch: false });
  try {
    const index = service.open(ws.dir, true)!;
    await new Promise<void>((resolve) => {
      const onState = (state: string, progress?: { phase: string; done: number }) => {
        if (state === 'indexing' && progress && progress.done > 0) {
          index.off('state', onState);
          index.cancelIndexing();
          resolve();
        }
      };
      index.on('state', onState);
    });
    await index.whenIdle();
    const cut = index.status();
    assert.equal(cut.state, 'ready');
    assert.ok(cut.warnings.some((w) => /cancelled/.test(w)), JSON.stringify(cut.warnings));
    assert.ok(cut.files < 2500 || cut.secondPassPending > 0, `the pass stopped early (${cut.files} files, ${cut.secondPassPending} pending)`);
    index.reindex(true, undefined, 'test');
    await index.whenIdle();
    const done = index.status();
    assert.equal(done.files, 2500);
    assert.equal(done.secondPassPending, 0);
    assert.equal(done.symbols, 2500);
    assert.deepEqual(paths(index, 'cancelProbe2499'), ['m19/file2499.ts']);
  } finally {
    await service.dispose();
    ws.cleanup();
    cache.cleanup();
  }
});

test('a failed watcher is reported, and the periodic resync repairs the index (and restarts the watcher)', async () => {
  const ws = tempDir();
  const cache = tempDir();
  writeTree(ws.dir, tree);
  const service = makeService(cache.dir, { resyncIntervalSeconds: 1 });
  try {
    const index = await openReady(service, ws.dir);
    // The watcher is up once it delivers a change.
    writeFileSync(join(ws.dir, 'src/first.ts'), 'export const watchedOnce = 1;\n');
    await eventually(() => paths(index, 'watchedOnce').length === 1);
    index.injectWatcherFault('inotify watch limit reached (ENOSPC)');
    await eventually(() => index.status().warnings.some((w) => /file watcher: inotify watch limit reached/.test(w) && /periodic resync/.test(w)));
    const indexing: boolean[] = [];
    index.on('synced', (stats) => {
      if (stats.indexed > 0) indexing.push(stats.full);
    });
    writeFileSync(join(ws.dir, 'src/missed.ts'), 'export const missedByWatcher = 1;\n');
    // The commit is visible to searches a moment before the indexer's report of it arrives.
    await eventually(() => paths(index, 'missedByWatcher').length === 1 && indexing.length > 0, 15_000);
    assert.equal(indexing[0], true, 'the dead watcher saw nothing: a full resync found the file');
    // Later saves keep arriving (through the restarted watcher or the next resync).
    writeFileSync(join(ws.dir, 'src/later.ts'), 'export const seenAgain = 1;\n');
    await eventually(() => paths(index, 'seenAgain').length === 1, 15_000);
  } finally {
    await service.dispose();
    ws.cleanup();
    cache.cleanup();
  }
});

test('the directory watcher sees files in directories created after it started, and ignores ignored ones', async () => {
  const ws = tempDir();
  const cache = tempDir();
  writeTree(ws.dir, { ...tree, '.gitignore': 'vendor/\n' });
  const service = makeService(cache.dir);
  try {
    const index = await openReady(service, ws.dir);
    // A nested tree appears at once (mkdir -p and a write, as a checkout or `cp -r` does).
    writeTree(ws.dir, { 'fresh/deep/er/new.ts': 'export const deepNewThing = 1;\n', 'vendor/lib/x.ts': 'export const vendoredThing = 1;\n' });
    await eventually(() => paths(index, 'deepNewThing').length === 1);
    // A file written later inside the new directories arrives through their new watches.
    writeFileSync(join(ws.dir, 'fresh/deep/er/later.ts'), 'export const laterDeepThing = 1;\n');
    await eventually(() => paths(index, 'laterDeepThing').length === 1);
    assert.deepEqual(paths(index, 'vendoredThing'), []);
    rmSync(join(ws.dir, 'fresh'), { recursive: true });
    await eventually(() => paths(index, 'deepNewThing').length === 0 && paths(index, 'laterDeepThing').length === 0);
  } finally {
    await service.dispose();
    ws.cleanup();
    cache.cleanup();
  }
});

test('a substring query while files await the second pass reads only the chunks of the newest of them', () => {
  const cache = tempDir();
  const { db } = openIndexDatabase(join(cache.dir, 'ix.db'), '/nowhere');
  try {
    const plan = (db.prepare(`EXPLAIN QUERY PLAN ${PENDING_SCAN}`).all(10, '%x%', 10) as Array<{ detail: string }>).map((row) => row.detail);
    // Files first (by the partial index of pending files), then their chunks: never every chunk.
    assert.ok(plan.includes('SCAN files USING INDEX files_pending'), plan.join('; '));
    assert.ok(plan.some((step) => step.startsWith('SEARCH c USING INDEX chunks_file')), plan.join('; '));
    assert.ok(!plan.some((step) => step.startsWith('SCAN c')), plan.join('; '));
    // The most recently modified pending files are the ones scanned (a save before the backlog).
    const writer = new IndexWriter(db);
    const chunk = (content: string) => ({ id: content, startLine: 0, endLine: 0, container: [], defines: [], content, words: content });
    db.transaction(() => {
      writer.writeFile('old.txt', { size: 1, mtimeMs: 1000, ino: 1 }, 'h1', 'plaintext', [chunk('needle in old')], [], 2);
      writer.writeFile('new.txt', { size: 1, mtimeMs: 2000, ino: 2 }, 'h2', 'plaintext', [chunk('needle in new')], [], 2);
      writer.writeFile('done.txt', { size: 1, mtimeMs: 3000, ino: 3 }, 'h3', 'plaintext', [chunk('needle in done')], [], 0);
    })();
    const scanned = (files: number) => (db.prepare(PENDING_SCAN).all(files, '%needle%', 10) as Array<{ content: string }>).map((row) => row.content).sort();
    assert.deepEqual(scanned(1), ['needle in new']);
    assert.deepEqual(scanned(PENDING_SCAN_FILES), ['needle in new', 'needle in old']);
  } finally {
    db.close();
    cache.cleanup();
  }
});

test('a save is read in the indexer thread, not handed to a parse thread', async () => {
  const ws = tempDir();
  const cache = tempDir();
  writeTree(ws.dir, tree);
  const { db } = openIndexDatabase(join(cache.dir, 'ix.db'), ws.dir);
  // A pool that must not be asked: a parse thread would first have to start.
  const pool = { size: 1, setLimit: () => undefined, process: () => Promise.reject(new Error('parse pool used for a save')) } as unknown as ParsePool;
  try {
    const context = syncContext(ws.dir, db, pool);
    const stats = await pathSync(context, ['src/user.ts', 'notes.md']);
    assert.equal(stats.indexed, 2);
    assert.deepEqual(hitPaths(new IndexSearcher(db), 'getUserName'), ['notes.md', 'src/user.ts']);
    // More files than a save are the pool's work.
    writeTree(ws.dir, Object.fromEntries(Array.from({ length: INLINE_FILES + 1 }, (_, i) => [`more/f${i}.txt`, `word${i}`])));
    await assert.rejects(pathSync(context, Array.from({ length: INLINE_FILES + 1 }, (_, i) => `more/f${i}.txt`)), /parse pool used/);
  } finally {
    db.close();
    ws.cleanup();
    cache.cleanup();
  }
});

test('the second pass parses on fewer threads than the lexical pass reads on', async () => {
  const ws = tempDir();
  const cache = tempDir();
  const many = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`src/m${i}.ts`, `export function fn${i}(a: number) {\n  return a + ${i};\n}\n`]));
  writeTree(ws.dir, many);
  const { db } = openIndexDatabase(join(cache.dir, 'ix.db'), ws.dir);
  const pool = new ParsePool({ size: 2 });
  let most = 0;
  const process = pool.process.bind(pool);
  pool.process = (request) => {
    const answer = process(request);
    most = Math.max(most, pool.workers);
    return answer;
  };
  try {
    const context = syncContext(ws.dir, db, pool);
    // A cold index starts its parse threads before the scan hands them anything.
    const warm = pool.warm.bind(pool);
    let warmedWith = -1;
    pool.warm = () => {
      warm();
      warmedWith = pool.workers;
    };
    await fullSync(context);
    assert.equal(warmedWith, 2);
    assert.equal(most, 2);
    most = 0;
    await secondPass(context, () => undefined);
    assert.equal(most, SYNTAX_WORKERS);
    assert.equal(searchSymbols(db, 'fn39', 5).length, 1);
    // A limit raised again lets the pool grow back.
    pool.setLimit(2);
    most = 0;
    await Promise.all(Array.from({ length: 8 }, (_, i) => pool.process({ abs: join(ws.dir, `src/m${i}.ts`), rel: `src/m${i}.ts`, maxFileBytes: 1 << 20 })));
    assert.equal(most, 2);
  } finally {
    await pool.close();
    db.close();
    ws.cleanup();
    cache.cleanup();
  }
});
