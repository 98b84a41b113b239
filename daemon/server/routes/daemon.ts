// caret's own plumbing: document text, ping, status, doctor, stop.
import { setTimeout as sleep } from 'node:timers/promises';
import { PROTOCOL_VERSION } from '../../../protocol/index.js';
import type { Routes } from '../context.js';
import { runDoctorChecks } from '../doctor.js';

export const daemonRoutes: Routes = {
  requests: {
    'caret/document/text': ({ textDocument }, { session }) => {
      const document = session.documents.require(textDocument.uri);
      return { uri: document.uri, languageId: document.languageId, version: document.version, text: document.text };
    },
    'caret/ping': (params, context) => {
      const delayMs = params?.delayMs ?? 0;
      const answer = () => (params?.echo === undefined ? { serverTime: Date.now() } : { echo: params.echo, serverTime: Date.now() });
      if (delayMs === 0) return answer();
      const { signal, workDone } = context;
      return (async () => {
        workDone?.begin('caret/ping', `waiting ${delayMs} ms`, 0);
        const step = Math.max(10, Math.min(100, delayMs));
        for (let waited = 0; waited < delayMs; waited += step) {
          await sleep(Math.min(step, delayMs - waited), undefined, { signal });
          workDone?.report(undefined, (100 * Math.min(delayMs, waited + step)) / delayMs);
        }
        workDone?.end('done');
        return answer();
      })();
    },
    'caret/status': (_params, { services }) => ({
      version: services.version,
      protocolVersion: PROTOCOL_VERSION,
      pid: process.pid,
      uptimeMs: Date.now() - services.startedAt,
      connections: [...services.sessions].map((session) => ({
        id: session.id,
        transport: session.transport,
        ...(session.clientName && { client: [session.clientName, session.clientVersion].filter(Boolean).join(' ') }),
        state: session.state,
        documents: session.documents.size,
        connectedMs: Date.now() - session.connectedAt,
      })),
      roots: services.roots.list(),
      ...(services.endpoints.socketPath && { socketPath: services.endpoints.socketPath }),
      ...(services.endpoints.webSocketUrl && { webSocketUrl: services.endpoints.webSocketUrl }),
    }),
    'caret/doctor': async (_params, { services }) => ({ checks: await runDoctorChecks(services.doctorChecks) }),
    'caret/daemon/stop': (_params, { services, session }) => {
      // Answer first, then stop: the caller learns the request was taken.
      setTimeout(() => services.stopDaemon(`caret/daemon/stop from connection ${session.id}`), 20);
      return null;
    },
  },
};
