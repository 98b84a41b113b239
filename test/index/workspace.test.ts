// The index end to end in one process: real files, real SQLite, real worker threads and a real
// file watcher (inotify).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, chmodSync, cpSync, mkdirSync, openSync, closeSync, ftruncateSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { indexDatabasePath } from '../../daemon/index/index.js';
import { processFile } from '../../daemon/index/process-file.js';
import { eventually, makeService, openReady, paths, tempDir, writeTree } from './helpers.js';

const sample = {
  '.gitignore': 'node_modules/\n*.log\nbuild\n!keep.log\n',
  'src/user.ts': 'export class UserService {\n  getUserName(id: number): string {\n    return `user_${id}`;\n  }\n}\nexport const parse_config_file = (p: string) => p;\n',
  'src/nested/.gitignore': 'secret.ts\n',
  'src/nested/secret.ts': 'export const hiddenThing = 1;\n',
  'src/nested/visible.py': 'class Greeter:\n    def say_hello(self):\n        return "hello"\n',
  'src/lib.rs': 'pub struct Point { x: i32 }\nimpl Point {\n    pub fn norm_squared(&self) -> i32 { self.x * self.x }\n}\n',
  'src/main.go': 'package main\n\nfunc computeTotal(a int) int { return a }\n',
  'notes.md': '# Notes\nThe quick brown fox mentions getUserName too.\n',
  'app.log': 'ignored log line uniqueLogToken\n',
  'keep.log': 'kept log line keptLogToken\n',
  'node_modules/pkg/index.js': 'module.exports = nodeModulesToken;\n',
  'build/out.js': 'buildToken();\n',
  'excluded/by-info.ts': 'infoExcludeToken\n',
  'caret-only/skip.ts': 'caretIgnoreToken\n',
  '.caretignore': 'caret-only/\n',
  '.git/info/exclude': 'excluded/\n',
  '.git/HEAD': 'ref: refs/heads/main\n',
};

test('scan honours ignore files at every level, counts skips, and search finds every spelling', async () => {
  const ws = tempDir();
  const cache = tempDir();
  writeTree(ws.dir, sample);
  writeFileSync(join(ws.dir, 'image.bin'), Buffer.from([1, 2, 0, 3, 4]));
  writeFileSync(join(ws.dir, 'big.txt'), 'x'.repeat(3000));
  symlinkSync('/etc/hostname', join(ws.dir, 'outside-link'));
  symlinkSync(join(ws.dir, 'loop-b'), join(ws.dir, 'loop-a'));
  symlinkSync(join(ws.dir, 'loop-a'), join(ws.dir, 'loop-b'));
  symlinkSync(join(ws.dir, 'src'), join(ws.dir, 'src-link'));
  const service = makeService(cache.dir, { maxFileBytes: 2048 });
  try {
    const index = await openReady(service, ws.dir);
    const status = index.status();
    assert.equal(status.state, 'ready');
    assert.equal(status.error, undefined);
    assert.deepEqual(status.skipped, { ignored: 7, binary: 1, 'too-large': 1, 'symlink-outside-root': 1, 'symlink-loop': 2, 'symlink-in-root': 1 });
    assert.ok(status.skippedExamples.ignored!.includes('node_modules'));
    assert.match(status.rootHash, /^[0-9a-f]{32}$/);
    for (const hidden of ['uniqueLogToken', 'nodeModulesToken', 'buildToken', 'hiddenThing', 'infoExcludeToken', 'caretIgnoreToken']) {
      assert.deepEqual(paths(index, hidden), [], `${hidden} should be ignored`);
    }
    assert.deepEqual(paths(index, 'keptLogToken'), ['keep.log']);
    // Identifiers in all their forms and parts, and substrings.
    for (const query of ['getUserName', 'get_user_name', 'GetUserName', 'userName', 'getUser']) {
      assert.deepEqual(paths(index, query), ['notes.md', 'src/user.ts'], query);
    }
    assert.deepEqual(paths(index, 'parseConfigFile'), ['src/user.ts']);
    assert.deepEqual(paths(index, 'config'), ['src/user.ts']);
    assert.deepEqual(paths(index, 'ck brown f'), ['notes.md']);
    assert.deepEqual(paths(index, 'say_hello'), ['src/nested/visible.py']);
    // FTS5 syntax is text, never an error.
    for (const query of ['"unbalanced', 'a AND OR NOT', 'NEAR(a b)', '*', 'col:value', '(((', '^start', "'; DROP TABLE chunks; --"]) {
      assert.doesNotThrow(() => index.search({ query, limit: 5, mode: 'lexical' }), query);
    }
    // Filters.
    assert.deepEqual(paths(index, 'getUserName', { paths: ['src/**'] }), ['src/user.ts']);
    assert.deepEqual(paths(index, 'getUserName', { languages: ['markdown'] }), ['notes.md']);
    assert.deepEqual(paths(index, 'getUserName', { paths: ['!*.md'] }), ['src/user.ts']);
    // The best match's position and the enclosing symbol.
    const [hit] = index.search({ query: 'getUserName', limit: 1, mode: 'lexical', paths: ['*.ts'] });
    assert.equal(hit!.matchLine, 1);
    assert.equal(hit!.matchStart, 2);
    assert.equal(hit!.matchEnd, 13);
    assert.ok(hit!.snippet.includes('getUserName(id: number)'));
    // Symbols from several grammars.
    const names = (query: string) => index.symbols(query, 20).map((s) => `${s.container ? s.container + '.' : ''}${s.name}:${s.kind}`);
    assert.deepEqual(names('getusername'), ['UserService.getUserName:6']);
    assert.deepEqual(names('UserService'), ['UserService:5']);
    assert.deepEqual(names('say_hello'), ['Greeter.say_hello:12']);
    assert.deepEqual(names('norm_squared'), ['Point.norm_squared:12']);
    assert.deepEqual(names('computeTotal'), ['computeTotal:12']);
    assert.deepEqual(names('parse_config'), ['parse_config_file:12']);
    assert.deepEqual(index.symbols('point', 10).map((s) => s.name), ['Point', 'Point']);
  } finally {
    await service.dispose();
    ws.cleanup();
    cache.cleanup();
  }
});

