// The daemon-wide index service: one WorkspaceIndex per workspace root, started when a client
// names the root and stopped when no client names it any longer (its database stays, so coming
// back is a quick resync). Roots indexed on explicit request (`caret index DIR`) stay open.
import { cpus } from 'node:os';
import type { Embedder } from '../models/index.js';
import { embeddingCachePath, indexDatabasePath } from './store.js';
import { type IndexLogger, type IndexSettings, WorkspaceIndex } from './workspace-index.js';

export interface IndexServiceOptions {
  cacheDir: string;
  log: IndexLogger;
  /** Effective settings for a root. */
  settings: (root: string) => IndexSettings & { enabled: boolean };
  /** The embedder for a root (the models layer's `embed` role), or undefined: lexical only. */
  embedderFor?: (root: string) => Embedder | undefined;
}

export class IndexService {
  private readonly indexes = new Map<string, { index: WorkspaceIndex; pinned: boolean }>();
  private readonly openListeners = new Set<(index: WorkspaceIndex) => void>();
  private disposed = false;

  constructor(private readonly options: IndexServiceOptions) {}

  private embedderFor(root: string): Embedder | undefined {
    try {
      return this.options.embedderFor?.(root);
    } catch (error) {
      this.options.log.warn('no embedder for the index', { root, error: (error as Error).message });
      return undefined;
    }
  }

  /** The index of a root, started if it is not yet. Undefined when indexing is off for it. */
  open(root: string, pinned = false): WorkspaceIndex | undefined {
    if (this.disposed) return undefined;
    const existing = this.indexes.get(root);
    if (existing) {
      existing.pinned ||= pinned;
      return existing.index;
    }
    const settings = this.options.settings(root);
    if (!settings.enabled && !pinned) return undefined;
    const embedder = this.embedderFor(root);
    const index = new WorkspaceIndex({
      root,
      dbFile: indexDatabasePath(this.options.cacheDir, root),
      cacheFile: embeddingCachePath(this.options.cacheDir),
      settings: { ...settings, parseWorkers: settings.parseWorkers > 0 ? settings.parseWorkers : Math.max(1, Math.min(4, cpus().length)) },
      log: this.options.log,
      ...(embedder && { embedder }),
    });
    this.indexes.set(root, { index, pinned });
    this.options.log.info('indexing workspace', { root, embeddings: embedder?.modelId ?? 'off' });
    for (const listener of this.openListeners) listener(index);
    return index;
  }

  get(root: string): WorkspaceIndex | undefined {
    return this.indexes.get(root)?.index;
  }

  list(): WorkspaceIndex[] {
    return [...this.indexes.values()].map((entry) => entry.index);
  }

  /** Called when a root is no longer named by any client. */
  async release(root: string): Promise<void> {
    const entry = this.indexes.get(root);
    if (!entry || entry.pinned) return;
    this.indexes.delete(root);
    await entry.index.dispose();
  }

  /** Re-reads settings that can change live (the embedder). */
  configChanged(): void {
    for (const [root, { index }] of this.indexes) index.setEmbedder(this.embedderFor(root));
  }

  onOpen(listener: (index: WorkspaceIndex) => void): () => void {
    this.openListeners.add(listener);
    return () => this.openListeners.delete(listener);
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    const all = [...this.indexes.values()];
    this.indexes.clear();
    await Promise.all(all.map((entry) => entry.index.dispose()));
  }
}
