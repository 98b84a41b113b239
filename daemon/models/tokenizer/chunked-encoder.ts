// Encodes prompts that mostly repeat the previous one without re-tokenizing all of it. A prompt
// is cut where a line starts with a non-space character; each piece is encoded once and cached by
// its text, so a keystroke re-encodes only the piece it touched. Pre-tokenizers of code models
// (byte-level BPE split patterns) never merge across such a point, but some tokenizers do (a
// normaliser that prepends a marker to the text, an added token that strips the space before it),
// so the cut is trusted only after it reproduced the full encoding of a test text, and it is
// checked against the full encoding again every `auditEvery` calls; a mismatch turns it off.
import type { ModelTokenizer } from './tokenizer.js';

const selfTest = [
  'import { join } from "node:path";\n\nexport function main(argv: string[]): number {\n  const x = argv.length;\n',
  '  if (x > 1) {\n    return 0;\n  }\n\treturn 1; // done\r\n}\n\n\n# comment héllo 日本語 🎉\nclass A:\n    def f(self):\n        pass\n',
  ')\n]\n}\n"str"\n\'c\'\n  \n12345\n<|endoftext|>\n',
].join('');

export class ChunkedEncoder {
  private readonly cache = new Map<string, number[]>();
  private readonly head: number[];
  private readonly tail: number[];
  private calls = 0;
  /** Whether prompts are encoded piecewise (false: every call encodes the whole text). */
  enabled: boolean;

  constructor(private readonly tokenizer: Pick<ModelTokenizer, 'encode'>, private readonly capacity = 8192, private readonly auditEvery = 64) {
    // The special tokens the tokenizer's template adds around a text (BOS, or [CLS] ... [SEP]).
    const bare = tokenizer.encode('a', { addSpecialTokens: false });
    const full = tokenizer.encode('a', { addSpecialTokens: true });
    const at = indexOfSequence(full, bare);
    this.head = at >= 0 ? full.slice(0, at) : [];
    this.tail = at >= 0 ? full.slice(at + bare.length) : [];
    this.enabled = at >= 0 && sameIds(this.chunked(selfTest), tokenizer.encode(selfTest));
  }

  /** The same ids as `tokenizer.encode(text)` (with special tokens). */
  encode(text: string): number[] {
    if (!this.enabled) return this.tokenizer.encode(text);
    const ids = this.chunked(text);
    if (++this.calls % this.auditEvery === 0) {
      const full = this.tokenizer.encode(text);
      if (!sameIds(ids, full)) {
        this.enabled = false;
        this.cache.clear();
        return full;
      }
    }
    return ids;
  }

  private chunked(text: string): number[] {
    const ids = [...this.head];
    for (const piece of text.split(/(?<=\n)(?=\S)/)) {
      if (piece === '') continue;
      let piecesIds = this.cache.get(piece);
      if (piecesIds) {
        this.cache.delete(piece); // refresh its place in the LRU order
      } else {
        piecesIds = this.tokenizer.encode(piece, { addSpecialTokens: false });
      }
      this.cache.set(piece, piecesIds);
      for (const id of piecesIds) ids.push(id);
    }
    while (this.cache.size > this.capacity) this.cache.delete(this.cache.keys().next().value as string);
    for (const id of this.tail) ids.push(id);
    return ids;
  }
}

function sameIds(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((id, i) => id === b[i]);
}

function indexOfSequence(haystack: readonly number[], needle: readonly number[]): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}
