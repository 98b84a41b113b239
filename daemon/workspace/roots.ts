// Workspace roots come from clients as URIs (workspaceFolders, rootUri); caret keys everything by
// the folder's canonical path.
import { fileURLToPath, pathToFileURL } from 'node:url';
import { canonicalPath } from './trust.js';

/** The canonical path of a file: URI, or undefined for other schemes. */
export function rootPathOf(uri: string): string | undefined {
  if (!uri.startsWith('file:')) return undefined;
  try {
    return canonicalPath(fileURLToPath(uri));
  } catch {
    return undefined;
  }
}

export const pathToUri = (path: string): string => pathToFileURL(path).href;

/**
 * The workspace roots of every connection, counted: a root stays while any connection names it.
 * Capabilities subscribe to hear of roots coming and going (the index starts indexing a root
 * the moment the first client names it).
 */
export class WorkspaceRoots {
  private readonly counts = new Map<string, number>();
  private readonly listeners = { added: new Set<(root: string) => void>(), removed: new Set<(root: string) => void>() };

  add(root: string): void {
    const count = this.counts.get(root) ?? 0;
    this.counts.set(root, count + 1);
    if (count === 0) for (const listener of this.listeners.added) listener(root);
  }

  remove(root: string): void {
    const count = this.counts.get(root);
    if (count === undefined) return;
    if (count > 1) {
      this.counts.set(root, count - 1);
      return;
    }
    this.counts.delete(root);
    for (const listener of this.listeners.removed) listener(root);
  }

  list(): string[] {
    return [...this.counts.keys()];
  }

  /** Subscribes; returns the unsubscribe function. */
  on(event: 'added' | 'removed', listener: (root: string) => void): () => void {
    this.listeners[event].add(listener);
    return () => this.listeners[event].delete(listener);
  }
}
