// Text document synchronisation.
import type { Routes } from '../context.js';

export const documentRoutes: Routes = {
  notifications: {
    'textDocument/didOpen': (params, { session }) => {
      session.documents.open(params.textDocument);
    },
    'textDocument/didChange': (params, { session }) => {
      session.documents.change(
        params.textDocument.uri,
        params.textDocument.version,
        params.contentChanges,
        session.positionEncoding,
      );
    },
    'textDocument/didClose': (params, { session, services }) => {
      session.documents.close(params.textDocument.uri);
      // Stop the model calls still working for it.
      services.completion.documentClosed(String(session.id), params.textDocument.uri);
    },
    'textDocument/didSave': (params, { session }) => {
      session.documents.save(params.textDocument.uri, params.text);
    },
  },
};
