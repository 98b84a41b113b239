// Apply: a model's code sketch (which may elide unchanged code with comments such as
// `// ... existing code ...`) becomes exact, versioned edits, streamed as reviewable hunks.
import { request } from '../define.js';
import { Nullable, Type, UInteger, type Static } from '../schema.js';
import { DocumentUri, PartialResultParams, Range, TextEdit, WorkDoneProgressParams } from '../types.js';

export const Importance = Type.Union([Type.Literal('low'), Type.Literal('normal'), Type.Literal('high')], {
  description:
    '`low`: needs no reading (whitespace only, a pure rename, or a change repeated identically in an earlier hunk); ' +
    '`high`: changes a definition that other hunks use; `normal` otherwise.',
});
export type Importance = Static<typeof Importance>;

export const WordChange = Type.Object({
  kind: Type.Union([Type.Literal('insert'), Type.Literal('delete')]),
  range: Range,
  text: Type.String(),
}, { description: 'A word-level change inside a hunk. `delete` ranges are in the old text, `insert` ranges in the new text.' });
export type WordChange = Static<typeof WordChange>;

export const Hunk = Type.Object({
  uri: DocumentUri,
  order: UInteger('Reading order across the whole result: a hunk that changes a definition comes before hunks that use it.'),
  importance: Importance,
  reasons: Type.Array(Type.String(), {
    description: 'Why the importance is what it is: whitespace, rename, repeated, definition.',
  }),
  oldRange: Range,
  newRange: Type.Object(Range.properties, { description: 'Where the new text sits once every edit of the document is applied.' }),
  oldText: Type.String(),
  newText: Type.String(),
  words: Type.Array(WordChange),
}, { description: 'One contiguous changed region of one document, in whole lines.' });
export type Hunk = Static<typeof Hunk>;

export const SketchRange = Type.Object({
  startLine: UInteger('First line of the sketch (zero-based).'),
  endLine: UInteger('Line after the last (exclusive).'),
});

export const NearestLines = Type.Object({
  range: Range,
  text: Type.String(),
  similarity: Type.Number({ minimum: 0, maximum: 1 }),
});

export const UnresolvedKind = Type.Union(
  [
    Type.Literal('ambiguous'),
    Type.Literal('unanchored'),
    Type.Literal('noAnchors'),
    Type.Literal('emptySketch'),
    Type.Literal('markersOnly'),
    Type.Literal('binary'),
    Type.Literal('unreadable'),
    Type.Literal('check'),
    Type.Literal('model'),
  ],
  { description: 'What kept a region (or a whole file) from being applied.' },
);
export type UnresolvedKind = Static<typeof UnresolvedKind>;

export const Unresolved = Type.Object({
  uri: DocumentUri,
  kind: UnresolvedKind,
  message: Type.String({ description: 'What went wrong and what to do about it.' }),
  sketch: Type.Optional(SketchRange),
  sketchText: Type.String({ description: 'The sketch lines that were not applied (nothing is dropped silently).' }),
  nearest: Type.Array(NearestLines, { description: 'The document lines most like the sketch region, best first.' }),
});
export type Unresolved = Static<typeof Unresolved>;

export const TextDocumentEdit = Type.Object({
  textDocument: Type.Object({
    uri: DocumentUri,
    version: Nullable(Type.Integer({ description: 'null: the document was read from disk (not open in the editor).' })),
  }),
  edits: Type.Array(TextEdit),
});

export const WorkspaceEdit = Type.Object({ documentChanges: Type.Array(TextDocumentEdit) });
export type WorkspaceEdit = Static<typeof WorkspaceEdit>;

export const ApplyStrategy = Type.Union([Type.Literal('auto'), Type.Literal('merge'), Type.Literal('model')], {
  description:
    '`merge`: deterministic sketch merge only. `model`: the configured `apply` model rewrites the file. ' +
    '`auto` (default): merge, and the model for files the merge could not fully resolve, when one is configured.',
});

