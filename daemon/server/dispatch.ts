// Dispatch: from a decoded message to a handler and back. Checks the JSON-RPC envelope, enforces
// the LSP lifecycle (nothing before `initialize`, nothing after `shutdown` but `exit`), validates
// params against the method table, wires cancellation and progress, and maps errors to codes.
// json-rpc-2.0 does the method lookup and response shaping; everything caret adds is one
// middleware and one wrapper per handler.
import { JSONRPCServer, type JSONRPCRequest, type JSONRPCResponse } from 'json-rpc-2.0';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import {
  ErrorCodes,
  lookupMethod,
  type MethodSpec,
  type ProgressToken,
  type TSchema,
} from '../../protocol/index.js';
import { DocumentNotOpenError } from '../workspace/index.js';
import type { NotificationContext, RequestContext, Routes, Services } from './context.js';
import { isAbortError, RpcError } from './rpc-error.js';
import type { Session } from './session.js';

interface Scope {
  session: Session;
}

type Id = string | number;
type AnyHandler = (params: unknown, context: never) => unknown;

const errorResponse = (id: Id | null, code: number, message: string, data?: unknown): JSONRPCResponse => ({
  jsonrpc: '2.0',
  id,
  error: data === undefined ? { code, message } : { code, message, data },
});

const validators = new Map<TSchema, TypeCheck<TSchema>>();
function validatorFor(schema: TSchema): TypeCheck<TSchema> {
  let check = validators.get(schema);
  if (!check) validators.set(schema, (check = TypeCompiler.Compile(schema)));
  return check;
}

/** Names the offending fields: `params.textDocument.uri: Expected string`. */
export function describeInvalidParams(schema: TSchema, params: unknown, root = 'params'): { message: string; errors: Array<{ path: string; message: string }> } {
  const errors = explainErrors(schema, params).slice(0, 5).map((error) => ({
    path: [root, ...error.path.split('/').filter(Boolean)].join('.'),
    message: error.message,
  }));
  const first = errors[0];
  return { message: first ? `Invalid params: ${first.path}: ${first.message}` : 'Invalid params', errors };
}

const typeOfJson = (value: unknown) => (value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value === 'number' ? 'number' : typeof value);
const schemaAccepts = (schema: TSchema, value: unknown) => {
  const type = (schema as { type?: string }).type;
  const kind = typeOfJson(value);
  return type === undefined || type === kind || (type === 'integer' && kind === 'number');
};

/**
 * Errors with the field named. A union ("Expected union value") says nothing useful, so descend
 * into the variant the value most plausibly meant: the one of the value's JSON type with the
 * fewest errors.
 */
function explainErrors(schema: TSchema, value: unknown, prefix = ''): Array<{ path: string; message: string }> {
  const out: Array<{ path: string; message: string }> = [];
  for (const error of validatorFor(schema).Errors(value)) {
    const variants = (error.schema as { anyOf?: TSchema[] }).anyOf;
    if (variants && error.path !== undefined) {
      const plausible = variants.filter((variant) => schemaAccepts(variant, error.value));
      const ranked = plausible
        .map((variant) => ({ variant, count: [...validatorFor(variant).Errors(error.value)].length }))
        .sort((a, b) => a.count - b.count);
      if (ranked[0] && !(error.path === '' && prefix === '' && ranked[0].count === 0)) {
        out.push(...explainErrors(ranked[0].variant, error.value, prefix + error.path));
        continue;
      }
      const expected = variants.map((variant) => describeSchemaBriefly(variant)).join(' or ');
      out.push({ path: prefix + error.path, message: `Expected ${expected}, got ${typeOfJson(error.value)}` });
      continue;
    }
    out.push({ path: prefix + error.path, message: error.message });
  }
  return out;
}

function describeSchemaBriefly(schema: TSchema): string {
  const node = schema as { const?: unknown; type?: string };
  return node.const !== undefined ? JSON.stringify(node.const) : node.type ?? 'value';
}

function isValidId(id: unknown): id is Id {
  return (typeof id === 'number' && Number.isFinite(id)) || typeof id === 'string';
}

export interface DispatcherOptions {
  /** Validate results against the table too (tests turn this on to catch contract drift). */
  checkResults?: boolean;
}

export class Dispatcher {
  private readonly rpc = new JSONRPCServer<Scope>({ errorListener: () => undefined });
  private readonly served: string[] = [];
  private readonly checkResults: boolean;

