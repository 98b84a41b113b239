// Context for completion prompts: a ring buffer of chunks from recently used files (llama.vim's
// idea), evicting near-duplicates, rendered stable-first so a model server's prompt cache hits.
import { editSimilarity } from '../text.js';

export interface ContextChunk {
  filename: string;
  text: string;
}

export class ChunkRing {
  private chunks: ContextChunk[] = [];

  constructor(private readonly capacity = 16, private readonly chunkLines = 64) {}

  /** Adds the lines around `line` of a file the user is working in. */
  add(filename: string, text: string, line: number): void {
    const lines = text.split('\n');
    const start = Math.max(0, line - (this.chunkLines >> 1));
    const chunk = { filename, text: lines.slice(start, start + this.chunkLines).join('\n') };
    if (!chunk.text.trim()) return;
    // A chunk much like one we hold replaces it (the same region, edited since).
    this.chunks = this.chunks.filter((held) => !(held.filename === filename && editSimilarity(held.text.slice(0, 400), chunk.text.slice(0, 400)) > 0.9));
    this.chunks.push(chunk);
    if (this.chunks.length > this.capacity) this.chunks.shift();
  }

  /** Chunks oldest first (stable prefix), excluding `filename`, within `maxChars`. */
  take(maxChars: number, exclude?: string): ContextChunk[] {
    const out: ContextChunk[] = [];
    let used = 0;
    for (let i = this.chunks.length - 1; i >= 0; i--) {
      const chunk = this.chunks[i]!;
      if (chunk.filename === exclude) continue;
      if (used + chunk.text.length > maxChars) break;
      used += chunk.text.length;
      out.unshift(chunk);
    }
    return out;
  }

  get size(): number {
    return this.chunks.length;
  }
}

/** The cursor window: whole lines before and after, within character budgets. */
export function cursorWindow(text: string, offset: number, maxPrefixChars: number, maxSuffixChars: number): { prefix: string; suffix: string } {
  let start = Math.max(0, offset - maxPrefixChars);
  if (start > 0) start = text.indexOf('\n', start) + 1 || offset;
  let end = Math.min(text.length, offset + maxSuffixChars);
  if (end < text.length) {
    const cut = text.lastIndexOf('\n', end);
    end = cut > offset ? cut : end;
  }
  return { prefix: text.slice(start, offset), suffix: text.slice(offset, end) };
}
