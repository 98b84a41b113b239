// Messages between a WorkspaceIndex (any thread) and its indexer thread.
import type { IndexCounts } from './store.js';
import type { SkipSummary, SyncStats } from './sync.js';

export type IndexState = 'scanning' | 'indexing' | 'ready' | 'error';

export interface IndexerOptions {
  root: string;
  dbFile: string;
  cacheFile: string;
  maxFileBytes: number;
  parseWorkers: number;
  watch: boolean;
  debounceMs: number;
  burstLimit: number;
  resyncIntervalMs: number;
  /** Set when embeddings are on: the embedder's identity; vectors come from the owning thread. */
  embed?: { modelId: string; dimensions: number; batchSize: number };
}

export interface IndexProgress {
  /** `indexing`: the lexical pass (files become searchable); `syntax`: the syntax-aware pass. */
  phase: 'scanning' | 'indexing' | 'finishing' | 'syntax' | 'embedding';
  done: number;
  total: number;
  bytes: number;
  startedAt: number;
}

export type ToIndexer =
  | { type: 'sync'; id: number; full: boolean; paths?: string[]; reason: string }
  | { type: 'embedded'; id: number; vectors?: Float32Array[]; error?: string }
  | { type: 'configure-embed'; embed: IndexerOptions['embed'] | null }
  | { type: 'cancel' }
  | { type: 'fault'; fault: 'watcher'; message: string }
  | { type: 'stop' };

// Messages that follow writes carry the row counts as of the last commit, so that status never
// has to query the database on the thread that asks (the daemon's main thread).
export type FromIndexer =
  | { type: 'opened'; rebuilt?: string; counts: IndexCounts; rootHash: string; skips?: SkipSummary }
  | { type: 'state'; state: IndexState; progress?: IndexProgress; error?: string; counts: IndexCounts }
  | { type: 'synced'; stats: SyncStats; skips?: SkipSummary; generation: number; counts: IndexCounts }
  | { type: 'embed'; id: number; texts: string[] }
  | { type: 'warning'; message: string }
  | { type: 'log'; level: 'debug' | 'info' | 'warn' | 'error'; message: string; fields?: Record<string, unknown> }
  | { type: 'done'; id: number; counts: IndexCounts }
  | { type: 'stopped' };
