// Lifecycle and plumbing, exactly as LSP defines them (only the fields caret reads are
// constrained; the rest pass through).
import { NoParams, notification, request } from '../define.js';
import { Nullable, Type } from '../schema.js';
import {
  DocumentUri,
  MessageType,
  PositionEncodingKind,
  ProgressToken,
  TraceValue,
  WorkDoneProgressValue,
  WorkspaceFolder,
} from '../types.js';

const ClientInfo = Type.Object({ name: Type.String(), version: Type.Optional(Type.String()) });

export const CaretInitializationOptions = Type.Object(
  {
    env: Type.Optional(
      Type.Record(Type.String(), Type.String(), {
        description:
          'Environment the editor runs with that the shared daemon lacks: PATH, HTTP(S)_PROXY, NO_PROXY, ' +
          'NODE_EXTRA_CA_CERTS, and the API-key variables named in config. Used for this connection only; never logged.',
      }),
    ),
  },
  { description: 'caret-specific initialization options.' },
);

export const ServerCapabilities = Type.Object({
  positionEncoding: PositionEncodingKind,
  textDocumentSync: Type.Object({
    openClose: Type.Boolean(),
    change: Type.Integer({ description: '0 None, 1 Full, 2 Incremental' }),
    save: Type.Object({ includeText: Type.Boolean() }),
  }),
  workspace: Type.Object({
    workspaceFolders: Type.Object({ supported: Type.Boolean(), changeNotifications: Type.Boolean() }),
  }),
  experimental: Type.Object({
    caret: Type.Object({
      protocolVersion: Type.String({ description: 'MAJOR.MINOR.PATCH of the caret protocol.' }),
      methods: Type.Array(Type.String(), { description: 'Every method this daemon serves.' }),
    }),
  }),
});

export const initialize = request({
  method: 'initialize',
  since: '0.1.0',
  beforeInitialize: true,
  doc:
    'The first request on every connection. The client names itself, its workspace folders and its ' +
    'capabilities; `capabilities.general.positionEncodings` lists the encodings it can speak in order ' +
    'of preference, and the server picks the first it supports (utf-16 when none is given). Every ' +
    'position on this connection then uses that encoding. Workspace folders named here are indexed. ' +
    '`initializationOptions.env` carries the editor\'s PATH, proxy and API-key variables.',
  params: Type.Object({
    processId: Nullable(Type.Integer()),
    clientInfo: Type.Optional(ClientInfo),
    locale: Type.Optional(Type.String()),
    rootPath: Type.Optional(Nullable(Type.String())),
    rootUri: Type.Optional(Nullable(DocumentUri)),
    initializationOptions: Type.Optional(Type.Union([CaretInitializationOptions, Type.Null()])),
    capabilities: Type.Object({
      general: Type.Optional(
        Type.Object({ positionEncodings: Type.Optional(Type.Array(Type.String())) }),
      ),
      window: Type.Optional(Type.Object({ workDoneProgress: Type.Optional(Type.Boolean()) })),
    }),
    trace: Type.Optional(TraceValue),
    workspaceFolders: Type.Optional(Nullable(Type.Array(WorkspaceFolder))),
  }),
  result: Type.Object({
    capabilities: ServerCapabilities,
    serverInfo: Type.Object({ name: Type.String(), version: Type.String() }),
  }),
});

export const initialized = notification({
  method: 'initialized',
  since: '0.1.0',
  doc: 'Sent once by the client after it received the `initialize` result.',
  params: Type.Union([Type.Object({}), Type.Null()]),
});

export const shutdown = request({
  method: 'shutdown',
  since: '0.1.0',
  doc:
    'Ends this connection\'s session (not the shared daemon): its requests are cancelled and later ' +
    'requests fail with InvalidRequest until `exit`.',
  params: NoParams,
  result: Type.Null(),
});

export const exit = notification({
  method: 'exit',
  since: '0.1.0',
  beforeInitialize: true,
  doc: 'Closes this connection. The daemon keeps serving its other connections.',
  params: NoParams,
});

export const setTrace = notification({
  method: '$/setTrace',
  since: '0.1.0',
  doc: 'Sets how much the server reports through `$/logTrace` on this connection.',
  params: Type.Object({ value: TraceValue }),
});

export const logTrace = notification({
  method: '$/logTrace',
  direction: 'serverToClient',
  since: '0.1.0',
  doc: 'Trace of the server\'s work for this connection, sent when `$/setTrace` is not `off`.',
  params: Type.Object({ message: Type.String(), verbose: Type.Optional(Type.String()) }),
});

export const cancelRequest = notification({
  method: '$/cancelRequest',
  since: '0.1.0',
  beforeInitialize: true,
  doc:
    'Cancels a request of this connection. Its handler\'s AbortSignal fires, and the request fails ' +
    'with RequestCancelled (-32800) unless it already answered.',
  params: Type.Object({ id: Type.Union([Type.Integer(), Type.String()]) }),
});

export const progress = notification({
  method: '$/progress',
  direction: 'serverToClient',
  since: '0.1.0',
  doc:
    'Progress for a token the client passed as `workDoneToken` (values begin/report/end) or as ' +
    '`partialResultToken` (values are parts of the result, as the method documents), or for a token ' +
    'the server created with `window/workDoneProgress/create`.',
  params: Type.Object({ token: ProgressToken, value: Type.Unknown() }),
});

export const workDoneProgressCreate = request({
  method: 'window/workDoneProgress/create',
  direction: 'serverToClient',
  since: '0.1.0',
  doc:
    'The server asks to report progress of its own work (indexing, say) under a new token. Sent only ' +
    'to clients that set `capabilities.window.workDoneProgress`.',
  params: Type.Object({ token: ProgressToken }),
  result: Type.Null(),
});

export const workDoneProgressCancel = notification({
  method: 'window/workDoneProgress/cancel',
  since: '0.1.0',
  doc: 'The user cancelled server-initiated progress; the work it reports stops if it can.',
  params: Type.Object({ token: ProgressToken }),
});

export const logMessage = notification({
  method: 'window/logMessage',
  direction: 'serverToClient',
  since: '0.1.0',
  doc: 'A message for the client\'s log.',
  params: Type.Object({ type: MessageType, message: Type.String() }),
});

export const showMessage = notification({
  method: 'window/showMessage',
  direction: 'serverToClient',
  since: '0.1.0',
  doc: 'A message the user should see (a version mismatch after an upgrade, say).',
  params: Type.Object({ type: MessageType, message: Type.String() }),
});

/** Value type of `$/progress` for work-done tokens (documented, not enforced on the envelope). */
export const WorkDoneProgress = WorkDoneProgressValue;
