// caret/apply, caret/diff and caret/edit: adapts protocol params to the apply room. Documents come
// from this connection's open buffers, else from disk; edits go back to the client, never to disk.
import { ErrorCodes } from '../../../protocol/index.js';
import { ApplyError, buildHunks, EditorDocumentSource, runApply } from '../../apply/index.js';
import type { RequestContext, Routes } from '../context.js';
import { RpcError } from '../rpc-error.js';

function documentSource(context: RequestContext): EditorDocumentSource {
  return new EditorDocumentSource((uri) => {
    const document = context.session.documents.get(uri);
    return document && { text: document.text, version: document.version, languageId: document.languageId };
  });
}

function asRpcError(error: unknown): unknown {
  if (!(error instanceof ApplyError)) return error;
  const code = error.code === 'contentModified' ? ErrorCodes.ContentModified : error.code === 'invalidRequest' ? ErrorCodes.InvalidParams : ErrorCodes.RequestFailed;
  const rpcError = new RpcError(code, error.message, error.data);
  // json-rpc-2.0's exception constructor resets the prototype to its own class, which would hide
  // that this is an RpcError from the dispatcher (and turn it into InternalError); restore it.
  if (!(rpcError instanceof RpcError)) Object.setPrototypeOf(rpcError, RpcError.prototype);
  return rpcError;
}

export const applyRoutes: Routes = {
  requests: {
    'caret/apply': async (params, context) => {
      try {
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
