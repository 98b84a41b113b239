// caret/apply, caret/diff and caret/edit: adapts protocol params to the apply room. Documents come
// from this connection's open buffers, else from disk; edits go back to the client, never to disk.
import { ErrorCodes } from '../../../protocol/index.js';
import { fileURLToPath } from 'node:url';
import { ApplyError, buildHunks, ChatSelectionWriter, EditorDocumentSource, type ModelRewriter, rewriterFor, runApply, runEdit, type Strategy } from '../../apply/index.js';
import { ModelError } from '../../models/index.js';
import type { RequestContext, Routes } from '../context.js';
import { RpcError } from '../rpc-error.js';

function documentSource(context: RequestContext): EditorDocumentSource {
  return new EditorDocumentSource((uri) => {
    const document = context.session.documents.get(uri);
    return document && { text: document.text, version: document.version, languageId: document.languageId };
  });
}

/** The workspace root of this connection that holds the file, for per-workspace model settings. */
function rootOf(uri: string, context: RequestContext): string | undefined {
  let path: string;
  try {
    path = fileURLToPath(uri);
  } catch {
    return undefined;
  }
  return [...context.session.roots].filter((root) => path === root || path.startsWith(root.endsWith('/') ? root : `${root}/`)).sort((a, b) => b.length - a.length)[0];
}

/** The configured apply model, or undefined for builtin (merge only). A broken configuration fails `model`, and is logged for `auto`. */
function applyModel(uri: string, strategy: Strategy, context: RequestContext): ModelRewriter | undefined {
  if (strategy === 'merge') return undefined;
  try {
    const root = rootOf(uri, context);
    const provider = context.services.models.resolve('apply', { ...(root && { root }), env: context.session.env });
    return rewriterFor(provider);
  } catch (error) {
    if (!(error instanceof ModelError) || strategy === 'model') throw error instanceof ModelError ? new ApplyError('noModel', `${error.message}; ${error.fix}`) : error;
    context.log.warn('apply model unavailable; merging only', { error: error.message });
    return undefined;
  }
}

function asRpcError(error: unknown): unknown {
  if (error instanceof ModelError) return withPrototype(new RpcError(ErrorCodes.RequestFailed, `${error.message}; ${error.fix}`));
  if (!(error instanceof ApplyError)) return error;
  const code = error.code === 'contentModified' ? ErrorCodes.ContentModified : error.code === 'invalidRequest' ? ErrorCodes.InvalidParams : ErrorCodes.RequestFailed;
  return withPrototype(new RpcError(code, error.message, error.data));
}

// json-rpc-2.0's exception constructor resets the prototype to its own class, which would hide
// that this is an RpcError from the dispatcher (and turn it into InternalError); restore it.
function withPrototype(error: RpcError): RpcError {
  if (!(error instanceof RpcError)) Object.setPrototypeOf(error, RpcError.prototype);
  return error;
}

export const applyRoutes: Routes = {
  requests: {
    'caret/apply': async (params, context) => {
      try {
        const strategy = params.strategy ?? 'auto';
        const model = applyModel(params.files[0]!.textDocument.uri, strategy, context);
        return await runApply(
          {
            files: params.files.map((file) => ({ uri: file.textDocument.uri, version: file.textDocument.version, sketch: file.sketch })),
            ...(params.instruction !== undefined && { instruction: params.instruction }),
            ...(params.strategy && { strategy: params.strategy }),
          },
          {
            source: documentSource(context),
            encoding: context.session.positionEncoding,
            signal: context.signal,
            ...(context.partialResult && { onHunks: context.partialResult }),
            ...(model && { model }),
          },
        );
      } catch (error) {
        throw asRpcError(error);
      }
    },
    'caret/edit': async (params, context) => {
      try {
        const root = rootOf(params.textDocument.uri, context);
        const provider = context.services.models.resolve('chat', { ...(root && { root }), env: context.session.env });
        if (provider.kind === 'builtin') {
          throw new ApplyError('noModel', 'caret/edit needs a chat model to write the change: set [models.chat] in config.toml (an OpenAI-compatible server, Ollama, Anthropic or llama.cpp).');
        }
        return await runEdit(
          { uri: params.textDocument.uri, version: params.textDocument.version, range: params.range, instruction: params.instruction },
          new ChatSelectionWriter(provider),
          {
            source: documentSource(context),
            encoding: context.session.positionEncoding,
            signal: context.signal,
            ...(context.partialResult && { onHunks: context.partialResult }),
          },
        );
      } catch (error) {
        throw asRpcError(error);
      }
    },
    'caret/diff': (params, { session }) => ({
      hunks: buildHunks([{ uri: params.uri ?? 'untitled:diff', oldText: params.oldText, newText: params.newText }], session.positionEncoding),
    }),
  },
};