  constructor(
    routes: readonly Routes[],
    private readonly services: Services,
    options: DispatcherOptions = {},
  ) {
    this.checkResults = options.checkResults ?? process.env.CARET_CHECK_RESULTS === '1';
    for (const group of routes) {
      for (const [method, handler] of Object.entries(group.requests ?? {})) this.addRequest(method, handler as AnyHandler);
      for (const [method, handler] of Object.entries(group.notifications ?? {})) this.addNotification(method, handler as AnyHandler);
    }
    this.rpc.applyMiddleware((next, request, scope) => this.gate(request, scope.session) ?? next(request, scope));
  }

  /** Every client-to-server method with a handler, for `experimental.caret.methods`. */
  methods(): string[] {
    return [...this.served].sort();
  }

  /** Handles one decoded message or batch; resolves to what to send back, or null. */
  handle(session: Session, message: unknown): Promise<JSONRPCResponse | JSONRPCResponse[] | null> | null {
    if (Array.isArray(message)) {
      if (message.length === 0) return Promise.resolve(errorResponse(null, ErrorCodes.InvalidRequest, 'Invalid Request: empty batch'));
      const pending = message.map((item) => this.handleOne(session, item));
      return Promise.all(pending).then((responses) => {
        const sent = responses.filter((response): response is JSONRPCResponse => response !== null);
        return sent.length > 0 ? sent : null;
      });
    }
    return this.handleOne(session, message);
  }

  /** The answer to bytes that were not valid JSON (or MessagePack). */
  static parseError(detail: string): JSONRPCResponse {
    return errorResponse(null, ErrorCodes.ParseError, `Parse error: ${detail}`);
  }

  private handleOne(session: Session, message: unknown): Promise<JSONRPCResponse | null> | null {
    if (!message || typeof message !== 'object' || Array.isArray(message)) {
      return Promise.resolve(errorResponse(null, ErrorCodes.InvalidRequest, 'Invalid Request: expected a JSON-RPC object'));
    }
    const object = message as Record<string, unknown>;
    const id = isValidId(object.id) ? object.id : null;
    if (object.method === undefined && object.id !== undefined && ('result' in object || 'error' in object)) {
      session.receiveResponse(object as unknown as JSONRPCResponse);
      return null;
    }
    const problem =
      object.jsonrpc !== '2.0'
        ? '"jsonrpc" must be "2.0"'
        : typeof object.method !== 'string'
          ? '"method" must be a string'
          : object.id !== undefined && !isValidId(object.id)
            ? '"id" must be a number or a string'
            : object.params !== undefined && object.params !== null && typeof object.params !== 'object'
              ? '"params" must be an object or an array'
                : undefined;
    if (problem) return Promise.resolve(errorResponse(id, ErrorCodes.InvalidRequest, `Invalid Request: ${problem}`));
    return this.rpc.receive(object as unknown as JSONRPCRequest, { session }) as Promise<JSONRPCResponse | null>;
  }

  /** Lifecycle rules; returns the answer when the message may not proceed. */
  private gate(request: JSONRPCRequest, session: Session): Promise<JSONRPCResponse | null> | undefined {
    const isRequest = request.id !== undefined;
    const spec = lookupMethod(request.method);
    const reply = (code: number, message: string) =>
      Promise.resolve(isRequest ? errorResponse(request.id as Id, code, message) : null);
    switch (session.state) {
      case 'closed':
        return Promise.resolve(null);
      case 'awaitingInitialize':
        if (spec?.beforeInitialize) return undefined;
        return reply(ErrorCodes.ServerNotInitialized, `server not initialized: send "initialize" before "${request.method}"`);
      case 'shutdown':
        if (request.method === 'exit') return undefined;
        return reply(ErrorCodes.InvalidRequest, `the session was shut down: only "exit" is accepted, not "${request.method}"`);
      case 'initialized':
        if (request.method === 'initialize') return reply(ErrorCodes.InvalidRequest, '"initialize" was already called on this connection');
        return undefined;
    }
  }

  private addRequest(method: string, handler: AnyHandler): void {
    const spec = this.specFor(method, 'request');
    this.served.push(method);
    this.rpc.addMethodAdvanced(method, (request, { session }) => this.runRequest(spec, handler, request, session));
  }

  private addNotification(method: string, handler: AnyHandler): void {
    const spec = this.specFor(method, 'notification');
    this.served.push(method);
    this.rpc.addMethodAdvanced(method, (request, { session }) => {
      const params = request.params ?? null;
      if (!validatorFor(spec.params).Check(params)) {
        session.log.warn('invalid notification params', { method, problem: describeInvalidParams(spec.params, params).message });
        return Promise.resolve(null);
      }
      const context: NotificationContext = { session, services: this.services, log: session.log };
      try {
        handler(params, context as never);
      } catch (error) {
        this.reportNotificationError(session, method, error);
      }
      return Promise.resolve(null);
    });
  }

