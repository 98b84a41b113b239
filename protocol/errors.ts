// Error codes. JSON-RPC's own, LSP's, and caret's application codes (in the range JSON-RPC leaves
// to implementations, below LSP's). Codes are part of the protocol: never renumber one.
export const ErrorCodes = {
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
  InternalError: -32603,
  /** LSP: a request arrived before `initialize`. */
  ServerNotInitialized: -32002,
  UnknownErrorCode: -32001,
  /** LSP: the client cancelled the request with `$/cancelRequest`. */
  RequestCancelled: -32800,
  /** LSP: the document changed under the request; its result would be stale. */
  ContentModified: -32801,
  /** LSP: the server cancelled the request (superseded by a newer one). */
  ServerCancelled: -32802,
  RequestFailed: -32803,
  /** caret: the message was larger than `server.maxMessageBytes`; the connection is closed. */
  MessageTooLarge: -32090,
  /** caret: the document named is not open on this connection. */
  DocumentNotOpen: -32091,
  /** caret: a configuration file is invalid; `data` names the file and key. */
  InvalidConfiguration: -32092,
  /** caret: the daemon is shutting down and takes no new work. */
  ShuttingDown: -32093,
  /** caret: the model provider for the role failed or is misconfigured; `data` names provider, endpoint, kind and fix. */
  ModelUnavailable: -32094,
} as const;
export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/** One-line description of each code, for docs/protocol.md. */
export const errorCodeDocs: Record<keyof typeof ErrorCodes, string> = {
  ParseError: 'The message was not valid JSON (or MessagePack). The reply has id null.',
  InvalidRequest: 'The message is not a valid JSON-RPC 2.0 request, or arrived after `shutdown`.',
  MethodNotFound: 'No such method. Notifications for unknown methods are ignored instead.',
  InvalidParams: 'The params failed the method\'s schema; `message` and `data.errors` name the field.',
  InternalError: 'A bug in caret; the daemon keeps running. Please report it with the log file.',
  ServerNotInitialized: 'A request other than `initialize` arrived before `initialize`.',
  UnknownErrorCode: 'Reserved by LSP.',
  RequestCancelled: 'The client cancelled the request with `$/cancelRequest`, or disconnected.',
  ContentModified: 'The document changed while the request ran; ask again.',
  ServerCancelled: 'A newer request superseded this one.',
  RequestFailed: 'The request was valid but failed; `message` says why and what to do.',
  MessageTooLarge: 'The message exceeded `server.maxMessageBytes`; the connection is then closed.',
  DocumentNotOpen: 'The request named a document this connection has not opened (`textDocument/didOpen`).',
  InvalidConfiguration: 'A configuration file is invalid; `data` holds `file`, `key` and `fix`.',
  ShuttingDown: 'The daemon is shutting down and accepts no new work.',
  ModelUnavailable: 'The model provider for this role failed or is misconfigured; `data` holds `provider`, `endpoint`, `kind` (unreachable, timeout, auth, rateLimited, rejected, server, malformed, misconfigured, unsupported, refused) and `fix`.',
};
