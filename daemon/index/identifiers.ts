// Identifier-aware tokens for lexical search. SQLite's tokenizers split on punctuation only, so
// `getUserName` would be one opaque token. Each identifier is indexed as its joined lower-case
// form plus its parts ("getusername get user name"), and `get_user_name` yields the same tokens:
// a search for any spelling or any part finds every other spelling.

// ASCII word characters plus everything from Latin-1 letters up: far faster than Unicode property
// classes, and the few symbols in that range it lets through are harmless in an index.
const IDENTIFIER = /[\w$\u00c0-\uffff]+/g;

/** Splits an identifier at `_`, `$`, `-`, case changes (fooBar, HTTPServer) and letter/digit edges. */
export function identifierParts(identifier: string): string[] {
  const parts: string[] = [];
  for (const piece of identifier.split(/[_$\-]+/)) {
    if (!piece) continue;
    const matches = piece.match(/\p{Lu}+(?=\p{Lu}\p{Ll})|\p{Lu}?\p{Ll}+|\p{Lu}+|\p{N}+|[^\p{Lu}\p{Ll}\p{N}]+/gu);
    for (const part of matches ?? [piece]) parts.push(part.toLowerCase());
  }
  return parts;
}

/** The tokens one identifier contributes: its joined form, then its parts when it has several. */
export function identifierTokens(identifier: string): string[] {
  const parts = identifierParts(identifier);
  if (parts.length === 0) return [];
  const joined = parts.join('');
  return parts.length > 1 ? [joined, ...parts] : [joined];
}

// Identifiers repeat endlessly across a code base, so each is split once and remembered. The
// scan below is the hot loop of the lexical pass: it walks character codes, hashing each
// identifier as it goes, and finds it in an open-addressing table by comparing characters in
// place, so an identifier seen before costs no substring and no string hashing. Tokens are small
// integers with a stamp of the last text they were emitted for, so a chunk lists each token once
// even when several identifiers share a part. (About 30% less CPU than a Map keyed by substrings
// on git/git, and 13% fewer tokens for SQLite to index; measured.)

/** 1 for the ASCII characters of identifiers ([A-Za-z0-9_$]); everything from U+00C0 up counts too. */
const WORD_CHAR = new Uint8Array(128);
for (let code = 0; code < 128; code++) WORD_CHAR[code] = /[\w$]/.test(String.fromCharCode(code)) ? 1 : 0;
const isWordChar = (code: number) => (code < 128 ? WORD_CHAR[code] === 1 : code >= 0xc0);

/**
 * Identifiers remembered at most (git/git has 175,000 distinct ones, numbers included); when
 * full the table starts over, which is cheaper than LRU bookkeeping on every lookup.
 */
const IDENTIFIER_CACHE_SIZE = 100_000;
const TABLE_SLOTS = 1 << 18; // a power of two, over twice the cache size: probes stay short
const SLOT_MASK = TABLE_SLOTS - 1;

class IdentifierTable {
  // Filled element by element: `new Array(n)` this large would be a slow dictionary-mode array.
  readonly keys: Array<string | undefined> = [];
  readonly hashes = new Int32Array(TABLE_SLOTS);
  /** The stamp of the last text the identifier was seen in. */
  readonly stamps = new Int32Array(TABLE_SLOTS);
  /** Its tokens: tokenPool[tokenStart[slot] .. + tokenCount[slot]]. */
  readonly tokenStart = new Int32Array(TABLE_SLOTS);
  readonly tokenCount = new Uint8Array(TABLE_SLOTS);
  tokenPool: Int32Array<ArrayBuffer> = new Int32Array(4 * IDENTIFIER_CACHE_SIZE);
  poolUsed = 0;
  readonly tokenText: string[] = [];
  tokenStamps: Int32Array<ArrayBuffer> = new Int32Array(2 * IDENTIFIER_CACHE_SIZE);
  readonly tokenIds = new Map<string, number>();
  size = 0;
  stamp = 0;

  constructor() {
    for (let slot = 0; slot < TABLE_SLOTS; slot++) this.keys.push(undefined);
  }

  clear(): void {
    this.keys.fill(undefined);
    this.hashes.fill(0);
    this.stamps.fill(0);
    this.tokenStamps.fill(0);
    this.tokenText.length = 0;
    this.tokenIds.clear();
    this.poolUsed = 0;
    this.size = 0;
    this.stamp = 0;
  }

  private tokenId(text: string): number {
    let id = this.tokenIds.get(text);
    if (id === undefined) {
      id = this.tokenText.length;
      this.tokenText.push(text);
      this.tokenIds.set(text, id);
      if (id >= this.tokenStamps.length) this.tokenStamps = grown(this.tokenStamps);
    }
    return id;
  }

  /** Stores an identifier in a free slot. */
  add(slot: number, hash: number, identifier: string): void {
    const tokens = identifierTokens(identifier);
    while (this.poolUsed + tokens.length > this.tokenPool.length) this.tokenPool = grown(this.tokenPool);
    this.keys[slot] = identifier;
    this.hashes[slot] = hash;
    this.tokenStart[slot] = this.poolUsed;
    this.tokenCount[slot] = tokens.length;
    for (const token of tokens) this.tokenPool[this.poolUsed++] = this.tokenId(token);
    this.size++;
  }
}

function grown(array: Int32Array<ArrayBuffer>): Int32Array<ArrayBuffer> {
  const larger = new Int32Array(array.length * 2);
  larger.set(array);
  return larger;
}

