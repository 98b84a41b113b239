// The per-file edit history that next-edit prediction reads: every change with a timestamp,
// bursts of typing coalesced into one edit. Shared by all connections (one user, many editors),
// keyed by document URI, bounded in files and in edits per file.
import type { TextChange } from './text-document.js';

export interface HistoryEdit extends TextChange {
  uri: string;
  /** Document version after the edit. */
  version: number;
  /** When the (first change of the) edit happened, ms since the epoch. */
  startedAt: number;
  /** When its last change happened. */
  updatedAt: number;
}

export interface EditHistoryOptions {
  /** Changes closer together than this, and touching each other, form one edit. */
  coalesceMs?: number;
  maxEditsPerFile?: number;
  maxFiles?: number;
}

export class EditHistory {
  private readonly files = new Map<string, HistoryEdit[]>();
  private readonly coalesceMs: number;
  private readonly maxEditsPerFile: number;
  private readonly maxFiles: number;

  constructor(options: EditHistoryOptions = {}) {
    this.coalesceMs = options.coalesceMs ?? 1000;
    this.maxEditsPerFile = options.maxEditsPerFile ?? 200;
    this.maxFiles = options.maxFiles ?? 100;
  }

  record(uri: string, version: number, changes: readonly TextChange[], now = Date.now()): void {
    if (changes.length === 0) return;
    let edits = this.files.get(uri);
    if (edits) this.files.delete(uri); // re-insert: Map order is our LRU order
    edits ??= [];
    this.files.set(uri, edits);
    for (const change of changes) {
      const last = edits[edits.length - 1];
      const merged = last && now - last.updatedAt <= this.coalesceMs ? coalesce(last, change) : undefined;
      if (merged) edits[edits.length - 1] = { ...last!, ...merged, version, updatedAt: now };
      else edits.push({ uri, version, startedAt: now, updatedAt: now, ...change });
    }
    // A burst that cancels itself out (type, then delete) leaves no edit.
    const last = edits[edits.length - 1];
    if (last && last.deletedText === last.insertedText) edits.pop();
    if (edits.length > this.maxEditsPerFile) edits.splice(0, edits.length - this.maxEditsPerFile);
    while (this.files.size > this.maxFiles) this.files.delete(this.files.keys().next().value!);
  }

  /** Edits of one file, oldest first. */
  editsOf(uri: string): readonly HistoryEdit[] {
    return this.files.get(uri) ?? [];
  }

  /** The most recent edits across all files, newest first. */
  recent(limit = 20): HistoryEdit[] {
    const all: HistoryEdit[] = [];
    for (const edits of this.files.values()) all.push(...edits);
    return all.sort((a, b) => b.updatedAt - a.updatedAt).slice(0, limit);
  }

  forget(uri: string): void {
    this.files.delete(uri);
  }
}

/**
 * Combines two consecutive changes into one when the second touches the text the first inserted
 * (typing on, backspacing, retyping). Returns undefined when they are apart. Offsets of `first`
 * refer to the text before it; offsets of `second` to the text after `first`.
 */
export function coalesce(first: TextChange, second: TextChange): TextChange | undefined {
  const firstStart = first.offset;
  const firstEnd = first.offset + first.insertedText.length; // in the text after `first`
  const secondStart = second.offset;
  const secondEnd = second.offset + second.deletedText.length;
  if (secondStart > firstEnd || secondEnd < firstStart) return undefined;
  const before = second.deletedText.slice(0, Math.max(0, firstStart - secondStart));
  const afterLength = Math.max(0, secondEnd - firstEnd);
  const after = afterLength ? second.deletedText.slice(second.deletedText.length - afterLength) : '';
  const cutStart = Math.max(secondStart, firstStart) - firstStart;
  const cutEnd = Math.min(secondEnd, firstEnd) - firstStart;
  return {
    offset: Math.min(firstStart, secondStart),
    deletedText: before + first.deletedText + after,
    insertedText: first.insertedText.slice(0, cutStart) + second.insertedText + first.insertedText.slice(cutEnd),
  };
}
