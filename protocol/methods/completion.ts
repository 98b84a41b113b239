// Inline completion (LSP 3.18 `textDocument/inlineCompletion`, to the letter, so stock clients
// work unchanged), the `textDocument/completion` fallback for clients without it, the events that
// tell the daemon what became of a suggestion, and next-edit prediction (`caret/nextEdit`).
import { notification, request } from '../define.js';
import { Nullable, Type, UInteger } from '../schema.js';
import { DocumentUri, Position, Range, TextDocumentIdentifier, WorkDoneProgressParams } from '../types.js';

/** LSP `Command`: what a client runs after inserting an item. */
export const Command = Type.Object({
  title: Type.String(),
  command: Type.String(),
  arguments: Type.Optional(Type.Array(Type.Unknown())),
});

export const InlineCompletionTriggerKind = Type.Union([Type.Literal(1), Type.Literal(2)], {
  description: '1 Invoked (the user asked explicitly), 2 Automatic (while typing).',
});

export const SelectedCompletionInfo = Type.Object(
  {
    range: Range,
    text: Type.String(),
  },
  { description: 'The item selected in the completion widget; inline items then extend its text over the same range.' },
);

export const InlineCompletionContext = Type.Object({
  triggerKind: InlineCompletionTriggerKind,
  selectedCompletionInfo: Type.Optional(SelectedCompletionInfo),
});

/** LSP `StringValue`: a snippet in TextMate syntax. */
export const StringValue = Type.Object({ kind: Type.Literal('snippet'), value: Type.String() });

export const InlineCompletionItem = Type.Object({
  insertText: Type.Union([Type.String(), StringValue]),
  filterText: Type.Optional(Type.String()),
  range: Type.Optional(Range),
  command: Type.Optional(Command),
});

export const InlineCompletionList = Type.Object({ items: Type.Array(InlineCompletionItem) });

export const inlineCompletion = request({
  method: 'textDocument/inlineCompletion',
  since: '0.1.0',
  doc:
    'LSP 3.18 inline completion: ghost text at `position`. Answers an `InlineCompletionList` whose items ' +
    'carry `insertText`, the `range` they replace and a `command` (`caret.inlineCompletion.accept` with the ' +
    'item\'s id) that stock clients run after inserting. A newer request for the same document supersedes ' +
    'one in flight, which then answers an empty list; an unopened document fails with DocumentNotOpen; ' +
    'a position past the end of a line or document is clamped, as LSP asks.',
  params: Type.Object({
    textDocument: TextDocumentIdentifier,
    position: Position,
    context: InlineCompletionContext,
    ...WorkDoneProgressParams,
  }),
  result: Type.Union([InlineCompletionList, Type.Array(InlineCompletionItem), Type.Null()]),
});

export const executeCommand = request({
  method: 'workspace/executeCommand',
  since: '0.1.0',
  doc:
    'LSP command execution. Serves `caret.inlineCompletion.accept` (argument: the inline item\'s id), ' +
    'which stock clients run after inserting an inline completion: the daemon records the acceptance and ' +
    'prefetches the next completion. Answers null; an unknown command fails with InvalidParams.',
  params: Type.Object({
    command: Type.String(),
    arguments: Type.Optional(Type.Array(Type.Unknown())),
    ...WorkDoneProgressParams,
  }),
  result: Type.Unknown(),
});

const SuggestionId = Type.String({ minLength: 1, description: 'The id the daemon gave the suggestion.' });

export const inlineCompletionDidShow = notification({
  method: 'caret/inlineCompletion/didShow',
  since: '0.1.0',
  doc: 'The client showed the inline item with this id. Feeds the adaptive debounce and the acceptance statistics.',
  params: Type.Object({ id: SuggestionId }),
});

export const inlineCompletionDidPartiallyAccept = notification({
  method: 'caret/inlineCompletion/didPartiallyAccept',
  since: '0.1.0',
  doc:
    'The user accepted the first `acceptedLength` units (in the negotiated position encoding) of the item ' +
    'with this id (a word or a line at a time). The rest stays available from the cache as typing-through.',
  params: Type.Object({ id: SuggestionId, acceptedLength: UInteger('Accepted length in the negotiated position encoding.') }),
});

