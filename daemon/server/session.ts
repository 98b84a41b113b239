// One connection's session: who the client is, what it negotiated, the documents it opened, its
// requests in flight, and how to send it messages. Transports create a session per connection
// and feed it decoded messages; the dispatcher does the rest.
import { JSONRPCClient, type JSONRPCResponse } from 'json-rpc-2.0';
import type {
  NotificationName,
  ParamsOf,
  PositionEncodingKind,
  ProgressToken,
  RequestName,
  ResultOf,
  TraceValue,
  WorkDoneProgressValue,
} from '../../protocol/index.js';
import type { Logger } from '../log/index.js';
import { type ConfigInput, DocumentStore, type EditHistory } from '../workspace/index.js';
import type { WorkDoneReporter } from './context.js';

/** What a transport provides: send one message (or a batch), and close. */
export interface MessageChannel {
  readonly transport: 'stdio' | 'unix' | 'websocket';
  send(message: object): void;
  close(reason?: string): void;
}

export type SessionState = 'awaitingInitialize' | 'initialized' | 'shutdown' | 'closed';

type RequestId = string | number;
const requestKey = (id: RequestId) => (typeof id === 'number' ? `n${id}` : `s${id}`);

let nextSessionId = 1;

/**
 * A request in flight. Its AbortController is made only when the handler asks for the signal:
 * Node's AbortSignal is costly to create, and most requests finish before anyone could cancel.
 */
export class InflightRequest {
  private controller?: AbortController;
  cancelled = false;
  /** Answers the request as cancelled (set by the dispatcher while it waits on the handler). */
  onCancel?: () => void;

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.cancelled) this.controller.abort();
    }
    return this.controller.signal;
  }

  cancel(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.controller?.abort();
    this.onCancel?.();
  }
}

export class Session {
  readonly id = nextSessionId++;
  readonly connectedAt = Date.now();
  state: SessionState = 'awaitingInitialize';
  /** Whether the client sent `shutdown` (LSP's exit code depends on it). */
  shutdownReceived = false;
  clientName?: string;
  clientVersion?: string;
  clientCapabilities: Record<string, unknown> = {};
  positionEncoding: PositionEncodingKind = 'utf-16';
  trace: TraceValue = 'off';
  /** Editor environment from initializationOptions.env (PATH, proxies, API keys); never logged. */
  env: Record<string, string> = {};
  /** Canonical paths of this connection's workspace roots. */
  readonly roots = new Set<string>();
  /** This connection's configuration overrides (workspace/didChangeConfiguration). */
  configOverlay: ConfigInput = {};
  readonly documents: DocumentStore;
  /** Version of the `caret lsp` relay in front of this connection, if any. */
  relayVersion?: string;
  private readonly inflight = new Map<string, InflightRequest>();
  private readonly client: JSONRPCClient;
  private readonly closeListeners = new Set<(session: Session) => void>();

  readonly log: Logger;

  constructor(
    private readonly channel: MessageChannel,
    history: EditHistory,
    makeLogger: (sessionId: number) => Logger,
  ) {
    this.log = makeLogger(this.id);
    this.documents = new DocumentStore(history);
    this.client = new JSONRPCClient((request) => {
      this.send(request);
    });
  }

  get transport(): MessageChannel['transport'] {
    return this.channel.transport;
  }

  get isOpen(): boolean {
    return this.state !== 'closed';
  }

  send(message: object): void {
    if (this.state === 'closed') return;
    try {
      this.channel.send(message);
    } catch (error) {
      this.log.warn('send failed', { error });
    }
  }

  notify<M extends NotificationName>(method: M, params: ParamsOf<M>): void {
    this.send({ jsonrpc: '2.0', method, params });
  }

  /** A request from the daemon to the client (window/workDoneProgress/create, say). */
  async request<M extends RequestName>(method: M, params: ParamsOf<M>, timeoutMs = 10_000): Promise<ResultOf<M>> {
    if (this.state === 'closed') throw new Error('connection closed');
    return (await this.client.timeout(timeoutMs).request(method, params)) as ResultOf<M>;
  }

  /** Feeds a response the client sent to one of our requests. */
  receiveResponse(response: JSONRPCResponse): void {
    this.client.receive(response);
  }

  /** Registers a request in flight; it is cancelled on $/cancelRequest, shutdown or disconnect. */
  beginRequest(id: RequestId): InflightRequest {
    const request = new InflightRequest();
    this.inflight.set(requestKey(id), request);
    return request;
  }

  endRequest(id: RequestId, request: InflightRequest): void {
    const key = requestKey(id);
    if (this.inflight.get(key) === request) this.inflight.delete(key);
  }

  cancelRequest(id: RequestId): boolean {
    const request = this.inflight.get(requestKey(id));
    if (!request) return false;
    request.cancel();
    return true;
  }

  get inflightCount(): number {
    return this.inflight.size;
  }

  /** Cancels every request in flight but the one whose signal is `except`. */
  cancelAll(except?: InflightRequest): void {
    for (const [key, request] of this.inflight) {
      if (request === except) continue;
      request.cancel();
      this.inflight.delete(key);
    }
  }

  workDoneReporter(token: ProgressToken): WorkDoneReporter {
    const send = (value: WorkDoneProgressValue) => this.notify('$/progress', { token, value });
    return {
      begin: (title, message, percentage) =>
        send({ kind: 'begin', title, cancellable: true, ...(message !== undefined && { message }), ...(percentage !== undefined && { percentage }) }),
      report: (message, percentage) =>
        send({ kind: 'report', ...(message !== undefined && { message }), ...(percentage !== undefined && { percentage: Math.round(percentage) }) }),
      end: (message) => send({ kind: 'end', ...(message !== undefined && { message }) }),
    };
  }

  logTrace(message: string, verbose?: string): void {
    if (this.trace === 'off') return;
    this.notify('$/logTrace', { message, ...(this.trace === 'verbose' && verbose !== undefined && { verbose }) });
  }

  onClose(listener: (session: Session) => void): void {
    this.closeListeners.add(listener);
  }

  /** Ends the session: cancels its work, forgets its documents, closes the transport. */
  close(reason = 'closed'): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.cancelAll();
    this.client.rejectAllPendingRequests(`connection ${reason}`);
    for (const listener of this.closeListeners) {
      try {
        listener(this);
      } catch (error) {
        this.log.error('close listener failed', { error });
      }
    }
    this.closeListeners.clear();
    try {
      this.channel.close(reason);
    } catch {
      // Already closed.
    }
  }
}