let table: IdentifierTable | undefined;

/** True when text[start, start + key.length) equals key. */
function sameAt(text: string, start: number, key: string): boolean {
  for (let i = 0; i < key.length; i++) if (text.charCodeAt(start + i) !== key.charCodeAt(i)) return false;
  return true;
}

/**
 * The text indexed in the identifier-aware column for a chunk of code: each distinct token once
 * (the column is indexed without positions; repeating a token would only cost index work).
 */
export function wordsForText(text: string): string {
  const t = (table ??= new IdentifierTable());
  if (t.stamp >= 0x7fffffff) t.clear();
  let stamp = ++t.stamp;
  const { keys, hashes, stamps, tokenStart, tokenCount } = t;
  const out: string[] = [];
  const length = text.length;
  let i = 0;
  while (i < length) {
    if (!isWordChar(text.charCodeAt(i))) {
      i++;
      continue;
    }
    const start = i;
    // FNV-1a over the identifier's UTF-16 code units, computed while finding its end.
    let hash = 0x811c9dc5 | 0;
    for (; i < length; i++) {
      const code = text.charCodeAt(i);
      if (!isWordChar(code)) break;
      hash = Math.imul(hash ^ code, 16777619);
    }
    const size = i - start;
    let slot = hash & SLOT_MASK;
    let key = keys[slot];
    while (key !== undefined && !(hashes[slot] === hash && key.length === size && sameAt(text, start, key))) {
      slot = (slot + 1) & SLOT_MASK;
      key = keys[slot];
    }
    if (key === undefined) {
      if (t.size >= IDENTIFIER_CACHE_SIZE) {
        // Starting over mid-text forgets what this text emitted: a token may then appear twice
        // in its output, which costs the index a little and changes no answer.
        t.clear();
        stamp = ++t.stamp;
        slot = hash & SLOT_MASK;
      }
      t.add(slot, hash, text.slice(start, i));
    } else if (stamps[slot] === stamp) continue;
    stamps[slot] = stamp;
    const { tokenPool, tokenStamps, tokenText } = t;
    for (let k = tokenStart[slot]!, end = k + tokenCount[slot]!; k < end; k++) {
      const token = tokenPool[k]!;
      if (tokenStamps[token] === stamp) continue;
      tokenStamps[token] = stamp;
      out.push(tokenText[token]!);
    }
  }
  return out.join(' ');
}

/** Quotes a string as an FTS5 string literal, so no character of user input is FTS5 syntax. */
export function ftsString(text: string): string {
  return `"${text.replaceAll('"', '""')}"`;
}

/** The identifiers of a free-text query, in order, without duplicates. */
export function queryIdentifiers(query: string): string[] {
  return [...new Set([...query.matchAll(IDENTIFIER)].map((match) => match[0]))];
}

/**
 * Which spellings of a query identifier an expression accepts: `joined` its joined form (a prefix
 * of it with `prefix`), `parts` all of its parts, `either` one or the other.
 */
export type WordForms = 'joined' | 'parts' | 'either';

/**
 * An FTS5 MATCH expression for the identifier column: each query identifier matches its joined
 * form as a prefix (so `getUser` finds `getUserName`) or all of its parts (so `userName` finds
 * `getUserName`), or only one of those (`forms`). `all` joins identifiers with AND, otherwise OR.
 * Undefined when the query holds no identifier at all.
 */
export function wordsMatchExpression(query: string, all: boolean, prefix = true, forms: WordForms = 'either'): string | undefined {
  const clauses: string[] = [];
  for (const identifier of queryIdentifiers(query)) {
    const parts = identifierParts(identifier);
    if (parts.length === 0) continue;
    const joined = `${ftsString(parts.join(''))}${prefix ? '*' : ''}`;
    const split = parts.length > 1 ? `(${[...new Set(parts)].map(ftsString).join(' AND ')})` : undefined;
    if (forms === 'joined' || split === undefined) clauses.push(joined);
    else if (forms === 'parts') clauses.push(split);
    else clauses.push(`(${joined} OR ${split})`);
  }
  if (clauses.length === 0) return undefined;
  return clauses.join(all ? ' AND ' : ' OR ');
}

/** True when some identifier of the query has several parts (so `parts` differs from `joined`). */
export function hasSplitIdentifier(query: string): boolean {
  return queryIdentifiers(query).some((identifier) => identifierParts(identifier).length > 1);
}

/**
 * An FTS5 MATCH expression that narrows a trigram index to rows holding trigrams of `text` that
 * cover all of it (LIKE uses none across `_` and `%`, its wildcards): non-overlapping trigrams,
 * plus every trigram with punctuation in it (`e_p`, rarer than letters alone and so the best at
 * narrowing). On the 29,000-file tree this read a third of the doclists of all trigrams and ran
 * twice as fast. Candidates still have to be checked for the text itself. Undefined for text
 * shorter than three characters.
 */
export function trigramMatchExpression(text: string): string | undefined {
  // Case is left to the trigram tokenizer, which folds these strings as it folded the index.
  const chars = [...text];
  if (chars.length < 3) return undefined;
  const grams = new Set<string>();
  for (let i = 0; i + 3 <= chars.length; i++) {
    const gram = chars.slice(i, i + 3).join('');
    if (i % 3 === 0 || i === chars.length - 3 || /[^\p{L}\p{N}]/u.test(gram)) grams.add(gram);
  }
  return [...grams].map(ftsString).join(' AND ');
}
