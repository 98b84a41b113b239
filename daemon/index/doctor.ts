// `caret doctor` checks for the index: each workspace database opens and passes SQLite's quick
// check, FTS5 and sqlite-vec load, and the embedder (when one is configured) answers.
import Database from 'better-sqlite3';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as sqliteVec from 'sqlite-vec';
import type { Embedder } from '../models/index.js';

export interface IndexCheck {
  name: string;
  status: 'ok' | 'warn' | 'error';
  detail: string;
  fix?: string;
}

/** Opens a database read-only and checks it; never modifies it. */
export function checkIndexDatabase(file: string, root: string): IndexCheck {
  const name = `index ${root}`;
  if (!existsSync(file)) return { name, status: 'warn', detail: `no index database yet (${file})`, fix: 'It is built when a client opens the workspace, or run `caret index DIR`.' };
  let db;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
    sqliteVec.load(db);
    const check = db.pragma('quick_check(1)', { simple: true });
    if (check !== 'ok') throw new Error(String(check));
    const files = db.prepare('SELECT count(*) FROM files WHERE skip_reason IS NULL').pluck().get() as number;
    const chunks = db.prepare('SELECT count(*) FROM chunks').pluck().get() as number;
    db.prepare("SELECT rowid FROM fts_words WHERE fts_words MATCH 'x' LIMIT 1").all();
    return { name, status: 'ok', detail: `${files} files, ${chunks} chunks (${file})` };
  } catch (error) {
    return {
      name,
      status: 'error',
      detail: `the index database is damaged: ${(error as Error).message} (${file})`,
      fix: 'Run `caret index DIR --rebuild` (or restart the daemon): a damaged index is rebuilt from the workspace.',
    };
  } finally {
    db?.close();
  }
}

export function checkSqliteExtensions(): IndexCheck {
  try {
    const db = new Database(':memory:');
    try {
      sqliteVec.load(db);
      db.exec("CREATE VIRTUAL TABLE t USING fts5(x, tokenize='trigram'); CREATE VIRTUAL TABLE v USING vec0(e float[2])");
      const version = db.prepare('SELECT vec_version()').pluck().get() as string;
      return { name: 'index engine', status: 'ok', detail: `SQLite ${db.prepare('SELECT sqlite_version()').pluck().get() as string} with FTS5 and sqlite-vec ${version}` };
    } finally {
      db.close();
    }
  } catch (error) {
    return { name: 'index engine', status: 'error', detail: `SQLite extensions failed to load: ${(error as Error).message}`, fix: 'Reinstall caret so better-sqlite3 and sqlite-vec match this platform (`npm rebuild better-sqlite3`).' };
  }
}

export async function checkEmbedder(embedder: Embedder | undefined, signal: AbortSignal): Promise<IndexCheck> {
  if (!embedder) return { name: 'index embeddings', status: 'ok', detail: 'off (search is lexical); configure [models.embed] to turn semantic search on' };
  try {
    const [vector] = await embedder.embed(['caret doctor'], signal);
    if (!vector || vector.length !== embedder.dimensions) throw new Error(`returned ${vector?.length ?? 0} dimensions, expected ${embedder.dimensions}`);
    if (vector.some((value) => !Number.isFinite(value))) throw new Error('returned non-finite values');
    return { name: 'index embeddings', status: 'ok', detail: `${embedder.modelId} (${embedder.dimensions} dimensions)` };
  } catch (error) {
    return { name: 'index embeddings', status: 'error', detail: `${embedder.modelId}: ${(error as Error).message}`, fix: 'Check [models.embed] in config.toml and that the model or server is reachable; `caret doctor` shows the models checks too.' };
  }
}

/** Every index database under the cache dir, with the root it indexes (from its meta table). */
export function listIndexDatabases(cacheDir: string): Array<{ file: string; root: string }> {
  const dir = join(cacheDir, 'index');
  let names: string[];
  try {
    names = readdirSync(dir).filter((name) => name.endsWith('.db') && name !== 'embeddings.db');
  } catch {
    return [];
  }
  return names.map((name) => {
    const file = join(dir, name);
    let root = name;
    try {
      const db = new Database(file, { readonly: true, fileMustExist: true });
      try {
        root = (db.prepare("SELECT value FROM meta WHERE key = 'root'").pluck().get() as string | undefined) ?? name;
      } finally {
        db.close();
      }
    } catch {
      // Reported by checkIndexDatabase.
    }
    return { file, root };
  });
}

/** Everything `caret doctor` checks about the index. */
export async function indexDoctorChecks(cacheDir: string, embedder: () => Embedder | undefined): Promise<IndexCheck[]> {
  const checks = [checkSqliteExtensions()];
  for (const { file, root } of listIndexDatabases(cacheDir)) checks.push(checkIndexDatabase(file, root));
  let resolved: Embedder | undefined;
  try {
    resolved = embedder();
  } catch (error) {
    checks.push({ name: 'index embeddings', status: 'error', detail: (error as Error).message, fix: 'Fix [models.embed] in config.toml.' });
    return checks;
  }
  checks.push(await checkEmbedder(resolved, AbortSignal.timeout(15_000)));
  return checks;
}
