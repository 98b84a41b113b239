// The completion cache: checked before any debounce, keyed by document and the text around the
// cursor. Storing a suggestion also stores "typing-through" entries: if the user types the first
// characters of a suggestion, the remainder is served from here with no engine or model call.
export interface CachedCompletion {
  insertText: string;
  /** Characters after the cursor the suggestion replaces. */
  replaceLength: number;
  /** The engine that produced it. */
  engine: string;
}

interface Entry {
  value: CachedCompletion | null;
  storedAt: number;
}

export interface CompletionCacheOptions {
  /** Entries kept, typing-through entries included. */
  capacity?: number;
  ttlMs?: number;
  /** Characters of a suggestion the user may type through and still hit the cache. */
  typeThroughChars?: number;
  /** Characters of text before and after the cursor that make up a key. */
  prefixWindow?: number;
  suffixWindow?: number;
}

export class CompletionCache {
  private readonly entries = new Map<string, Entry>();
  private readonly capacity: number;
  private readonly ttlMs: number;
  private readonly typeThroughChars: number;
  /** Characters before the cursor a key hashes: a caller may pass just these as the prefix. */
  readonly prefixWindow: number;
  /** Characters after the cursor a key hashes: a caller may pass just these as the suffix. */
  readonly suffixWindow: number;

  constructor(options: CompletionCacheOptions = {}) {
    this.capacity = options.capacity ?? 2000;
    this.ttlMs = options.ttlMs ?? 5 * 60_000;
    this.typeThroughChars = options.typeThroughChars ?? 50;
    this.prefixWindow = options.prefixWindow ?? 4000;
    this.suffixWindow = options.suffixWindow ?? 2000;
  }

  /**
   * The key for a cursor: the document and a 64-bit hash of the window of text on each side.
   * Hashes, not the windows themselves: a key built from slices of the document would pin that
   * whole version of the document in memory for as long as the entry lives (2,000 entries of a
   * 150 KB file held 0.8 GB), and short keys hash and compare in constant time.
   */
  key(uri: string, prefix: string, suffix: string): string {
    return keyOf(uri, hashText(prefix, Math.max(0, prefix.length - this.prefixWindow), prefix.length), this.suffixHash(suffix));
  }

  /** A hit answers the stored suggestion (null: "nothing to show here", also worth caching). */
  get(uri: string, prefix: string, suffix: string, now = Date.now()): CachedCompletion | null | undefined {
    const key = this.key(uri, prefix, suffix);
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (now - entry.storedAt > this.ttlMs) {
      this.entries.delete(key);
      return undefined;
    }
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.value;
  }

  /** Stores a suggestion and the entries that serve typing through its first characters. */
  set(uri: string, prefix: string, suffix: string, value: CachedCompletion | null, now = Date.now()): void {
    this.put(this.key(uri, prefix, suffix), { value, storedAt: now });
    if (!value) return;
    const text = value.insertText;
    // The window after typing `typed` characters is the window's last characters plus them: its
    // hash is the hash of those characters, extended one typed character at a time.
    const suffixHash = this.suffixHash(suffix);
    const limit = Math.min(this.typeThroughChars, text.length - 1);
    for (let typed = 1; typed <= limit; typed++) {
      const rest = text.slice(typed);
      // Stop at a line break: after Enter the editor re-indents, so the remainder's text differs.
      if (text[typed - 1] === '\n' || text[typed - 1] === '\r') break;
      if (!rest.trim()) break;
      const kept = Math.min(prefix.length, this.prefixWindow - typed);
      const hash = hashText(text, 0, typed, hashText(prefix, prefix.length - kept, prefix.length));
      this.put(keyOf(uri, hash, suffixHash), { value: { ...value, insertText: rest }, storedAt: now });
    }
  }

  delete(uri: string, prefix: string, suffix: string): void {
    this.entries.delete(this.key(uri, prefix, suffix));
  }

  /** Drops every entry of a document (closed, or changed outside typing). */
  forgetDocument(uri: string): void {
    const head = `${uri}\u0000`;
    for (const key of this.entries.keys()) if (key.startsWith(head)) this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }

  private suffixHash(suffix: string): Hash {
    return hashText(suffix, 0, Math.min(suffix.length, this.suffixWindow));
  }

  private put(key: string, entry: Entry): void {
    this.entries.delete(key);
    this.entries.set(key, entry);
    while (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
  }
}

type Hash = readonly [number, number];

const keyOf = (uri: string, prefix: Hash, suffix: Hash) =>
  `${uri}\u0000${prefix[0].toString(36)}.${prefix[1].toString(36)}\u0000${suffix[0].toString(36)}.${suffix[1].toString(36)}`;

/**
 * Two 32-bit FNV-1a-style lanes (different seeds and multipliers) over `text[from, to)`,
 * continuing from `state`: hashing a string in pieces gives the hash of the whole.
 */
export function hashText(text: string, from: number, to: number, state: Hash = [0x811c9dc5, 0x9747b28c]): Hash {
  let [a, b] = state;
  for (let i = from; i < to; i++) {
    const code = text.charCodeAt(i);
    a = Math.imul(a ^ code, 0x01000193);
    b = Math.imul(b ^ code, 0x5bd1e995);
    b ^= b >>> 15;
  }
  return [a >>> 0, b >>> 0];
}
