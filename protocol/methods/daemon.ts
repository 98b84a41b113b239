// caret's own plumbing: introspection of the daemon and of its view of documents.
import { NoParams, notification, request } from '../define.js';
import { Type, UInteger } from '../schema.js';
import { DocumentUri, TextDocumentIdentifier, WorkDoneProgressParams } from '../types.js';

export const documentText = request({
  method: 'caret/document/text',
  since: '0.1.0',
  doc:
    'Returns the daemon\'s view of a document this connection opened: its text, version and language. ' +
    'For tests and for debugging plugins (is the daemon\'s copy what the editor shows?).',
  params: Type.Object({ textDocument: TextDocumentIdentifier }),
  result: Type.Object({
    uri: DocumentUri,
    languageId: Type.String(),
    version: Type.Integer(),
    text: Type.String(),
  }),
});

export const ping = request({
  method: 'caret/ping',
  since: '0.1.0',
  doc:
    'Answers at once, or after `delayMs` (at most 60,000), reporting work-done progress while it waits ' +
    'if given a `workDoneToken`. For health checks, latency measurement and testing cancellation.',
  params: Type.Union([
    Type.Null(),
    Type.Object({
      delayMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 60_000 })),
      echo: Type.Optional(Type.Unknown()),
      ...WorkDoneProgressParams,
    }),
  ]),
  result: Type.Object({ echo: Type.Optional(Type.Unknown()), serverTime: Type.Number() }),
});

const ConnectionInfo = Type.Object({
  id: UInteger(),
  transport: Type.String({ description: 'stdio, unix or websocket' }),
  client: Type.Optional(Type.String({ description: 'clientInfo.name and version' })),
  state: Type.String(),
  documents: UInteger(),
  connectedMs: UInteger(),
});

export const status = request({
  method: 'caret/status',
  since: '0.1.0',
  doc: 'The daemon\'s version, uptime, connections and workspace roots (what `caret status` prints).',
  params: NoParams,
  result: Type.Object({
    version: Type.String(),
    protocolVersion: Type.String(),
    pid: UInteger(),
    uptimeMs: UInteger(),
    connections: Type.Array(ConnectionInfo),
    roots: Type.Array(Type.String()),
    socketPath: Type.Optional(Type.String()),
    webSocketUrl: Type.Optional(Type.String()),
  }),
});

export const DoctorCheck = Type.Object({
  name: Type.String(),
  status: Type.Union([Type.Literal('ok'), Type.Literal('warn'), Type.Literal('error')]),
  detail: Type.String(),
  fix: Type.Optional(Type.String({ description: 'What to do about a warn or error.' })),
});

export const doctor = request({
  method: 'caret/doctor',
  since: '0.1.0',
  doc:
    'Checks the daemon\'s health and set-up (Node version, socket and token files, configuration ' +
    'validity, and the checks later capabilities add) and says what to fix (what `caret doctor` prints).',
  params: NoParams,
  result: Type.Object({ checks: Type.Array(DoctorCheck) }),
});

export const stopDaemon = request({
  method: 'caret/daemon/stop',
  since: '0.1.0',
  doc:
    'Stops the whole daemon after answering: every connection is closed and running work cancelled. ' +
    'Editors\' `caret lsp` relays exit, and their clients restart them on next use.',
  params: NoParams,
  result: Type.Null(),
});

export const relayHello = notification({
  method: 'caret/relay/hello',
  since: '0.1.0',
  beforeInitialize: true,
  doc:
    'Sent by `caret lsp` before it relays the editor\'s first message, so the daemon knows the relay\'s ' +
    'version. When they differ (an upgrade while the daemon ran), the daemon tells the editor through ' +
    '`window/showMessage` how to restart it.',
  params: Type.Object({ version: Type.String(), pid: UInteger() }),
});
