// Builders for the elements a completion prompt is made of, from what the daemon already keeps:
// the edit history (recent edits) and a ring of snippets from files the user looked at (open
// files, as llama.vim keeps them). Both give elements a stable `order`, so the rendered prompt
// only grows at its end while the user works.
import type { PromptLeaf } from './elements.js';
import { meaningfulLines, containment } from './similarity.js';

/** An edit as the edit history records it (offsets in the text before the edit). */
export interface EditRecord {
  uri: string;
  offset: number;
  deletedText: string;
  insertedText: string;
  startedAt: number;
}

export interface EditElementOptions {
  /** Display path of a document (relative to its root). */
  pathOf: (uri: string) => string;
  /** Most edits to include, newest kept (default 8). */
  limit?: number;
  /** Longest text of one side of an edit, in characters; longer sides are shortened (default 600). */
  maxSideChars?: number;
}

/**
 * Recent edits as `-`/`+` line pairs, oldest first (a new edit appends to the prompt). Edits that
 * change nothing visible (whitespace only) are left out.
 */
export function editElements(edits: readonly EditRecord[], options: EditElementOptions): PromptLeaf[] {
  const limit = options.limit ?? 8;
  const maxSide = options.maxSideChars ?? 600;
  const shorten = (text: string) => (text.length > maxSide ? `${text.slice(0, maxSide)}…` : text);
  return [...edits]
    .filter((edit) => edit.deletedText.trim() !== edit.insertedText.trim())
    .sort((a, b) => b.startedAt - a.startedAt)
    .slice(0, limit)
    .reverse()
    .map((edit) => {
      const lines = [
        ...(edit.deletedText ? shorten(edit.deletedText).split('\n').map((line) => `-${line}`) : []),
        ...(edit.insertedText ? shorten(edit.insertedText).split('\n').map((line) => `+${line}`) : []),
      ];
      return {
        id: `edit:${edit.uri}:${edit.startedAt}:${edit.offset}`,
        kind: 'recentEdit' as const,
        path: options.pathOf(edit.uri),
        order: edit.startedAt,
        text: lines.join('\n'),
      };
    });
}

export interface RingSnippet {
  path: string;
  /** First line, 0-based, and the line after the last. */
  start: number;
  end: number;
  text: string;
}

/**
 * A bounded ring of code snippets from files the user visited. Adding a snippet evicts those it
 * nearly duplicates (so the ring holds distinct code) and, when full, the oldest. Each snippet
 * keeps the sequence number it entered with: its place in the prompt does not move until it
 * leaves the ring.
 */
export class SnippetRing {
  private entries: Array<RingSnippet & { seq: number; lines: Set<string> }> = [];
  private seq = 0;

  constructor(
    private readonly capacity = 16,
    private readonly duplicateThreshold = 0.9,
  ) {}

  add(snippet: RingSnippet): void {
    const lines = meaningfulLines(snippet.text);
    if (lines.size === 0) return;
    const same = this.entries.find((entry) => entry.path === snippet.path && entry.start === snippet.start && entry.text === snippet.text);
    if (same) return; // unchanged: keep its place
    this.entries = this.entries.filter((entry) => containment(entry.lines, lines) < this.duplicateThreshold);
    this.entries.push({ ...snippet, seq: this.seq++, lines });
    if (this.entries.length > this.capacity) this.entries.splice(0, this.entries.length - this.capacity);
  }

  /** Drops the snippets of a file (closed or deleted). */
  forget(path: string): void {
    this.entries = this.entries.filter((entry) => entry.path !== path);
  }

  get size(): number {
    return this.entries.length;
  }

  /** The ring as prompt elements, oldest first. */
  elements(): PromptLeaf[] {
    return this.entries.map((entry) => ({
      id: `ring:${entry.path}:${entry.start}`,
      kind: 'openFile' as const,
      path: entry.path,
      lines: { start: entry.start, end: entry.end },
      order: entry.seq,
      text: entry.text,
    }));
  }
}
