// What handlers see. A handler gets its validated params and a context: the connection's session,
// an AbortSignal that fires on `$/cancelRequest` or disconnect, progress reporters for the tokens
// the client passed, and the daemon-wide services. Handlers never see the transport.
import type {
  NotificationName,
  ParamsOf,
  RequestName,
  ResultOf,
  WorkDoneProgressValue,
} from '../../protocol/index.js';
import type { IndexService } from '../index/index.js';
import type { Logger } from '../log/index.js';
import type { ModelRegistry } from '../models/index.js';
import type { CompletionService } from '../completion/index.js';
import type { CaretPaths, ConfigService, EditHistory, WorkspaceRoots } from '../workspace/index.js';
import type { ShadowManager } from '../../sandbox/index.js';
import type { DoctorCheckResult } from './doctor.js';
import type { InflightRequest, Session } from './session.js';

export interface WorkDoneReporter {
  begin(title: string, message?: string, percentage?: number): void;
  report(message?: string, percentage?: number): void;
  end(message?: string): void;
}

export interface RequestContext {
  session: Session;
  services: Services;
  signal: AbortSignal;
  log: Logger;
  /** This request's cancellation state (the signal is made from it on first use). */
  inflight: InflightRequest;
  /** Present when the client passed `workDoneToken`. */
  workDone?: WorkDoneReporter;
  /** Present when the client passed `partialResultToken`: sends one part of the result. */
  partialResult?: (value: unknown) => void;
}

export interface NotificationContext {
  session: Session;
  services: Services;
  log: Logger;
}

export type RequestHandler<M extends RequestName> = (
  params: ParamsOf<M>,
  context: RequestContext,
) => ResultOf<M> | Promise<ResultOf<M>>;

export type NotificationHandler<M extends NotificationName> = (
  params: ParamsOf<M>,
  context: NotificationContext,
) => void;

/** A group of handlers for one area of the protocol. */
export interface Routes {
  requests?: { [M in RequestName]?: RequestHandler<M> };
  notifications?: { [M in NotificationName]?: NotificationHandler<M> };
  /**
   * Server capabilities this group adds to the `initialize` result (LSP's, such as
   * `inlineCompletionProvider`), given the session that is initializing.
   */
  capabilities?: (session: Session) => Record<string, unknown>;
}

export type DoctorCheckProvider = () => DoctorCheckResult | DoctorCheckResult[] | Promise<DoctorCheckResult | DoctorCheckResult[]>;

/** Daemon-wide state shared by every connection. */
export interface Services {
  version: string;
  startedAt: number;
  log: Logger;
  paths: CaretPaths;
  config: ConfigService;
  history: EditHistory;
  roots: WorkspaceRoots;
  /** Model providers per role (`resolve(role, {root, env})`), from the `[models]` config. */
  models: ModelRegistry;
  /** Inline completion and next edit (daemon/completion). */
  completion: CompletionService;
  /** Live sessions, for status and broadcasts. */
  sessions: ReadonlySet<Session>;
  /** Checks `caret doctor` runs; capabilities add theirs. */
  doctorChecks: Map<string, DoctorCheckProvider>;
  /** Where the daemon listens, when it does. */
  endpoints: { socketPath?: string; webSocketUrl?: string };
  /** The code-base index of each workspace root (caret/search, caret/index/*). */
  index: IndexService;
  /** Shadow workspaces (caret/shadow/*). */
  shadows: ShadowManager;
  /** Stops the whole daemon (`caret/daemon/stop`). */
  stopDaemon(reason: string): void;
}

export type { WorkDoneProgressValue };
