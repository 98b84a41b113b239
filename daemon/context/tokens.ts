// Token counting for budgets: the model's own tokenizer when caret has it (onnx), else an
// estimate shaped like BPE on code and calibrated against token counts the provider reports.
import type { TokenCounter } from '../models/index.js';

/**
 * Estimates tokens the way BPE vocabularies split code: each part of an identifier (camelCase
 * humps, snake_case words) about one token per six letters, digits one per three, each other
 * symbol one, a newline with its indentation one, and a single space nothing (it joins the next
 * word). `scale` calibrates it to a particular model.
 */
export class EstimatedTokenCounter implements TokenCounter {
  private samples = 0;
  // Snippets and cursor-window lines recur from keystroke to keystroke; counting is a regex scan.
  private readonly cache = new Map<string, number>();
  constructor(private scale = 1) {}

  countTokens(text: string): number {
    return Math.ceil(this.raw(text) * this.scale);
  }

  private raw(text: string): number {
    if (text.length < 24) return rawEstimate(text);
    let count = this.cache.get(text);
    if (count === undefined) {
      count = rawEstimate(text);
      if (this.cache.size >= 4096) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(text, count);
    }
    return count;
  }

  /**
   * Teaches the estimate a real count (e.g. usage.promptTokens for a prompt of known text). The
   * scale is a running mean over the first samples, then an exponential average, so it settles
   * fast and still follows a model change.
   */
  observe(text: string, actualTokens: number): void {
    const raw = this.raw(text);
    if (raw < 16 || actualTokens <= 0) return;
    const ratio = actualTokens / raw;
    this.samples++;
    const weight = Math.max(1 / this.samples, 0.1);
    this.scale = this.scale * (1 - weight) + ratio * weight;
  }

  get calibration(): number {
    return this.scale;
  }
}

const pieces = /[A-Za-z_]+|[0-9]+|\s+|[^\sA-Za-z0-9_]/gu;
// Identifier parts: camelCase humps, runs of capitals, and lower-case words.
const identifierParts = /[A-Z]+(?![a-z])|[A-Z]?[a-z]+|_+/g;

export function rawEstimate(text: string): number {
  let tokens = 0;
  for (const match of text.matchAll(pieces)) {
    const piece = match[0];
    const first = piece.charCodeAt(0);
    if (/\s/.test(piece[0]!)) {
      // A single space merges into the next word's token; newline plus indentation is one token.
      if (piece !== ' ') tokens += 1;
    } else if (first >= 48 && first <= 57) tokens += Math.ceil(piece.length / 3);
    else if (/[A-Za-z_]/.test(piece[0]!)) {
      for (const part of piece.match(identifierParts) ?? [piece]) tokens += Math.max(1, Math.round(part.length / 6));
    } else tokens += first > 0x7f ? 2 : 1; // non-ASCII symbols often take two
  }
  return tokens;
}
