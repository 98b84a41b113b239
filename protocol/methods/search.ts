// The code-base index: search (lexical, semantic, hybrid), symbols, status and reindexing.
import { NoParams, request } from '../define.js';
import { Type, UInteger } from '../schema.js';
import { DocumentUri, Location, Range, WorkDoneProgressParams } from '../types.js';

const Roots = Type.Optional(
  Type.Array(DocumentUri, {
    description: 'Workspace folder URIs to cover. Default: the roots of this connection, or every indexed root when it named none.',
  }),
);

export const SearchMode = Type.Union([Type.Literal('lexical'), Type.Literal('semantic'), Type.Literal('hybrid')], {
  description:
    'lexical: identifiers in every spelling (camelCase, snake_case, their parts) and substrings; semantic: nearest ' +
    'embeddings; hybrid: both, fused by reciprocal rank (lexical alone when no embedding model is configured).',
});

export const SearchResult = Type.Object({
  uri: DocumentUri,
  range: Range,
  chunkRange: Range,
  score: Type.Number({ description: 'Higher is better; comparable within one answer only.' }),
  symbol: Type.Optional(Type.String({ description: 'The enclosing definition (dotted), or the first one the chunk defines.' })),
  snippet: Type.String({ description: 'The matching line with one line of context either side.' }),
  language: Type.String(),
});

export const search = request({
  method: 'caret/search',
  since: '0.1.0',
  doc:
    'Searches the code-base index of the workspace roots and answers ranked chunks, each with the range of the best ' +
    'match, the chunk\'s range, its enclosing symbol and a snippet. Query text is always literal (no operator syntax). ' +
    '`paths` are globs over workspace-relative paths (`src/**/*.ts`, `*.py`; a leading `!` excludes); `languages` are ' +
    'language ids (`typescript`, `python`). A root still being indexed answers from what is indexed so far, and ' +
    '`incomplete` says so.',
  params: Type.Object({
    query: Type.String({ minLength: 1, maxLength: 1000 }),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 20 })),
    mode: Type.Optional(SearchMode),
    paths: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { maxItems: 100 })),
    languages: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { maxItems: 100 })),
    roots: Roots,
    ...WorkDoneProgressParams,
  }),
  result: Type.Object({
    results: Type.Array(SearchResult),
    mode: SearchMode,
    incomplete: Type.Boolean({ description: 'Some root was not fully indexed yet.' }),
  }),
});

export const SymbolResult = Type.Object({
  name: Type.String(),
  kind: UInteger('LSP SymbolKind.'),
  containerName: Type.Optional(Type.String()),
  location: Location,
  /** The whole definition. */
  range: Range,
});

export const symbols = request({
  method: 'caret/symbols',
  since: '0.1.0',
  doc:
    'Definitions by name from the index\'s symbol table (tree-sitter): exact names first, then prefixes, then ' +
    'substrings, case-insensitively. `location` points at the name; `range` spans the definition. Like LSP\'s ' +
    '`workspace/symbol`, across every language the index parses.',
  params: Type.Object({
    query: Type.String({ maxLength: 500 }),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 50 })),
    kinds: Type.Optional(Type.Array(UInteger(), { description: 'Only these SymbolKinds.' })),
    roots: Roots,
  }),
  result: Type.Object({ symbols: Type.Array(SymbolResult) }),
});

export const IndexState = Type.Union([Type.Literal('scanning'), Type.Literal('indexing'), Type.Literal('ready'), Type.Literal('error')]);

export const IndexProgress = Type.Object({
  phase: Type.String({
    description:
      'scanning; indexing (the lexical pass: files become searchable); finishing; syntax (the second pass: syntax-aware chunks and symbols replace line windows); or embedding',
  }),
  done: UInteger(),
  total: UInteger(),
  percentage: UInteger(),
  filesPerSecond: Type.Number(),
  etaSeconds: Type.Optional(Type.Number()),
});

export const IndexStatus = Type.Object({
  root: Type.String({ description: 'Canonical path of the workspace root.' }),
  uri: DocumentUri,
  state: IndexState,
  files: UInteger('Files indexed.'),
  chunks: UInteger(),
  symbols: UInteger(),
  skipped: Type.Record(Type.String(), UInteger(), { description: 'Files left out, by reason (ignored, too-large, binary, unreadable, symlink-…).' }),
  skippedExamples: Type.Record(Type.String(), Type.Array(Type.String())),
  rootHash: Type.String({ description: 'Merkle root hash of the indexed tree; identical trees have identical hashes.' }),
  progress: Type.Optional(IndexProgress),
  secondPassPending: Type.Optional(UInteger('Files searchable by identifier (line-window chunks) that still await the second pass: trigram rows for substring search, and for languages with a grammar syntax-aware chunks and symbols. Substring queries scan these files meanwhile.')),
  error: Type.Optional(Type.String()),
  warnings: Type.Array(Type.String()),
  lastSync: Type.Optional(
    Type.Object({
      full: Type.Boolean(),
      scanned: UInteger(),
      reread: UInteger(),
      indexed: UInteger(),
      removed: UInteger(),
      durationMs: UInteger(),
    }),
  ),
  database: Type.String({ description: 'Path of the index database.' }),
  embeddings: Type.Optional(Type.Object({ model: Type.String(), embedded: UInteger(), total: UInteger() })),
});

export const indexStatus = request({
  method: 'caret/index/status',
  since: '0.1.0',
  doc:
    'The state of each index ("scanning", "indexing", "ready" or "error"), its counts, what was skipped and why, the ' +
    'Merkle root hash, progress while it works, and its database file.',
  params: Type.Union([NoParams, Type.Object({ roots: Roots })]),
  result: Type.Object({ indexes: Type.Array(IndexStatus) }),
});

export const reindex = request({
  method: 'caret/index/reindex',
  since: '0.1.0',
  doc:
    'Resyncs the indexes of the given roots (a folder not yet indexed starts being indexed and stays so until the ' +
    'daemon stops). A resync compares the stat cache and the Merkle tree and re-reads only what changed; `rebuild: true` ' +
    'throws the database away and indexes from scratch. With `wait`, answers when done, reporting progress to `workDoneToken`; ' +
    'otherwise at once. Cancelling a waiting request stops the waiting, not the indexing.',
  params: Type.Union([
    NoParams,
    Type.Object({
      roots: Roots,
      rebuild: Type.Optional(Type.Boolean({ default: false })),
      wait: Type.Optional(Type.Boolean({ default: false })),
      ...WorkDoneProgressParams,
    }),
  ]),
  result: Type.Object({ indexes: Type.Array(IndexStatus) }),
});
