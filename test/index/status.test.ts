// `caret/index/status` answers from the counts the indexer thread reports, with no SQL on the
// caller's thread: the same numbers a direct count gives, never ahead of what is committed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { countRows, getMeta, IndexWriter, openIndexDatabase, openReader, SecondPass } from '../../daemon/index/store.js';
import type { WorkspaceIndex } from '../../daemon/index/index.js';
import { makeService, openReady, tempDir, writeTree } from './helpers.js';

function directCounts(index: WorkspaceIndex) {
  const db = openReader(index.status().database);
  try {
    return { ...countRows(db), rootHash: getMeta(db, 'root_hash') ?? '' };
  } finally {
    db.close();
  }
}

/** A direct count, or nothing while the indexer is still creating the database. */
function committedCounts(index: WorkspaceIndex) {
  try {
    return directCounts(index);
  } catch (error) {
    if (/no such table/.test((error as Error).message)) return undefined;
    throw error;
  }
}

const reported = (index: WorkspaceIndex) => {
  const status = index.status();
  return { files: status.files, chunks: status.chunks, symbols: status.symbols, pending: status.secondPassPending, rootHash: status.rootHash };
};

function sourceTree(count: number): Record<string, string> {
  const files: Record<string, string> = {};
  for (let i = 0; i < count; i++) files[`d${i % 12}/unit${i}.ts`] = `export function statusProbe${i}(a: number) {\n  return a * ${i};\n}\nexport class Holder${i} {}\n`;
  files['README.md'] = '# Status probe\n';
  return files;
}

test('status counts equal a direct count after indexing and after a resync with deletions, and status runs no SQL', async () => {
  const ws = tempDir();
  const cache = tempDir();
  writeTree(ws.dir, sourceTree(300));
  writeFileSync(join(ws.dir, 'blob.bin'), Buffer.from([0, 1, 2, 0, 3]));
  const service = makeService(cache.dir, { watch: false });
  try {
    const index = await openReady(service, ws.dir);
    const direct = directCounts(index);
    const { embedded: _embedded, ...expected } = direct;
    assert.equal(expected.files, 301);
    assert.equal(expected.symbols, 600);
    assert.deepEqual(reported(index), expected);

    for (let i = 0; i < 40; i++) rmSync(join(ws.dir, `d${i % 12}/unit${i}.ts`));
    rmSync(join(ws.dir, 'd11'), { recursive: true });
    writeFileSync(join(ws.dir, 'd0/unit48.ts'), 'export const onlyOneSymbolNow = 1;\n');
    writeFileSync(join(ws.dir, 'd1/unit49.ts'), Buffer.from([0, 0, 1, 2]));
    index.reindex(true, undefined, 'test');
    await index.whenIdle();
    const { embedded: _after, ...afterDeletions } = directCounts(index);
    assert.ok(afterDeletions.files < expected.files - 40, JSON.stringify(afterDeletions));
    assert.deepEqual(reported(index), afterDeletions);

    // Status reads what the indexer reported: no statement is prepared on this thread.
    const prepare = Database.prototype.prepare;
    let prepared = 0;
    Database.prototype.prepare = function (this: Database.Database, ...args: Parameters<typeof prepare>) {
      prepared++;
      return prepare.apply(this, args);
    } as typeof prepare;
    try {
      index.status();
    } finally {
      Database.prototype.prepare = prepare;
    }
    assert.equal(prepared, 0);
  } finally {
    await service.dispose();
    ws.cleanup();
    cache.cleanup();
  }
});

