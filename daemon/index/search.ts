// Queries over one workspace's index database: lexical (identifier-aware words and trigram
// substrings, fused), semantic (nearest vectors) and hybrid (both, fused by reciprocal rank).
// Every piece of user input reaches FTS5 as a quoted string, so no query is ever FTS5 syntax.
import { compilePathGlobs } from './glob.js';
import { hasSplitIdentifier, identifierParts, queryIdentifiers, trigramMatchExpression, wordsMatchExpression } from './identifiers.js';
import type { Db } from './store.js';

export type SearchMode = 'lexical' | 'semantic' | 'hybrid';

export interface SearchQuery {
  query: string;
  limit: number;
  mode: SearchMode;
  paths?: readonly string[];
  languages?: readonly string[];
  /** For semantic and hybrid search: the query's embedding. */
  queryVector?: Float32Array;
}

export interface SearchHit {
  path: string;
  language: string;
  chunkId: string;
  startLine: number;
  endLine: number;
  score: number;
  symbol?: string;
  snippet: string;
  /** The line the snippet starts at (the line before the match's, within the chunk). */
  snippetLine: number;
  /** The best match inside the chunk (line, UTF-16 columns), and that line's text. */
  matchLine: number;
  matchStart: number;
  matchEnd: number;
  lineText: string;
}

interface ChunkRow {
  rowid: number;
  path: string;
  language: string | null;
  chunkId: string;
  startLine: number;
  endLine: number;
  container: string;
  defines: string;
  content: string;
}

/** Reciprocal rank fusion: each list contributes 1 / (k + rank) for each id it ranks. */
export function reciprocalRankFusion(rankings: ReadonlyArray<readonly number[]>, k = 60): Array<{ id: number; score: number }> {
  const scores = new Map<number, number>();
  for (const ranking of rankings) {
    ranking.forEach((id, rank) => scores.set(id, (scores.get(id) ?? 0) + 1 / (k + rank + 1)));
  }
  return [...scores].map(([id, score]) => ({ id, score })).sort((a, b) => b.score - a.score || a.id - b.id);
}

const CANDIDATES = 200;
/** Trigram candidates checked at most for one substring query. */
const MAX_SUBSTRING_CANDIDATES = 4000;
/**
 * Chunks of files the second pass has not reached, by LIKE: the most recently modified of them
 * only (a save first), at most PENDING_SCAN_FILES, so a query during the second pass over a large
 * tree reads a bounded amount of text (files further back in its backlog join the substring
 * answers when it reaches them; meanwhile answers say `incomplete`). CROSS JOIN keeps files
 * outside: SQLite's own choice was to scan every chunk and look up its file (670 ms on a
 * 29,000-file tree at every query while one saved file waited for its second pass).
 */
export const PENDING_SCAN = `SELECT c.id AS rowid, c.content
  FROM (SELECT id FROM files WHERE pending > 0 ORDER BY mtime_ms DESC LIMIT ?) f CROSS JOIN chunks c ON c.file_id = f.id
  WHERE c.content LIKE ? LIMIT ?`;
/** Files awaiting the second pass that a substring query scans at most (see PENDING_SCAN). */
export const PENDING_SCAN_FILES = 500;
const RANKED_WORDS = 'SELECT rowid FROM fts_words WHERE fts_words MATCH ? ORDER BY rank LIMIT ?';
const UNRANKED_WORDS = 'SELECT rowid FROM fts_words WHERE fts_words MATCH ? LIMIT ?';
const FILTERED_CANDIDATES = 5000;

export class IndexSearcher {
  private readonly chunkRow;
  private readonly gramsLike;
  private readonly gramsMatch;
  private readonly anyPending;
  private readonly pendingScan;

  constructor(private readonly db: Db) {
    this.gramsLike = db.prepare('SELECT rowid FROM fts_grams WHERE content LIKE ? LIMIT ?').pluck();
    this.gramsMatch = db.prepare('SELECT rowid, content FROM fts_grams WHERE fts_grams MATCH ?');
    this.anyPending = db.prepare('SELECT 1 FROM files WHERE pending > 0 LIMIT 1').pluck();
    this.pendingScan = db.prepare(PENDING_SCAN);
    this.chunkRow = db.prepare(
      `SELECT c.id AS rowid, f.path, f.language, c.chunk_id AS chunkId, c.start_line AS startLine, c.end_line AS endLine,
              c.container, c.defines, c.content
         FROM chunks c JOIN files f ON f.id = c.file_id WHERE c.id = ?`,
    );
  }

  private readonly statements = new Map<string, ReturnType<Db['prepare']>>();