test('identical trees give the same root hash; a no-change resync re-reads nothing', async () => {
  const a = tempDir();
  const b = tempDir();
  const cache = tempDir();
  writeTree(a.dir, sample);
  cpSync(a.dir, b.dir, { recursive: true });
  const service = makeService(cache.dir, { watch: false });
  try {
    const first = await openReady(service, a.dir);
    const second = await openReady(service, b.dir);
    assert.equal(first.status().rootHash, second.status().rootHash);
    first.reindex();
    await first.whenIdle();
    assert.equal(first.lastSync!.reread, 0);
    assert.equal(first.lastSync!.indexed, 0);
    // Same bytes, new mtime: read again, found unchanged, not re-chunked.
    writeFileSync(join(a.dir, 'notes.md'), sample['notes.md']);
    appendFileSync(join(a.dir, 'src/main.go'), '// more\n');
    first.reindex();
    await first.whenIdle();
    assert.equal(first.lastSync!.reread, 2);
    assert.equal(first.lastSync!.indexed, 1);
    assert.notEqual(first.status().rootHash, second.status().rootHash);
    // Reopening the database (a daemon restart) keeps everything.
    await service.dispose();
    const restarted = makeService(cache.dir, { watch: false });
    const reopened = await openReady(restarted, a.dir);
    assert.equal(reopened.lastSync!.reread, 0);
    assert.deepEqual(paths(reopened, 'computeTotal'), ['src/main.go']);
    await restarted.dispose();
  } finally {
    await service.dispose();
    for (const dir of [a, b, cache]) dir.cleanup();
  }
});

