// Text document synchronisation (LSP). The daemon keeps the latest text of every document a
// connection opened, and a timestamped edit history per file for next-edit prediction.
import { notification } from '../define.js';
import { Type } from '../schema.js';
import { Range, TextDocumentIdentifier, TextDocumentItem, VersionedTextDocumentIdentifier } from '../types.js';

export const TextDocumentContentChangeEvent = Type.Union([
  Type.Object({
    range: Range,
    rangeLength: Type.Optional(Type.Integer({ minimum: 0, description: 'Deprecated by LSP; ignored.' })),
    text: Type.String(),
  }),
  Type.Object({ text: Type.String() }),
]);

export const didOpen = notification({
  method: 'textDocument/didOpen',
  since: '0.1.0',
  doc: 'The client opened a document; its text is now owned by the client and tracked by the daemon.',
  params: Type.Object({ textDocument: TextDocumentItem }),
});

export const didChange = notification({
  method: 'textDocument/didChange',
  since: '0.1.0',
  doc:
    'Changes to an open document, applied in order: ranged changes (incremental sync, positions in the ' +
    'negotiated encoding) or a whole new text (full sync). Each change is recorded in the file\'s edit ' +
    'history. A change whose range lies outside the document is clamped to it, as LSP specifies.',
  params: Type.Object({
    textDocument: VersionedTextDocumentIdentifier,
    contentChanges: Type.Array(TextDocumentContentChangeEvent),
  }),
});

export const didClose = notification({
  method: 'textDocument/didClose',
  since: '0.1.0',
  doc: 'The client closed the document; the daemon forgets its text for this connection.',
  params: Type.Object({ textDocument: TextDocumentIdentifier }),
});

export const didSave = notification({
  method: 'textDocument/didSave',
  since: '0.1.0',
  doc: 'The client saved the document. With `text`, the daemon also takes that as the document\'s content.',
  params: Type.Object({ textDocument: TextDocumentIdentifier, text: Type.Optional(Type.String()) }),
});
