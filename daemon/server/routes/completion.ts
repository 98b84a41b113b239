// Inline completion, the completion fallback, the accept command and next edit: adapts protocol
// params (positions in the negotiated encoding) to the completion service (offsets) and back.
import { relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ErrorCodes, type PositionEncodingKind } from '../../../protocol/index.js';
import { ACCEPT_INLINE_COMPLETION_COMMAND } from '../../completion/index.js';
import type { ResolveScope } from '../../models/index.js';
import { encodedLength, type TextDocument } from '../../workspace/index.js';
import type { RequestContext, Routes } from '../context.js';
import { RpcError } from '../rpc-error.js';
import type { Session } from '../session.js';

/** The workspace root holding a document, its path relative to it, and the editor's environment. */
function scopeOf(session: Session, uri: string): { scope: ResolveScope; filename: string } {
  let path: string | undefined;
  try {
    path = uri.startsWith('file:') ? fileURLToPath(uri) : undefined;
  } catch {
    path = undefined;
  }
  if (!path) return { scope: { env: session.env }, filename: uri };
  let root: string | undefined;
  for (const candidate of session.roots) {
    if ((path === candidate || path.startsWith(candidate + sep)) && (!root || candidate.length > root.length)) root = candidate;
  }
  return { scope: { ...(root && { root }), env: session.env }, filename: root ? relative(root, path) : path };
}

/** UTF-16 length of the first `units` units of `text` in `encoding`. */
export function utf16LengthOf(text: string, units: number, encoding: PositionEncodingKind): number {
  if (encoding === 'utf-16') return Math.min(units, text.length);
  let counted = 0;
  let offset = 0;
  while (offset < text.length) {
    const codePoint = text.codePointAt(offset)!;
    const width = encoding === 'utf-8' ? (codePoint < 0x80 ? 1 : codePoint < 0x800 ? 2 : codePoint < 0x10000 ? 3 : 4) : 1;
    if (counted + width > units) break;
    counted += width;
    offset += codePoint > 0xffff ? 2 : 1;
  }
  return offset;
}

const hasInlineCapability = (session: Session) =>
  Boolean((session.clientCapabilities as { textDocument?: { inlineCompletion?: unknown } }).textDocument?.inlineCompletion);

async function suggest(
  params: { textDocument: { uri: string }; position: { line: number; character: number } },
  trigger: 'invoked' | 'automatic',
  selected: { range: { start: { line: number; character: number }; end: { line: number; character: number } }; text: string } | undefined,
  { session, services, signal }: RequestContext,
) {
  const document: TextDocument = session.documents.require(params.textDocument.uri);
  const encoding = session.positionEncoding;
  const offset = document.offsetAt(params.position, encoding);
  const { scope, filename } = scopeOf(session, document.uri);
  const suggestions = await services.completion.inline(
    {
      sessionKey: String(session.id),
      document,
      offset,
      trigger,
      scope,
      filename,
      ...(selected && {
        selected: { start: document.offsetAt(selected.range.start, encoding), end: document.offsetAt(selected.range.end, encoding), text: selected.text },
      }),
    },
    signal,
  );
  // Closed while the engine ran: nothing to show.
  if (session.documents.get(document.uri) !== document) return [];
  return suggestions.map((suggestion) => ({
    ...suggestion,
    range: { start: document.positionAt(suggestion.start, encoding), end: document.positionAt(suggestion.end, encoding) },
  }));
}