test('the watcher indexes saves, deletions, renames and ignore-file changes', async () => {
  const ws = tempDir();
  const cache = tempDir();
  writeTree(ws.dir, sample);
  const service = makeService(cache.dir);
  try {
    const index = await openReady(service, ws.dir);
    writeFileSync(join(ws.dir, 'src/fresh.ts'), 'export function zanzibarQuux() {}\n');
    await eventually(() => paths(index, 'zanzibarQuux').length === 1);
    // Symbols come with the syntax pass, right after the file became searchable.
    await eventually(() => index.symbols('zanzibarQuux', 5).length === 1);
    assert.deepEqual(index.symbols('zanzibarQuux', 5).map((s) => s.path), ['src/fresh.ts']);
    renameSync(join(ws.dir, 'src/fresh.ts'), join(ws.dir, 'src/renamed.ts'));
    await eventually(() => paths(index, 'zanzibarQuux').join() === 'src/renamed.ts');
    unlinkSync(join(ws.dir, 'src/renamed.ts'));
    await eventually(() => paths(index, 'zanzibarQuux').length === 0);
    assert.deepEqual(index.symbols('zanzibarQuux', 5), []);
    rmSync(join(ws.dir, 'src/nested'), { recursive: true });
    await eventually(() => paths(index, 'say_hello').length === 0);
    // An ignore file changing re-applies the rules to the whole tree.
    appendFileSync(join(ws.dir, '.gitignore'), 'notes.md\n');
    await eventually(() => paths(index, 'brown').length === 0);
    // The skip counts come with the indexer's report of the sync, a moment after its commit.
    await eventually(() => index.status().skipped.ignored! >= 7);
  } finally {
    await service.dispose();
    ws.cleanup();
    cache.cleanup();
  }
});

test('a burst of thousands of changes becomes one full resync', async () => {
  const ws = tempDir();
  const cache = tempDir();
  writeTree(ws.dir, { 'a.ts': 'const a = 1;\n' });
  const service = makeService(cache.dir, { burstLimit: 200, debounceMs: 200 });
  try {
    const index = await openReady(service, ws.dir);
    const syncs: boolean[] = [];
    index.on('synced', (stats) => syncs.push(stats.full));
    for (let i = 0; i < 3000; i++) writeTree(ws.dir, { [`gen/d${i % 30}/f${i}.ts`]: `export const burstValue${i} = ${i};\n` });
    await eventually(() => index.status().files === 3001 && index.state === 'ready', 30_000);
    assert.deepEqual(paths(index, 'burstValue2999'), ['gen/d29/f2999.ts']);
    assert.ok(syncs.includes(true), 'a full resync ran');
    assert.ok(syncs.length <= 6, `${syncs.length} syncs for 3000 files`);
  } finally {
    await service.dispose();
    ws.cleanup();
    cache.cleanup();
  }
});

test('bad input: invalid UTF-8, a file grown to 1 GB, unreadable and vanished files', async () => {
  const ws = tempDir();
  const cache = tempDir();
  writeTree(ws.dir, { 'latin1.txt': Buffer.concat([Buffer.from('caf'), Buffer.from([0xe9]), Buffer.from(' latinToken\n')]), 'ok.ts': 'const fine = 1;\n' });
  const service = makeService(cache.dir, { watch: false });
  try {
    const index = await openReady(service, ws.dir);
    assert.deepEqual(paths(index, 'latinToken'), ['latin1.txt']);
    // A file that grows to 1 GB (sparse) is skipped without being read.
    const fd = openSync(join(ws.dir, 'ok.ts'), 'r+');
    ftruncateSync(fd, 1024 ** 3);
    closeSync(fd);
    const before = process.memoryUsage().rss;
    index.reindex();
    await index.whenIdle();
    assert.equal(index.status().skipped['too-large'], 1);
    assert.deepEqual(paths(index, 'fine'), []);
    assert.ok(process.memoryUsage().rss - before < 200 * 1024 * 1024);
    // A file listed by the scan but gone before it is read, or unreadable.
    assert.deepEqual(await processFile({ abs: join(ws.dir, 'nope'), rel: 'nope', maxFileBytes: 100 }), { kind: 'gone' });
    mkdirSync(join(ws.dir, 'was-a-file'));
    assert.equal((await processFile({ abs: join(ws.dir, 'was-a-file'), rel: 'was-a-file', maxFileBytes: 100 })).kind, 'skipped');
    if (process.getuid?.() !== 0) {
      writeFileSync(join(ws.dir, 'locked.ts'), 'lockedToken\n');
      chmodSync(join(ws.dir, 'locked.ts'), 0);
      index.reindex();
      await index.whenIdle();
      assert.equal(index.status().skipped.unreadable, 1);
    }
  } finally {
    await service.dispose();
    ws.cleanup();
    cache.cleanup();
  }
});

