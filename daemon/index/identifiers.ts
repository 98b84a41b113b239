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

// Identifiers repeat endlessly across a code base; splitting each once saves most of the work.
// Each entry also remembers the last text it was emitted for, so deduplicating within a chunk
// costs no second hash lookup.
interface CachedTokens {
  tokens: string;
  seenIn: number;
}
const tokenCache = new Map<string, CachedTokens>();
const TOKEN_CACHE_SIZE = 100_000;
let textStamp = 0;

/**
 * The text indexed in the identifier-aware column for a chunk of code: each distinct identifier
 * once (the column is indexed without positions; repeating a name would only grow the index).
 */
export function wordsForText(text: string): string {
  const stamp = ++textStamp;
  const out: string[] = [];
  IDENTIFIER.lastIndex = 0;
  for (let match = IDENTIFIER.exec(text); match !== null; match = IDENTIFIER.exec(text)) {
    const identifier = match[0];
    let entry = tokenCache.get(identifier);
    if (entry === undefined) {
      // A bounded cache: when full it starts over (cheaper than LRU bookkeeping per lookup).
      if (tokenCache.size >= TOKEN_CACHE_SIZE) tokenCache.clear();
      entry = { tokens: identifierTokens(identifier).join(' '), seenIn: 0 };
      tokenCache.set(identifier, entry);
    }
    if (entry.seenIn === stamp) continue;
    entry.seenIn = stamp;
    if (entry.tokens) out.push(entry.tokens);
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
 * An FTS5 MATCH expression for the identifier column: each query identifier matches its joined
 * form as a prefix (so `getUser` finds `getUserName`) or all of its parts (so `userName` finds
 * `getUserName`). `all` joins identifiers with AND, otherwise OR. Undefined when the query
 * holds no identifier at all.
 */
export function wordsMatchExpression(query: string, all: boolean, prefix = true): string | undefined {
  const clauses: string[] = [];
  for (const identifier of queryIdentifiers(query)) {
    const parts = identifierParts(identifier);
    if (parts.length === 0) continue;
    const joined = parts.join('');
    const forms = [`${ftsString(joined)}${prefix ? '*' : ''}`];
    if (parts.length > 1) forms.push(`(${[...new Set(parts)].map(ftsString).join(' AND ')})`);
    clauses.push(forms.length > 1 ? `(${forms.join(' OR ')})` : forms[0]!);
  }
  if (clauses.length === 0) return undefined;
  return clauses.join(all ? ' AND ' : ' OR ');
}
