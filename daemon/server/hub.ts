// The hub turns transport connections into sessions and feeds them to the dispatcher. Every
// transport goes through it, so they behave identically.
import type { JSONRPCResponse } from 'json-rpc-2.0';
import type { Logger } from '../log/index.js';
import type { Services } from './context.js';
import { Dispatcher } from './dispatch.js';
import { type MessageChannel, Session } from './session.js';

export type Respond = (response: JSONRPCResponse | JSONRPCResponse[]) => void;

export class SessionHub {
  readonly sessions = new Set<Session>();
  private readonly changeListeners = new Set<() => void>();

  constructor(
    private readonly services: Services,
    private readonly dispatcher: Dispatcher,
    private readonly log: Logger,
  ) {}

  open(channel: MessageChannel): Session {
    const session = new Session(channel, this.services.history, (id) => this.log.child({ connection: id, transport: channel.transport }));
    this.sessions.add(session);
    session.log.info('connection opened');
    session.onClose(() => {
      this.sessions.delete(session);
      for (const root of session.roots) this.services.roots.remove(root);
      session.roots.clear();
      session.log.info('connection closed');
      this.emitChange();
    });
    this.emitChange();
    return session;
  }

  /** Dispatches one decoded message (or batch); replies through `respond`. */
  receive(session: Session, message: unknown, respond: Respond = (response) => session.send(response)): void {
    const pending = this.dispatcher.handle(session, message);
    if (!pending) return;
    pending.then(
      (response) => {
        if (response && session.isOpen) respond(response);
      },
      (error) => session.log.error('dispatch failed', { error }),
    );
  }

  /** Answers bytes that did not decode. */
  parseError(session: Session, detail: string, respond: Respond = (response) => session.send(response)): void {
    session.log.debug('parse error', { detail });
    respond(Dispatcher.parseError(detail));
  }

  /** Called whenever a session opens or closes (the idle timer listens). */
  onChange(listener: () => void): void {
    this.changeListeners.add(listener);
  }

  closeAll(reason: string): void {
    for (const session of [...this.sessions]) session.close(reason);
  }

  private emitChange(): void {
    for (const listener of this.changeListeners) listener();
  }
}