test('files deleted and changed while the scan runs leave a consistent index', async () => {
  const ws = tempDir();
  const cache = tempDir();
  for (let i = 0; i < 1500; i++) writeTree(ws.dir, { [`d${i % 10}/f${i}.ts`]: `export const churn${i} = ${i};\n` });
  const service = makeService(cache.dir, { watch: false });
  try {
    const index = service.open(ws.dir, true)!;
    // Delete and rewrite files while the first sync is under way.
    for (let i = 0; i < 1500; i += 3) rmSync(join(ws.dir, `d${i % 10}/f${i}.ts`), { force: true });
    for (let i = 1; i < 1500; i += 3) writeFileSync(join(ws.dir, `d${i % 10}/f${i}.ts`), `export const rewritten${i} = ${i};\n`);
    await index.whenIdle();
    index.reindex();
    await index.whenIdle();
    assert.equal(index.state, 'ready');
    assert.equal(index.status().files, 1000);
    assert.deepEqual(paths(index, 'churn0'), []);
    assert.equal(index.search({ query: 'rewritten4', limit: 1, mode: 'lexical' })[0]!.path, 'd4/f4.ts');
    assert.equal(index.search({ query: 'churn2', limit: 1, mode: 'lexical' })[0]!.path, 'd2/f2.ts');
    assert.equal(index.search({ query: 'churn5', limit: 1, mode: 'lexical' })[0]!.path, 'd5/f5.ts');
  } finally {
    await service.dispose();
    ws.cleanup();
    cache.cleanup();
  }
});

test('a root that disappears puts the index in error; it recovers when the root is back', async () => {
  const parent = tempDir();
  const cache = tempDir();
  const root = join(parent.dir, 'ws');
  writeTree(root, { 'a.ts': 'export const rootToken = 1;\n' });
  const service = makeService(cache.dir, { watch: false });
  try {
    const index = await openReady(service, root);
    renameSync(root, join(parent.dir, 'moved'));
    index.reindex();
    await index.whenIdle();
    assert.equal(index.state, 'error');
    assert.match(index.status().error!, /cannot be read.*moved, deleted or unmounted/);
    // Searches still answer from the last index.
    assert.deepEqual(paths(index, 'rootToken'), ['a.ts']);
    renameSync(join(parent.dir, 'moved'), root);
    index.reindex();
    await index.whenIdle();
    assert.equal(index.state, 'ready');
    assert.equal(index.status().error, undefined);
  } finally {
    await service.dispose();
    parent.cleanup();
    cache.cleanup();
  }
});

test('a corrupted database is rebuilt with a warning, never a crash', async () => {
  const ws = tempDir();
  const cache = tempDir();
  writeTree(ws.dir, { 'a.ts': 'export const survivorToken = 1;\n' });
  const file = indexDatabasePath(cache.dir, ws.dir);
  for (const damage of ['garbage', 'truncated-pages']) {
    let service = makeService(cache.dir, { watch: false });
    await openReady(service, ws.dir);
    await service.dispose();
    if (damage === 'garbage') writeFileSync(file, 'this is not a database at all'.repeat(100));
    else {
      // Overwrite pages in the middle of a real database.
      const db = new Database(file);
      db.pragma('wal_checkpoint(TRUNCATE)');
      db.close();
      const fd = openSync(file, 'r+');
      const junk = Buffer.alloc(4096 * 3, 0xab);
      const { writeSync } = await import('node:fs');
      writeSync(fd, junk, 0, junk.length, 4096);
      closeSync(fd);
    }
    service = makeService(cache.dir, { watch: false });
    try {
      const index = await openReady(service, ws.dir);
      assert.equal(index.state, 'ready', damage);
      assert.match(index.status().warnings.join('\n'), /unusable.*rebuilt/, damage);
      assert.deepEqual(paths(index, 'survivorToken'), ['a.ts'], damage);
    } finally {
      await service.dispose();
    }
  }
  ws.cleanup();
  cache.cleanup();
});
