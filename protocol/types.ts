// Shared structures. Where LSP defines a structure, caret uses LSP's shape and name, so that the
// JSON-RPC machinery editors already ship can carry caret's messages unchanged. Objects accept
// unknown properties: within a major version the protocol only grows, and an older daemon must
// not reject a newer client.
import { Type, UInteger, type Static } from './schema.js';

export const DocumentUri = Type.String({ minLength: 1, description: 'A document URI, usually file:///…' });

export const PositionEncodingKind = Type.Union(
  [Type.Literal('utf-16'), Type.Literal('utf-8'), Type.Literal('utf-32')],
  { description: 'How `Position.character` counts: UTF-16 code units (LSP default), UTF-8 bytes or code points.' },
);
export type PositionEncodingKind = Static<typeof PositionEncodingKind>;

export const Position = Type.Object(
  {
    line: UInteger('Zero-based line.'),
    character: UInteger('Zero-based offset within the line, in the negotiated position encoding.'),
  },
);
export type Position = Static<typeof Position>;

export const Range = Type.Object({ start: Position, end: Position });
export type Range = Static<typeof Range>;

export const Location = Type.Object({ uri: DocumentUri, range: Range });
export type Location = Static<typeof Location>;

export const TextEdit = Type.Object({ range: Range, newText: Type.String() });
export type TextEdit = Static<typeof TextEdit>;

export const TextDocumentIdentifier = Type.Object({ uri: DocumentUri });
export type TextDocumentIdentifier = Static<typeof TextDocumentIdentifier>;

export const VersionedTextDocumentIdentifier = Type.Object({ uri: DocumentUri, version: Type.Integer() });
export type VersionedTextDocumentIdentifier = Static<typeof VersionedTextDocumentIdentifier>;

export const OptionalVersionedTextDocumentIdentifier = Type.Object({
  uri: DocumentUri,
  version: Type.Union([Type.Integer(), Type.Null()]),
});

export const TextDocumentItem = Type.Object({
  uri: DocumentUri,
  languageId: Type.String(),
  version: Type.Integer(),
  text: Type.String(),
});
export type TextDocumentItem = Static<typeof TextDocumentItem>;

export const TextDocumentPositionParams = Type.Object({ textDocument: TextDocumentIdentifier, position: Position });

export const ProgressToken = Type.Union([Type.Integer(), Type.String()], {
  description: 'Names a progress stream; chosen by whoever creates it.',
});
export type ProgressToken = Static<typeof ProgressToken>;

/** Mixed into request params that accept a work-done token (LSP WorkDoneProgressParams). */
export const WorkDoneProgressParams = { workDoneToken: Type.Optional(ProgressToken) };
/** Mixed into request params that stream partial results (LSP PartialResultParams). */
export const PartialResultParams = { partialResultToken: Type.Optional(ProgressToken) };

export const WorkspaceFolder = Type.Object({ uri: DocumentUri, name: Type.String() });
export type WorkspaceFolder = Static<typeof WorkspaceFolder>;

export const MessageType = Type.Union([1, 2, 3, 4, 5].map((n) => Type.Literal(n)), {
  description: '1 Error, 2 Warning, 3 Info, 4 Log, 5 Debug',
});
export const MessageTypes = { Error: 1, Warning: 2, Info: 3, Log: 4, Debug: 5 } as const;

export const TraceValue = Type.Union([Type.Literal('off'), Type.Literal('messages'), Type.Literal('verbose')]);
export type TraceValue = Static<typeof TraceValue>;

export const WorkDoneProgressValue = Type.Union([
  Type.Object({
    kind: Type.Literal('begin'),
    title: Type.String(),
    cancellable: Type.Optional(Type.Boolean()),
    message: Type.Optional(Type.String()),
    percentage: Type.Optional(UInteger()),
  }),
  Type.Object({
    kind: Type.Literal('report'),
    cancellable: Type.Optional(Type.Boolean()),
    message: Type.Optional(Type.String()),
    percentage: Type.Optional(UInteger()),
  }),
  Type.Object({ kind: Type.Literal('end'), message: Type.Optional(Type.String()) }),
]);
export type WorkDoneProgressValue = Static<typeof WorkDoneProgressValue>;