export const ModelStats = Type.Object({
  provider: Type.String(),
  model: Type.String(),
  outputTokens: UInteger(),
  forwardPasses: Type.Optional(UInteger('Local speculative edits: model forward passes.')),
  acceptedDraftTokens: Type.Optional(UInteger('Tokens of the original accepted as drafted (speculative edits or Predicted Outputs).')),
  rejectedDraftTokens: Type.Optional(UInteger()),
});

export const ApplyStats = Type.Object({
  files: UInteger(),
  hunks: UInteger(),
  linesAdded: UInteger(),
  linesRemoved: UInteger(),
  unresolved: UInteger(),
  strategy: Type.Union([Type.Literal('merge'), Type.Literal('model'), Type.Literal('mixed'), Type.Literal('none')], {
    description: 'What produced the edits.',
  }),
  durationMs: Type.Number({ minimum: 0 }),
  model: Type.Optional(ModelStats),
});

export const ApplyResult = Type.Object({
  edit: WorkspaceEdit,
  hunks: Type.Array(Hunk),
  unresolved: Type.Array(Unresolved),
  stats: ApplyStats,
});
export type ApplyResult = Static<typeof ApplyResult>;

export const ApplyFile = Type.Object({
  textDocument: Type.Object({
    uri: DocumentUri,
    version: Type.Optional(
      Nullable(Type.Integer({ description: 'The version the sketch was written against; a different open version is refused.' })),
    ),
  }),
  sketch: Type.String({ description: 'The code to merge: the new file, or a part of it with unchanged code elided.' }),
});

export const apply = request({
  method: 'caret/apply',
  since: '0.1.0',
  doc:
    'Turns sketches into edits. Each file\'s sketch may elide unchanged code with comments (`// ... existing code ...`, ' +
    '`# ...`, `<!-- ... -->`, bare `...`); apply anchors its lines to the document and returns a WorkspaceEdit with ' +
    'versioned `documentChanges` (documents not open on this connection are read from disk and versioned null). ' +
    'Regions it cannot place for certain are returned in `unresolved` with the nearest lines, never guessed. With a ' +
    '`partialResultToken`, hunks stream as `$/progress` values (arrays of Hunk) as soon as each region is final; the ' +
    'result repeats them all. Apply never writes files: the client applies the edit.',
  params: Type.Object({
    files: Type.Array(ApplyFile, { minItems: 1, maxItems: 100 }),
    instruction: Type.Optional(Type.String({ description: 'What the change is meant to do (given to a model).' })),
    strategy: Type.Optional(ApplyStrategy),
    ...WorkDoneProgressParams,
    ...PartialResultParams,
  }),
  result: ApplyResult,
  partialResult: Type.Array(Hunk),
});

export const diff = request({
  method: 'caret/diff',
  since: '0.1.0',
  doc:
    'The hunks between any two texts, exactly as `caret/apply` reports them (line hunks with word-level changes, ' +
    'importance and reading order). Ranges use the negotiated position encoding.',
  params: Type.Object({
    oldText: Type.String(),
    newText: Type.String(),
    uri: Type.Optional(Type.String({ description: 'Put in each hunk (default `untitled:diff`).' })),
  }),
  result: Type.Object({ hunks: Type.Array(Hunk) }),
});

export const edit = request({
  method: 'caret/edit',
  since: '0.1.0',
  doc:
    '"Edit this selection": the configured `chat` model writes a sketch for `range` following `instruction`, and ' +
    'apply turns it into the same streamed, reviewable result as `caret/apply`.',
  params: Type.Object({
    textDocument: Type.Object({ uri: DocumentUri, version: Type.Optional(Nullable(Type.Integer())) }),
    range: Range,
    instruction: Type.String({ minLength: 1 }),
    ...WorkDoneProgressParams,
    ...PartialResultParams,
  }),
  result: ApplyResult,
  partialResult: Type.Array(Hunk),
});
