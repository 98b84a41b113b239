// The global embedding cache: one SQLite file shared by every workspace, keyed by (chunk id,
// model id). A chunk id is the hash of the chunk's content, so an embedding computed once serves
// every branch, worktree and clone that contains the same code.
import Database from 'better-sqlite3';
import { mkdirSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Db } from './store.js';

export class EmbeddingCache {
  private readonly db: Db;
  private readonly getStatement;
  private readonly putStatement;

  constructor(file: string) {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    this.db = openCache(file);
    this.getStatement = this.db.prepare('SELECT vector FROM embeddings WHERE chunk_id = ? AND model_id = ?').pluck();
    this.putStatement = this.db.prepare('INSERT OR REPLACE INTO embeddings(chunk_id, model_id, vector) VALUES (?, ?, ?)');
  }

  get(chunkId: string, modelId: string): Float32Array | undefined {
    const blob = this.getStatement.get(chunkId, modelId) as Buffer | undefined;
    if (!blob) return undefined;
    return new Float32Array(blob.buffer.slice(blob.byteOffset, blob.byteOffset + blob.byteLength));
  }

  putMany(modelId: string, entries: ReadonlyArray<{ chunkId: string; vector: Float32Array }>): void {
    this.db.transaction(() => {
      for (const { chunkId, vector } of entries) this.putStatement.run(chunkId, modelId, Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength));
    })();
  }

  count(modelId?: string): number {
    return (modelId
      ? this.db.prepare('SELECT count(*) FROM embeddings WHERE model_id = ?').pluck().get(modelId)
      : this.db.prepare('SELECT count(*) FROM embeddings').pluck().get()) as number;
  }

  close(): void {
    this.db.close();
  }
}

function openCache(file: string): Db {
  const open = () => {
    const db = new Database(file);
    db.pragma('busy_timeout = 5000');
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.exec('CREATE TABLE IF NOT EXISTS embeddings (chunk_id TEXT NOT NULL, model_id TEXT NOT NULL, vector BLOB NOT NULL, PRIMARY KEY (chunk_id, model_id)) WITHOUT ROWID');
    db.prepare('SELECT count(*) FROM embeddings LIMIT 1').get();
    return db;
  };
  try {
    return open();
  } catch {
    // A damaged cache only costs recomputation.
    for (const suffix of ['', '-wal', '-shm']) rmSync(file + suffix, { force: true });
    return open();
  }
}
