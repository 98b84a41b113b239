// Everything the index does to one file before storing it: read (never more than the size
// limit, however large the file has grown), hash, detect binary content, decode, chunk, extract
// symbols and compute the identifier tokens. Runs in parse workers, in one of two passes:
// `lexical` makes a file searchable fast (line-window chunks, no parse); `syntax` re-chunks it
// along its syntax tree and extracts its symbols (tree-sitter, WebAssembly: ten times slower).
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { type Chunk, chunkFile, DEFAULT_MAX_CHUNK, LineSizes, splitLines } from './chunk.js';
import { contentHash } from './hash.js';
import { wordsForText } from './identifiers.js';
import { grammarOf, languageOf } from './languages.js';
import type { SkipReason } from './scan.js';
import { parseSyntax, type SymbolDefinition } from './syntax.js';

export interface ProcessRequest {
  abs: string;
  rel: string;
  /** Hash stored for the file; when the content still has it, nothing more is done. */
  knownHash?: string;
  maxFileBytes: number;
  /** `lexical` (default): line windows only. `syntax`: parse and chunk along the syntax tree. */
  pass?: IndexPass;
}

export type IndexPass = 'lexical' | 'syntax';

export interface IndexedChunk extends Chunk {
  words: string;
}

export type ProcessResult =
  | { kind: 'gone' }
  | { kind: 'skipped'; reason: SkipReason; size: number; mtimeMs: number; ino: number; hash?: string }
  | { kind: 'unchanged'; hash: string; size: number; mtimeMs: number; ino: number }
  | {
      kind: 'indexed';
      hash: string;
      size: number;
      mtimeMs: number;
      ino: number;
      language: string;
      chunks: IndexedChunk[];
      symbols: SymbolDefinition[];
      /** What the second pass still owes the file (0 after it: see SecondPass in store.ts). */
      pending: 0 | 1 | 2;
    };

const BINARY_SNIFF_BYTES = 8000;
/** Files larger than this are chunked by line windows, without parsing (and without symbols). */
export const MAX_PARSE_BYTES = 256 * 1024;
const decoder = new TextDecoder('utf-8', { fatal: false });

/** Reads at most `limit + 1` bytes, so a file that grew past the limit is detected, not loaded. */
function readCapped(abs: string, limit: number): { data: Buffer; size: number; mtimeMs: number; ino: number } {
  const fd = openSync(abs, 'r');
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw Object.assign(new Error('not a regular file'), { code: 'EISDIR' });
    const want = Math.min(stat.size, limit + 1);
    const data = Buffer.allocUnsafe(want);
    let read = 0;
    while (read < want) {
      const n = readSync(fd, data, read, want - read, read);
      if (n === 0) break;
      read += n;
    }
    return { data: data.subarray(0, read), size: Math.max(stat.size, read), mtimeMs: stat.mtimeMs, ino: stat.ino };
  } finally {
    closeSync(fd);
  }
}

export async function processFile(request: ProcessRequest): Promise<ProcessResult> {
  let file;
  try {
    file = readCapped(request.abs, request.maxFileBytes);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return { kind: 'gone' };
    return { kind: 'skipped', reason: 'unreadable', size: 0, mtimeMs: 0, ino: 0 };
  }
  const { data, size, mtimeMs, ino } = file;
  if (size > request.maxFileBytes) return { kind: 'skipped', reason: 'too-large', size, mtimeMs, ino };
  const hash = contentHash(data);
  if (data.subarray(0, BINARY_SNIFF_BYTES).includes(0)) return { kind: 'skipped', reason: 'binary', size, mtimeMs, ino, hash };
  if (hash === request.knownHash) return { kind: 'unchanged', hash, size, mtimeMs, ino };
  // Invalid UTF-8 is decoded with U+FFFD replacements: a Latin-1 file stays searchable by its
  // ASCII identifiers rather than disappearing from the index.
  const text = decoder.decode(data);
  const language = languageOf(request.rel);
  const lines = splitLines(text);
  const sizes = new LineSizes(lines);
  // Very large files (bundles, generated headers) parse slowly and gain little from syntax-aware
  // chunks: line windows index them at a fraction of the cost.
  const parseable = data.length <= MAX_PARSE_BYTES && grammarOf(language) !== undefined;
  const parse = parseable && request.pass === 'syntax';
  let syntax;
  if (parse) {
    try {
      syntax = await parseSyntax(text, language, lines, (start, end) => sizes.size(start, end), DEFAULT_MAX_CHUNK);
    } catch {
      syntax = undefined; // a grammar that chokes on a file: line windows still index it
    }
  }
  const chunks = chunkFile(text, syntax?.outline, { sizes }).map((chunk) => ({ ...chunk, words: wordsForText(chunk.content) }));
  return { kind: 'indexed', hash, size, mtimeMs, ino, language, chunks, symbols: syntax?.symbols ?? [], pending: request.pass === 'syntax' ? 0 : parseable ? 2 : 1 };
}