export const completionRoutes: Routes = {
  capabilities: (session) => ({
    inlineCompletionProvider: {},
    executeCommandProvider: { commands: [ACCEPT_INLINE_COMPLETION_COMMAND] },
    // Clients without inline completion get the suggestion as a completion item.
    ...(!hasInlineCapability(session) && { completionProvider: { triggerCharacters: ['.', '(', ' '], resolveProvider: false } }),
  }),
  requests: {
    'textDocument/inlineCompletion': async (params, context) => {
      const trigger = params.context.triggerKind === 1 ? 'invoked' : 'automatic';
      const suggestions = await suggest(params, trigger, params.context.selectedCompletionInfo, context);
      return {
        items: suggestions.map((suggestion) => ({
          insertText: suggestion.insertText,
          range: suggestion.range,
          command: { title: 'Accept completion', command: ACCEPT_INLINE_COMPLETION_COMMAND, arguments: [suggestion.id] },
        })),
      };
    },
    'textDocument/completion': async (params, context) => {
      const trigger = params.context?.triggerKind === 1 ? 'invoked' : 'automatic';
      const suggestions = await suggest(params, trigger, undefined, context);
      return {
        isIncomplete: true,
        items: suggestions.map((suggestion) => {
          const firstLine = suggestion.insertText.split(/\r?\n/)[0]!;
          const label = firstLine.trim() || suggestion.insertText.trim().split(/\r?\n/)[0]!;
          return {
            label: label.length > 60 ? `${label.slice(0, 57)}…` : label,
            kind: 1,
            detail: 'caret',
            ...(suggestion.insertText.includes('\n') && { documentation: suggestion.insertText }),
            sortText: '0',
            preselect: true,
            filterText: label,
            insertTextFormat: 1,
            textEdit: { range: suggestion.range, newText: suggestion.insertText },
            command: { title: 'Accept completion', command: ACCEPT_INLINE_COMPLETION_COMMAND, arguments: [suggestion.id] },
          };
        }),
      };
    },
    'workspace/executeCommand': (params, { services }) => {
      if (params.command !== ACCEPT_INLINE_COMPLETION_COMMAND) {
        throw new RpcError(ErrorCodes.InvalidParams, `unknown command "${params.command}"; caret serves ${ACCEPT_INLINE_COMPLETION_COMMAND}`);
      }
      const id = params.arguments?.[0];
      if (typeof id !== 'string') {
        throw new RpcError(ErrorCodes.InvalidParams, `${ACCEPT_INLINE_COMPLETION_COMMAND} takes the item's id (a string) as its one argument`);
      }
      // An unknown id (expired, or from before a restart) is not the client's fault: nothing to do.
      services.completion.accepted(id);
      return null;
    },
    'caret/nextEdit': async (params, { session, services, signal }) => {
      const document = session.documents.require(params.textDocument.uri);
      // A client ahead of or behind the daemon's copy would get edits for text it does not have.
      if (params.textDocument.version !== document.version) return null;
      const encoding = session.positionEncoding;
      const { scope, filename } = scopeOf(session, document.uri);
      const result = await services.completion.nextEdit(
        { sessionKey: String(session.id), document, offset: document.offsetAt(params.position, encoding), scope, filename },
        signal,
      );
      if (!result || session.documents.get(document.uri) !== document) return null;
      if ('site' in result) {
        // A file that is not open: a jump there and no edit (see the protocol's NextEditSuggestion).
        const { uri, line, lineText, character, reason } = result.site;
        return { id: result.id, edits: [], reason, jump: { uri, position: { line, character: encodedLength(lineText.slice(0, character), encoding) } } };
      }
      const target = result.target as TextDocument;
      const edits = result.proposal.edits.map((edit) => ({
        textDocument: { uri: target.uri, version: result.proposal.version },
        range: { start: target.positionAt(edit.start, encoding), end: target.positionAt(edit.end, encoding) },
        newText: edit.newText,
      }));
      return {
        id: result.id,
        edits,
        reason: result.proposal.reason,
        ...(result.jump && { jump: { uri: target.uri, position: target.positionAt(result.proposal.anchor, encoding) } }),
      };
    },
  },
  notifications: {
    'caret/inlineCompletion/didShow': ({ id }, { services }) => {
      services.completion.shown(id);
    },
    'caret/inlineCompletion/didPartiallyAccept': ({ id, acceptedLength }, { services, session }) => {
      const suggestion = services.completion.suggestion(id);
      if (!suggestion) return;
      services.completion.partiallyAccepted(id, utf16LengthOf(suggestion.insertText, acceptedLength, session.positionEncoding));
    },
    'caret/inlineCompletion/didReject': ({ id }, { services }) => {
      services.completion.rejected(id);
    },
    'caret/nextEdit/didAccept': ({ id }, { services }) => {
      services.completion.nextEditAccepted(id);
    },
    'caret/nextEdit/didReject': ({ id }, { services }) => {
      services.completion.nextEditRejected(id);
    },
  },
};
