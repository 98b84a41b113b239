// Errors a handler throws to answer with a specific JSON-RPC error. Anything else thrown becomes
// InternalError (and is logged), so handlers only reach for this when the client can act on it.
import { JSONRPCErrorException } from 'json-rpc-2.0';
import { ErrorCodes } from '../../protocol/index.js';

export class RpcError extends JSONRPCErrorException {
  constructor(code: number, message: string, data?: unknown) {
    super(message, code, data);
    // json-rpc-2.0's base class resets the prototype; restore ours so `instanceof` works.
    Object.setPrototypeOf(this, new.target.prototype);
    this.name = 'RpcError';
  }
}

export const cancelledError = () => new RpcError(ErrorCodes.RequestCancelled, 'request cancelled');

/** True for the errors fetch, timers and our own code raise when an AbortSignal fires. */
export function isAbortError(error: unknown): boolean {
  return error instanceof Error && (error.name === 'AbortError' || (error as { code?: string }).code === 'ABORT_ERR');
}
