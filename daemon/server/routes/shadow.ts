// caret/shadow/*: adapts protocol params to the sandbox room's ShadowManager.
import { fileURLToPath } from 'node:url';
import { ErrorCodes } from '../../../protocol/index.js';
import { canMountKernelOverlay, decideMode, findBubblewrap, ShadowError, UnsafePathError, type ShadowManager } from '../../../sandbox/index.js';
import type { RequestContext, Routes } from '../context.js';
import { cancelledError } from '../rpc-error.js';
import { RpcError } from '../rpc-error.js';

function manager(context: RequestContext): ShadowManager {
  return context.services.shadows;
}

function toRpcError(error: unknown): unknown {
  if (error instanceof RpcError) return error;
  if (error instanceof UnsafePathError) return new RpcError(ErrorCodes.InvalidParams, error.message);
  if (error instanceof ShadowError) {
    const code = error.kind === 'bad-input' ? ErrorCodes.InvalidParams : ErrorCodes.RequestFailed;
    return new RpcError(code, error.message, { reason: error.kind });
  }
  if (error instanceof Error && /environment variable/.test(error.message)) return new RpcError(ErrorCodes.InvalidParams, error.message);
  return error;
}

async function guarded<T>(fn: () => Promise<T> | T): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw toRpcError(error);
  }
}

function rootPath(root: string): string {
  return root.startsWith('file://') ? fileURLToPath(root) : root;
}

export const shadowRoutes: Routes = {
  requests: {
    'caret/shadow/create': (params, context) =>
      guarded(async () => {
        const info = await manager(context).create(rootPath(params.root));
        return { id: info.id, mountPath: info.mountPath, mode: info.mode };
      }),
    'caret/shadow/list': (params, context) =>
      guarded(async () => ({ shadows: await manager(context).list(params?.root ? rootPath(params.root) : undefined) })),
    'caret/shadow/exec': (params, context) =>
      guarded(async () => {
        context.workDone?.begin('caret/shadow/exec', params.command.join(' '));
        const result = await manager(context).exec(
          params.id,
          {
            command: params.command,
            ...(params.cwd !== undefined && { cwd: params.cwd }),
            ...(params.timeoutMs !== undefined && { timeoutMs: params.timeoutMs }),
            ...(params.env && { env: params.env }),
            ...(params.allowNetwork !== undefined && { allowNetwork: params.allowNetwork }),
            baseEnv: { ...process.env, ...context.session.env },
          },
          context.signal,
          context.partialResult ? (stream, text) => context.partialResult!({ stream, text }) : undefined,
        );
        context.workDone?.end(`exit ${result.exitCode ?? result.signal}`);
        if (result.cancelled) throw cancelledError();
        const { cancelled: _cancelled, ...rest } = result;
        return rest;
      }),
    'caret/shadow/diagnostics': (params, context) =>
      guarded(async () => {
        context.workDone?.begin('caret/shadow/diagnostics', 'running checkers');
        const result = await manager(context).diagnostics(params.id, context.signal);
        context.workDone?.end();
        if (context.signal.aborted) throw cancelledError();
        return result;
      }),
    'caret/shadow/changes': (params, context) => guarded(async () => ({ changes: await manager(context).changes(params.id, params.paths) })),
    'caret/shadow/accept': (params, context) => guarded(async () => ({ results: await manager(context).accept(params.id, params.paths) })),
    'caret/shadow/discard': (params, context) =>
      guarded(async () => {
        await manager(context).discard(params.id);
        return null;
      }),
  },
};

/** `caret doctor`: which shadow mode is in use and why, and whether exec is sandboxed. */
export function shadowDoctorCheck(mode: 'auto' | 'fuse' | 'copy') {
  try {
    const decision = decideMode(mode);
    const bwrap = findBubblewrap();
    const overlay = canMountKernelOverlay();
    const detail = `${decision.mode} mode: ${decision.reason}; exec ${bwrap ? 'sandboxed by bubblewrap' : 'not sandboxed (bubblewrap not installed)'}` +
      (decision.mode === 'fuse' ? `; commands see ${overlay ? 'a kernel overlay of the same layers' : 'the FUSE mount'}` : '');
    if (decision.mode === 'copy' && mode === 'auto') {
      return { name: 'shadow', status: 'warn' as const, detail, fix: 'copy mode copies the whole tree per shadow; make /dev/fuse usable and run `node patches/apply-fuse-native.mjs` for copy-on-write shadows' };
    }
    if (!bwrap) return { name: 'shadow', status: 'warn' as const, detail, fix: 'install bubblewrap (Debian: apt-get install bubblewrap) to sandbox shadow commands' };
    return { name: 'shadow', status: 'ok' as const, detail };
  } catch (error) {
    return { name: 'shadow', status: 'error' as const, detail: (error as Error).message, fix: 'set shadow.mode = "auto" or make FUSE usable' };
  }
}