  /** A prepared statement, prepared once per connection (preparing costs more than most queries). */
  private statement(sql: string): ReturnType<Db['prepare']> {
    let statement = this.statements.get(sql);
    if (!statement) this.statements.set(sql, (statement = this.db.prepare(sql)));
    return statement;
  }

  private ranked(sql: string, match: string, limit: number): number[] {
    try {
      return this.statement(sql).pluck().all(match, limit) as number[];
    } catch (error) {
      // A query the tokenizer reduces to nothing: no results, never an error.
      if (/fts5|syntax/i.test((error as Error).message)) return [];
      throw error;
    }
  }

  lexicalRankings(query: string, candidates: number): number[][] {
    const rankings: number[][] = [];
    // Exact identifier tokens rank first (a query for `user4` prefers `user4` to `user40`).
    const exact = wordsMatchExpression(query, true, false, 'joined');
    if (exact) rankings.push(this.ranked(RANKED_WORDS, exact, candidates));
    const words = this.wordsRanking(query, candidates);
    if (words) rankings.push(words);
    const text = query.trim();
    if ([...text].length >= 3) rankings.push(this.substringRanking(text, candidates));
    // Nothing holds all the words, nor the text: settle for chunks holding any of the words.
    if (rankings.every((ranking) => ranking.length === 0) && queryIdentifiers(query).length > 1) {
      rankings.push(this.ranked(RANKED_WORDS, wordsMatchExpression(query, false)!, candidates));
    }
    return rankings;
  }

  /**
   * Chunks holding each query identifier as a prefix of an identifier, ranked by bm25; then, to
   * fill the candidates, chunks that hold only all of its parts (`userName` in `get_user_name`),
   * in index order. Ranking those too cost 20-30 ms on a 29,000-file tree: the parts of an
   * identifier are common words (`use`, `pack`), matched by thousands of chunks, and bm25 costs
   * a lookup per match; every chunk holding the identifier itself is already ranked above them.
   */
  private wordsRanking(query: string, candidates: number): number[] | undefined {
    const joined = wordsMatchExpression(query, true, true, 'joined');
    if (!joined) return undefined;
    const ranking = this.ranked(RANKED_WORDS, joined, candidates);
    if (ranking.length >= candidates || !hasSplitIdentifier(query)) return ranking;
    const seen = new Set(ranking);
    for (const rowid of this.ranked(UNRANKED_WORDS, wordsMatchExpression(query, true)!, candidates + ranking.length)) {
      if (ranking.length >= candidates) break;
      if (!seen.has(rowid)) ranking.push(rowid);
    }
    return ranking;
  }

  /**
   * Chunks containing the text, case-insensitively, in index order. LIKE narrows by the trigram
   * index and checks each candidate inside SQLite; but `_` and `%` are LIKE wildcards (an ESCAPE
   * clause stops SQLite using the index), and the trigrams around them are not used to narrow,
   * so `use_pack` scanned every chunk with `use` and `pack`. Text holding either is matched by
   * all of its trigrams instead and checked here.
   */
  private substringRanking(text: string, candidates: number): number[] {
    const needle = new RegExp(text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'i');
    const contains = (row: { content: string }) => needle.test(row.content);
    const ranking: number[] = [];
    if (/[_%]/.test(text)) {
      const match = trigramMatchExpression(text)!;
      let examined = 0;
      try {
        for (const row of this.gramsMatch.iterate(match) as IterableIterator<{ rowid: number; content: string }>) {
          if (contains(row)) ranking.push(row.rowid);
          // Bounded: a text made of common trigrams could otherwise examine every chunk.
          if (ranking.length >= candidates || ++examined >= MAX_SUBSTRING_CANDIDATES) break;
        }
      } catch (error) {
        // Text the tokenizer reduces to nothing: no substring matches, never an error.
        if (!/fts5|syntax/i.test((error as Error).message)) throw error;
      }
    } else {
      ranking.push(...(this.gramsLike.all(`%${text}%`, candidates) as number[]));
    }
    // Files the second pass has not reached have no trigram rows yet: their chunks are scanned.
    if (ranking.length < candidates && this.anyPending.get()) {
      const pattern = `%${text.replaceAll('%', '_')}%`;
      for (const row of this.pendingScan.all(PENDING_SCAN_FILES, pattern, candidates * 2) as Array<{ rowid: number; content: string }>) {
        if (ranking.length >= candidates) break;
        if (contains(row)) ranking.push(row.rowid);
      }
    }
    return ranking;
  }

