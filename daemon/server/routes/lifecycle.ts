// initialize / initialized / shutdown / exit, tracing, cancellation, and the relay's hello.
import { MessageTypes, PROTOCOL_VERSION } from '../../../protocol/index.js';
import { negotiatePositionEncoding, rootPathOf } from '../../workspace/index.js';
import type { Routes, Services } from '../context.js';
import type { Session } from '../session.js';
import { cancelIndexProgress } from './search.js';

export function lifecycleRoutes(servedMethods: () => string[], groups: readonly Routes[]): Routes {
  return {
    requests: {
      initialize: (params, { session, services }) => {
        session.clientName = params.clientInfo?.name;
        session.clientVersion = params.clientInfo?.version;
        session.clientCapabilities = params.capabilities as Record<string, unknown>;
        session.positionEncoding = negotiatePositionEncoding(params.capabilities.general?.positionEncodings);
        session.trace = params.trace ?? 'off';
        session.env = params.initializationOptions?.env ?? {};
        const folders = params.workspaceFolders ?? (params.rootUri ? [{ uri: params.rootUri, name: '' }] : []);
        for (const folder of folders) addRoot(session, services, folder.uri);
        session.state = 'initialized';
        session.log.info('initialized', {
          client: session.clientName,
          clientVersion: session.clientVersion,
          encoding: session.positionEncoding,
          roots: [...session.roots],
        });
        const contributed = Object.assign({}, ...groups.map((group) => group.capabilities?.(session) ?? {}));
        return {
          capabilities: {
            ...contributed,
            positionEncoding: session.positionEncoding,
            textDocumentSync: { openClose: true, change: 2, save: { includeText: false } },
            workspace: { workspaceFolders: { supported: true, changeNotifications: true } },
            experimental: { caret: { protocolVersion: PROTOCOL_VERSION, methods: servedMethods() } },
          },
          serverInfo: { name: 'caret', version: services.version },
        };
      },
      shutdown: (_params, { session, inflight }) => {
        session.state = 'shutdown';
        session.shutdownReceived = true;
        session.cancelAll(inflight);
        return null;
      },
    },
    notifications: {
      initialized: () => undefined,
      exit: (_params, { session }) => session.close('exit'),
      '$/setTrace': (params, { session }) => {
        session.trace = params.value;
      },
      '$/cancelRequest': (params, { session }) => {
        session.cancelRequest(params.id);
      },
      'window/workDoneProgress/cancel': (params, { session }) => {
        // Server-initiated progress is indexing; cancelling stops that pass (the next resync resumes it).
        const cancelled = cancelIndexProgress(session, params.token);
        session.log.debug('client cancelled server progress', { token: params.token, cancelled });
      },
      'caret/relay/hello': (params, { session, services }) => {
        session.relayVersion = params.version;
        if (params.version !== services.version) {
          session.log.warn('relay and daemon versions differ', { relay: params.version, daemon: services.version });
          session.notify('window/showMessage', {
            type: MessageTypes.Warning,
            message:
              `caret: this editor started caret ${params.version}, but the running daemon is ${services.version}. ` +
              'Run `caret stop`; the next request starts the new version.',
          });
        }
      },
    },
  };
}

export function addRoot(session: Session, services: Services, uri: string): void {
  const path = rootPathOf(uri);
  if (!path) {
    session.notify('window/logMessage', { type: MessageTypes.Warning, message: `caret: workspace folder ${uri} is not a file: URI; ignored` });
    return;
  }
  if (session.roots.has(path)) return;
  session.roots.add(path);
  services.roots.add(path);
}

export function removeRoot(session: Session, services: Services, uri: string): void {
  const path = rootPathOf(uri);
  if (!path || !session.roots.delete(path)) return;
  services.roots.remove(path);
}
