// Shared set-up for index tests: temporary workspaces and an IndexService with test settings.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { IndexService, type IndexSettings, type WorkspaceIndex } from '../../daemon/index/index.js';
import type { Embedder } from '../../daemon/models/index.js';

export const quietLog = { debug() {}, info() {}, warn() {}, error() {} };

export const testSettings = (overrides: Partial<IndexSettings> = {}) => ({
  enabled: true,
  maxFileBytes: 1024 * 1024,
  parseWorkers: 2,
  watch: true,
  debounceMs: 30,
  burstLimit: 1000,
  resyncIntervalSeconds: 0,
  embedBatchSize: 16,
  ...overrides,
});

export function tempDir(prefix = 'caret-ix-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(`/tmp/${prefix}`);
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function writeTree(root: string, files: Record<string, string | Buffer>): void {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
}

export function makeService(cacheDir: string, settings: Partial<IndexSettings> = {}, embedder?: Embedder): IndexService {
  return new IndexService({ cacheDir, log: quietLog, settings: () => testSettings(settings), ...(embedder && { embedderFor: () => embedder }) });
}

export async function openReady(service: IndexService, root: string): Promise<WorkspaceIndex> {
  const index = service.open(root, true)!;
  await index.whenIdle();
  return index;
}

/** Polls until `check` returns a truthy value (the watcher path has no completion signal). */
export async function eventually<T>(check: () => T | undefined | false, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(20);
  }
}

export const paths = (index: WorkspaceIndex, query: string, extra: Record<string, unknown> = {}) =>
  index.search({ query, limit: 50, mode: 'lexical', ...extra }).map((hit) => hit.path).sort();