  semanticRanking(vector: Float32Array, candidates: number): number[] {
    const exists = this.db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'vectors'").get();
    if (!exists) return [];
    const blob = Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength);
    // Prepared each time: the vector table may have been dropped and re-created since.
    const rows = this.db.prepare('SELECT rowid FROM vectors WHERE embedding MATCH ? AND k = ? ORDER BY distance').pluck().all(blob, Math.min(candidates, 4096)) as Array<number | bigint>;
    return rows.map(Number);
  }

  search(query: SearchQuery): SearchHit[] {
    const filtered = (query.paths?.length ?? 0) > 0 || (query.languages?.length ?? 0) > 0;
    const candidates = filtered ? FILTERED_CANDIDATES : Math.max(CANDIDATES, query.limit * 2);
    const rankings: number[][] = [];
    if (query.mode !== 'semantic') rankings.push(...this.lexicalRankings(query.query, candidates));
    if (query.mode !== 'lexical' && query.queryVector) rankings.push(this.semanticRanking(query.queryVector, candidates));
    const fused = reciprocalRankFusion(rankings.filter((ranking) => ranking.length > 0));
    const pathOk = compilePathGlobs(query.paths);
    const languages = query.languages?.length ? new Set(query.languages) : undefined;
    const hits: SearchHit[] = [];
    for (const { id, score } of fused) {
      if (hits.length >= query.limit) break;
      const row = this.chunkRow.get(id) as ChunkRow | undefined;
      if (!row) continue;
      if (pathOk && !pathOk(row.path)) continue;
      if (languages && !languages.has(row.language ?? 'plaintext')) continue;
      hits.push(toHit(row, score, query.query));
    }
    return hits;
  }
}

/** Locates the query in a chunk: the whole query, else its longest identifier part. */
export function locateMatch(content: string, query: string): { line: number; start: number; end: number } | undefined {
  const lower = content.toLowerCase();
  const needles = [query.trim(), ...queryIdentifiers(query), ...queryIdentifiers(query).flatMap(identifierParts)]
    .filter((needle) => needle.length > 0)
    .map((needle) => needle.toLowerCase());
  for (const needle of needles) {
    const at = lower.indexOf(needle);
    if (at < 0) continue;
    const lineStart = lower.lastIndexOf('\n', at - 1) + 1;
    let line = 0;
    for (let i = lower.indexOf('\n'); i >= 0 && i < at; i = lower.indexOf('\n', i + 1)) line++;
    const lineEnd = lower.indexOf('\n', at);
    const end = Math.min(at + needle.length, lineEnd < 0 ? lower.length : lineEnd);
    return { line, start: at - lineStart, end: end - lineStart };
  }
  return undefined;
}

const MAX_SNIPPET_LINE = 300;

function toHit(row: ChunkRow, score: number, query: string): SearchHit {
  const lines = row.content.split('\n');
  const match = locateMatch(row.content, query) ?? { line: 0, start: 0, end: 0 };
  const from = Math.max(0, match.line - 1);
  const snippet = lines
    .slice(from, match.line + 2)
    .map((line) => (line.length > MAX_SNIPPET_LINE ? `${line.slice(0, MAX_SNIPPET_LINE)}…` : line))
    .join('\n');
  const symbol = row.container || row.defines.split(' ')[0] || undefined;
  return {
    path: row.path,
    language: row.language ?? 'plaintext',
    chunkId: row.chunkId,
    startLine: row.startLine,
    endLine: row.endLine,
    score,
    ...(symbol && { symbol }),
    snippet,
    snippetLine: row.startLine + from,
    matchLine: row.startLine + match.line,
    matchStart: match.start,
    matchEnd: match.end,
    lineText: lines[match.line] ?? '',
  };
}

export interface SymbolHit {
  name: string;
  kind: number;
  path: string;
  container: string;
  startLine: number;
  endLine: number;
  nameLine: number;
  nameCharacter: number;
}

/** Definitions by name: exact matches first, then prefixes, then substrings; shorter names first. */
export function searchSymbols(db: Db, query: string, limit: number, kinds?: readonly number[]): SymbolHit[] {
  const needle = query.trim().toLowerCase();
  const escaped = needle.replace(/[\\%_]/g, (c) => `\\${c}`);
  const kindFilter = kinds?.length ? `AND s.kind IN (${kinds.map(() => '?').join(',')})` : '';
  return db
    .prepare(
      `SELECT s.name, s.kind, f.path, s.container, s.start_line AS startLine, s.end_line AS endLine,
              s.name_line AS nameLine, s.name_character AS nameCharacter
         FROM symbols s JOIN files f ON f.id = s.file_id
        WHERE s.name_lower LIKE ? ESCAPE '\\' ${kindFilter}
        ORDER BY s.name_lower = ? DESC, s.name_lower LIKE ? ESCAPE '\\' DESC, length(s.name), f.path, s.start_line
        LIMIT ?`,
    )
    .all(`%${escaped}%`, ...(kinds ?? []), needle, `${escaped}%`, limit) as SymbolHit[];
}