test('during a cold index status counts only grow and are never ahead of the committed rows', async () => {
  const ws = tempDir();
  const cache = tempDir();
  writeTree(ws.dir, sourceTree(1500));
  const service = makeService(cache.dir, { watch: false });
  try {
    const index = service.open(ws.dir, true)!;
    let idle = false;
    const finished = index.whenIdle().then(() => (idle = true));
    let last = { files: 0, symbols: 0 };
    let samples = 0;
    while (!idle) {
      const status = index.status();
      // Counted after status answered: rows only grow during a cold index, so a status that
      // reported uncommitted rows would be ahead of this count.
      const direct = existsSync(status.database) ? committedCounts(index) : undefined;
      if (direct) {
        assert.ok(status.files <= direct.files, `files ${status.files} > committed ${direct.files}`);
        assert.ok(status.symbols <= direct.symbols, `symbols ${status.symbols} > committed ${direct.symbols}`);
        assert.ok(status.files >= last.files && status.symbols >= last.symbols, `counts went back: ${JSON.stringify(last)} -> ${status.files}/${status.symbols}`);
        last = { files: status.files, symbols: status.symbols };
        samples++;
      }
      await sleep(5);
    }
    await finished;
    const { embedded: _embedded, ...expected } = directCounts(index);
    assert.deepEqual(reported(index), expected);
    assert.equal(expected.files, 1501);
    assert.ok(samples > 0);
  } finally {
    await service.dispose();
    ws.cleanup();
    cache.cleanup();
  }
});

test('the writer keeps counts through rewrites, skips, removals and the second pass, and a rolled-back transaction leaves them unchanged', () => {
  const dir = tempDir();
  const { db } = openIndexDatabase(join(dir.dir, 'index.db'), dir.dir);
  try {
    const writer = new IndexWriter(db);
    const stat = { size: 10, mtimeMs: 1, ino: 1 };
    const chunk = (n: number) => ({ id: `c${n}`, startLine: n, endLine: n, container: [], defines: [], content: `line ${n}`, words: `line${n}` });
    const symbol = (name: string) => ({ name, kind: 12, startLine: 0, endLine: 0, nameLine: 0, nameCharacter: 0, container: '' });
    const check = () => assert.deepEqual(writer.counts, countRows(db));
    writer.transaction(() => {
      writer.writeFile('a.ts', stat, 'h1', 'typescript', [chunk(1), chunk(2)], [symbol('a')], SecondPass.Parse);
      writer.writeFile('b.ts', stat, 'h2', 'typescript', [chunk(3)], [], SecondPass.Trigrams);
      writer.writeFile('c.ts', stat, 'h3', 'typescript', [chunk(4)], [symbol('c'), symbol('d')]);
      writer.writeSkipped('blob.bin', stat, 'binary', 'h4');
    })();
    check();
    assert.deepEqual(writer.counts, { files: 3, chunks: 4, symbols: 3, pending: 2, embedded: 0 });
    const bId = db.prepare("SELECT id FROM files WHERE path = 'b.ts'").pluck().get() as number;
    writer.transaction(() => {
      writer.addTrigrams(bId);
      writer.addTrigrams(bId);
      writer.writeFile('a.ts', stat, 'h5', 'typescript', [chunk(5)], [symbol('a'), symbol('b')]);
      writer.writeSkipped('c.ts', stat, 'too-large', null);
      writer.writeFile('blob.bin', stat, 'h6', 'plaintext', [chunk(6)], [], SecondPass.Trigrams);
      writer.removeFile('b.ts');
      writer.removeFile('never-indexed.ts');
    })();
    check();
    assert.deepEqual(writer.counts, { files: 2, chunks: 2, symbols: 2, pending: 1, embedded: 0 });
    const failing = writer.transaction(() => {
      writer.removeFile('a.ts');
      writer.writeFile('d.ts', stat, 'h7', 'typescript', [chunk(7)], [symbol('x')], SecondPass.Parse);
      assert.notDeepEqual(writer.counts, countRows(db), 'inside the transaction the writes are not committed yet');
      throw new Error('disk full');
    });
    assert.throws(failing, /disk full/);
    check();
    assert.deepEqual(writer.counts, { files: 2, chunks: 2, symbols: 2, pending: 1, embedded: 0 });
  } finally {
    db.close();
    dir.cleanup();
  }
});
