// Crash safety: `kill -9` a real daemon process at random moments while it indexes (and while
// files change), then check that the database opens, a restarted daemon resyncs it, and the
// result matches an index built cleanly from scratch.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { indexDatabasePath } from '../../daemon/index/index.js';
import { connectUnix, initializeParams, makeTestEnv, sleep, spawnDaemonProcess, waitForExit } from '../helpers/index.js';
import { makeService, openReady, tempDir, writeTree } from './helpers.js';

type Json = Record<string, any>;

function snapshot(file: string): { files: string[]; chunks: string[]; symbols: string[]; rootHash: string } {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    assert.equal(db.pragma('quick_check', { simple: true }), 'ok');
    const rows = (sql: string) => (db.prepare(sql).raw().all() as unknown[][]).map((row) => row.join('|')).sort();
    return {
      files: rows('SELECT path, hash, skip_reason FROM files'),
      chunks: rows('SELECT f.path, c.chunk_id, c.start_line, c.end_line FROM chunks c JOIN files f ON f.id = c.file_id'),
      symbols: rows('SELECT f.path, s.name, s.kind, s.start_line FROM symbols s JOIN files f ON f.id = s.file_id'),
      rootHash: db.prepare("SELECT value FROM meta WHERE key = 'root_hash'").pluck().get() as string,
    };
  } finally {
    db.close();
  }
}

test('kill -9 at random points during indexing: the database opens, resync repairs it, results match a clean index', async () => {
  const testEnv = makeTestEnv();
  const ws = tempDir();
  const cleanCache = tempDir();
  const files: Record<string, string> = {};
  for (let i = 0; i < 2500; i++) {
    files[`pkg${i % 25}/mod${i}.ts`] = `export class Widget${i} {\n  render${i}(value: number) {\n    return value * ${i};\n  }\n}\n` + `// filler ${'x'.repeat(i % 200)}\n`.repeat(1 + (i % 5));
  }
  writeTree(ws.dir, files);
  const seed = Date.now() % 100_000;
  let state = seed;
  const random = () => ((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const dbFile = indexDatabasePath(testEnv.paths.cacheDir, ws.dir);
  try {
    for (let round = 0; round < 4; round++) {
      const daemon = await spawnDaemonProcess(testEnv, [ws.dir]);
      const delay = Math.floor(50 + random() * 1200);
      await sleep(delay);
      // The tree changes under the index too: an edit, a deletion, a new file.
      writeFileSync(join(ws.dir, `pkg1/mod${round * 25 + 1}.ts`), `export const editedInRound${round} = ${round};\n`);
      rmSync(join(ws.dir, `pkg2/mod${round * 25 + 2}.ts`), { force: true });
      writeFileSync(join(ws.dir, `pkg3/new${round}.ts`), `export function addedInRound${round}() {}\n`);
      daemon.kill('SIGKILL');
      await waitForExit(daemon);
      // Whatever moment it died at, the database opens and passes SQLite's check (a daemon
      // killed before it created one leaves nothing to check).
      if (!existsSync(dbFile)) continue;
      const db = new Database(dbFile, { fileMustExist: true });
      assert.equal(db.pragma('quick_check', { simple: true }), 'ok', `round ${round} (seed ${seed}, killed after ${delay} ms)`);
      db.close();
    }
    // A restarted daemon resyncs; its index then equals a clean one.
    const daemon = await spawnDaemonProcess(testEnv, [ws.dir]);
    const connection = await connectUnix(testEnv.paths.socketPath);
    try {
      await connection.sendRequest('initialize', initializeParams());
      connection.sendNotification('initialized', {});
      const uri = pathToFileURL(ws.dir).href;
      const result = (await connection.sendRequest('caret/index/reindex', { roots: [uri], wait: true })) as Json;
      assert.equal(result.indexes[0].state, 'ready');
      const search = (await connection.sendRequest('caret/search', { query: 'addedInRound3', roots: [uri] })) as Json;
      assert.equal(search.results.length, 1);
    } finally {
      connection.dispose();
      daemon.kill('SIGTERM');
      await waitForExit(daemon);
    }
    const service = makeService(cleanCache.dir, { watch: false });
    await openReady(service, ws.dir);
    await service.dispose();
    const repaired = snapshot(dbFile);
    const clean = snapshot(indexDatabasePath(cleanCache.dir, ws.dir));
    assert.equal(repaired.files.length, clean.files.length);
    assert.deepEqual(repaired.files, clean.files);
    assert.deepEqual(repaired.chunks, clean.chunks);
    assert.deepEqual(repaired.symbols, clean.symbols);
    assert.equal(repaired.rootHash, clean.rootHash);
  } finally {
    ws.cleanup();
    cleanCache.cleanup();
    testEnv.cleanup();
  }
});