export const inlineCompletionDidReject = notification({
  method: 'caret/inlineCompletion/didReject',
  since: '0.1.0',
  doc: 'The user dismissed the item with this id (Escape, or typed something it did not predict). It is not offered again at that spot.',
  params: Type.Object({ id: SuggestionId }),
});

// textDocument/completion, for clients without inline completion.
export const CompletionItem = Type.Object({
  label: Type.String(),
  kind: Type.Optional(UInteger('LSP CompletionItemKind; 1 Text, 15 Snippet.')),
  detail: Type.Optional(Type.String()),
  documentation: Type.Optional(Type.String()),
  sortText: Type.Optional(Type.String()),
  filterText: Type.Optional(Type.String()),
  preselect: Type.Optional(Type.Boolean()),
  insertTextFormat: Type.Optional(UInteger('1 PlainText, 2 Snippet.')),
  textEdit: Type.Optional(Type.Object({ range: Range, newText: Type.String() })),
  command: Type.Optional(Command),
});

export const CompletionList = Type.Object({ isIncomplete: Type.Boolean(), items: Type.Array(CompletionItem) });

export const completion = request({
  method: 'textDocument/completion',
  since: '0.1.0',
  doc:
    'LSP completion, served (and advertised) only for clients that lack `textDocument.inlineCompletion`: ' +
    'the inline suggestion becomes one item whose `textEdit` replaces the same range, labelled with its first line. ' +
    'The list is always incomplete, so the client asks again as the user types.',
  params: Type.Object({
    textDocument: TextDocumentIdentifier,
    position: Position,
    context: Type.Optional(
      Type.Object({
        triggerKind: Type.Union([Type.Literal(1), Type.Literal(2), Type.Literal(3)]),
        triggerCharacter: Type.Optional(Type.String()),
      }),
    ),
    ...WorkDoneProgressParams,
  }),
  result: Type.Union([CompletionList, Type.Array(CompletionItem), Type.Null()]),
});

// Next-edit prediction.
export const VersionedDocument = Type.Object({ uri: DocumentUri, version: Type.Integer() });

export const NextEditEdit = Type.Object({
  textDocument: VersionedDocument,
  range: Range,
  newText: Type.String(),
});

export const NextEditSuggestion = Type.Object({
  id: SuggestionId,
  edits: Type.Array(NextEditEdit, {
    description:
      'Empty only for a suggestion that jumps and edits nothing: the site is in a file that is not open (the ' +
      'workspace index named it), and no version can be given for it. `jump` names the site; accepting opens ' +
      'the file there and asks again, which gives the edit with the file\'s version.',
  }),
  jump: Type.Optional(
    Type.Object(
      { uri: DocumentUri, position: Position },
      { description: 'Present when the edit is off-screen or in another file (always when `edits` is empty): where to move the cursor first.' },
    ),
  ),
  reason: Type.Optional(Type.String({ description: 'Why, in a few words (e.g. "rename count → total").' })),
});

export const nextEdit = request({
  method: 'caret/nextEdit',
  since: '0.1.0',
  doc:
    'Predicts the user\'s next edit from their recent edits: one suggestion (edits that belong together) in ' +
    'this file or another open one, or null; where neither has a site, a jump into a file the workspace ' +
    'index names (no edits: see `edits`). Each edit names the document version it was computed for; ' +
    'a client drops edits whose version is no longer current. Chains ("tab, tab, tab") by asking again ' +
    'after each accept. Answers null when `textDocument.version` is not the daemon\'s current version.',
  params: Type.Object({
    textDocument: VersionedDocument,
    position: Position,
    ...WorkDoneProgressParams,
  }),
  result: Nullable(NextEditSuggestion),
});

export const nextEditDidAccept = notification({
  method: 'caret/nextEdit/didAccept',
  since: '0.1.0',
  doc: 'The user applied the next-edit suggestion with this id.',
  params: Type.Object({ id: SuggestionId }),
});

export const nextEditDidReject = notification({
  method: 'caret/nextEdit/didReject',
  since: '0.1.0',
  doc: 'The user dismissed the next-edit suggestion with this id; the same edit is not proposed again.',
  params: Type.Object({ id: SuggestionId }),
});
