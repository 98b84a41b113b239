// The shape of one entry in the method table. The table (table.ts) is the single source of
// truth: the server validates against it, handlers are typed from it, and docs/protocol.md and
// caret.schema.json are generated from it.
import { Type, type TSchema } from './schema.js';

export type Direction = 'clientToServer' | 'serverToClient';

interface SpecBase<P extends TSchema> {
  method: string;
  direction: Direction;
  params: P;
  /** One paragraph for docs/protocol.md: what it does, when to call it, what it answers. */
  doc: string;
  /** Protocol version that introduced the method. */
  since: string;
  /** Allowed before `initialize` completes (only lifecycle methods). */
  beforeInitialize?: boolean;
}

export interface RequestSpec<P extends TSchema = TSchema, R extends TSchema = TSchema> extends SpecBase<P> {
  kind: 'request';
  result: R;
  /** Type of each `$/progress` value sent for the request's `partialResultToken`. */
  partialResult?: TSchema;
}

export interface NotificationSpec<P extends TSchema = TSchema> extends SpecBase<P> {
  kind: 'notification';
}

export type MethodSpec = RequestSpec | NotificationSpec;

export const request = <const M extends string, P extends TSchema, R extends TSchema>(
  spec: Omit<RequestSpec<P, R>, 'kind' | 'direction' | 'method'> & { method: M; direction?: Direction },
): RequestSpec<P, R> & { method: M } => ({ kind: 'request', direction: 'clientToServer', ...spec });

export const notification = <const M extends string, P extends TSchema>(
  spec: Omit<NotificationSpec<P>, 'kind' | 'direction' | 'method'> & { method: M; direction?: Direction },
): NotificationSpec<P> & { method: M } => ({ kind: 'notification', direction: 'clientToServer', ...spec });

/**
 * Params for methods that take none. Clients differ in what they send then (omitted, `null`,
 * `{}`, even `[null]` from some libraries), and all of it is ignored.
 */
export const NoParams = Type.Union([Type.Null(), Type.Object({}), Type.Array(Type.Unknown())]);