  private specFor(method: string, kind: MethodSpec['kind']): MethodSpec {
    const spec = lookupMethod(method);
    if (!spec || spec.kind !== kind || spec.direction !== 'clientToServer') {
      throw new Error(`route for ${method}: the method table has no client-to-server ${kind} of that name`);
    }
    return spec;
  }

  private runRequest(spec: MethodSpec, handler: AnyHandler, request: JSONRPCRequest, session: Session): Promise<JSONRPCResponse | null> {
    const id = request.id as Id;
    const params = request.params ?? null;
    if (!validatorFor(spec.params).Check(params)) {
      const { message, errors } = describeInvalidParams(spec.params, params);
      return Promise.resolve(errorResponse(id, ErrorCodes.InvalidParams, message, { errors }));
    }
    const inflight = session.beginRequest(id);
    const tokens = (params && typeof params === 'object' ? params : {}) as { workDoneToken?: ProgressToken; partialResultToken?: ProgressToken };
    const services = this.services;
    let log: RequestContext['log'] | undefined;
    // Signal and logger are made on first use: most requests never need them.
    const context: RequestContext = {
      session,
      services,
      inflight,
      get signal() {
        return inflight.signal;
      },
      get log() {
        return (log ??= session.log.child({ method: spec.method }));
      },
      ...(tokens.workDoneToken !== undefined && { workDone: session.workDoneReporter(tokens.workDoneToken) }),
      ...(tokens.partialResultToken !== undefined && {
        partialResult: (value: unknown) => {
          if (!inflight.cancelled) session.notify('$/progress', { token: tokens.partialResultToken!, value });
        },
      }),
    };
    const started = session.trace === 'off' ? 0 : performance.now();
    if (started) session.logTrace(`Received request '${spec.method} - (${id})'.`, session.trace === 'verbose' ? JSON.stringify(params) : undefined);
    const finish = (response: JSONRPCResponse) => {
      session.endRequest(id, inflight);
      if (started) session.logTrace(`Sending response '${spec.method} - (${id})'. Processing request took ${(performance.now() - started).toFixed(1)}ms`);
      return response;
    };
    let outcome: unknown;
    try {
      outcome = handler(params, context as never);
    } catch (error) {
      return Promise.resolve(finish(this.failure(id, error, inflight.cancelled, context)));
    }
    if (!(outcome instanceof Promise)) return Promise.resolve(finish(this.success(spec, id, outcome ?? null, context)));
    return new Promise<JSONRPCResponse>((resolve) => {
      // Whichever comes first answers: the handler, or a cancellation.
      inflight.onCancel = () => resolve(finish(errorResponse(id, ErrorCodes.RequestCancelled, 'request cancelled')));
      if (inflight.cancelled) inflight.onCancel();
      (outcome as Promise<unknown>).then(
        (result) => resolve(finish(this.success(spec, id, result ?? null, context))),
        (error) => resolve(finish(this.failure(id, error, inflight.cancelled, context))),
      );
    });
  }

  private success(spec: MethodSpec, id: Id, result: unknown, context: RequestContext): JSONRPCResponse {
    if (this.checkResults && spec.kind === 'request' && !validatorFor(spec.result).Check(result)) {
      const log = context.log;
      const { message } = describeInvalidParams(spec.result, result);
      log.error('handler returned a result that breaks the method table', { problem: message.replace('params', 'result') });
      return errorResponse(id, ErrorCodes.InternalError, `internal error: result of ${spec.method} does not match the protocol (${message.replace('Invalid params: params', 'result')})`);
    }
    return { jsonrpc: '2.0', id, result };
  }

  private failure(id: Id, error: unknown, cancelled: boolean, context: RequestContext): JSONRPCResponse {
    if (error instanceof RpcError) return errorResponse(id, error.code, error.message, error.data);
    if (error instanceof DocumentNotOpenError) return errorResponse(id, ErrorCodes.DocumentNotOpen, error.message, { uri: error.uri });
    if (cancelled || isAbortError(error)) return errorResponse(id, ErrorCodes.RequestCancelled, 'request cancelled');
    context.log.error('request failed', { error });
    return errorResponse(id, ErrorCodes.InternalError, `internal error: ${(error as Error)?.message ?? String(error)} (details in the daemon log: ${this.services.paths.logFile})`);
  }

  private reportNotificationError(session: Session, method: string, error: unknown): void {
    if (error instanceof DocumentNotOpenError || error instanceof RpcError) {
      session.log.warn('notification rejected', { method, reason: error.message });
      session.notify('window/logMessage', { type: 2, message: `caret: ${method}: ${error.message}` });
      return;
    }
    session.log.error('notification handler failed', { method, error });
  }
}
