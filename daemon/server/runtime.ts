// The composition root of a serving process: shared services, the dispatcher with every route,
// and the session hub. Used by the daemon and by `caret lsp --standalone` alike. Capabilities
// plug in here: create the service, add its doctor checks, add its routes in routes/index.ts.
import { MessageTypes } from '../../protocol/index.js';
import type { Logger } from '../log/index.js';
import { createOnnxProvider, ModelRegistry } from '../models/index.js';
import { CompletionService } from '../completion/index.js';
import { type CaretPaths, ConfigService, EditHistory, formatProblem, WorkspaceRoots } from '../workspace/index.js';
import type { Services } from './context.js';
import { ShadowManager, defaultShadowSettings } from '../../sandbox/index.js';
import { Dispatcher } from './dispatch.js';
import { SessionHub } from './hub.js';
import { attachIndexProgress } from './routes/search.js';
import { IndexService, indexDoctorChecks } from '../index/index.js';
import { allRoutes } from './routes/index.js';
import { coreDoctorChecks } from './checks.js';
import { shadowDoctorCheck } from './routes/shadow.js';

export interface RuntimeOptions {
  paths: CaretPaths;
  log: Logger;
  version: string;
  /** Called by `caret/daemon/stop`. */
  stopDaemon: (reason: string) => void;
}

export interface Runtime {
  services: Services;
  hub: SessionHub;
  dispatcher: Dispatcher;
  dispose(): Promise<void>;
}

export function createRuntime(options: RuntimeOptions): Runtime {
  const { paths, log } = options;
  const config = new ConfigService({ userFile: paths.configFile, trustFile: paths.trustFile });
  const roots = new WorkspaceRoots();
  roots.on('added', (root) => config.addRoot(root));
  roots.on('removed', (root) => config.removeRoot(root));
  const sessions = new Set<never>();
  const models = new ModelRegistry({ settings: (root) => config.get(root).models });
  models.setLocalFactory(createOnnxProvider);
  config.on('change', () => models.configChanged());
  const history = new EditHistory();
  const completion = new CompletionService({
    history,
    models,
    settings: (root) => config.get(root).completion,
    openDocuments: function* () {
      for (const session of services.sessions) yield* session.documents.all();
    },
    // In the index's search thread: a slow query must not hold up the keystrokes behind it.
    searchIndex: async (root, query, limit) =>
      ((await index.get(root)?.query({ query, limit, mode: 'lexical' })) ?? []).map((hit) => ({ path: hit.path, snippet: hit.snippet, startLine: hit.startLine, snippetLine: hit.snippetLine })),
    log,
  });
  const index = new IndexService({ cacheDir: paths.cacheDir, log, settings: (root) => config.get(root).index, embedderFor: (root) => models.embedder({ root }) });
  // Snippets that earlier index lookups brought into completion may no longer be the workspace's
  // code once its files change (a save, a branch switch): drop them, and ask again when needed.
  index.onOpen((opened) => opened.on('synced', (stats) => stats.changed > 0 && completion.forgetIndexHits()));
  roots.on('added', (root) => void index.open(root));
  roots.on('removed', (root) => void index.release(root));
  config.on('change', () => index.configChanged());
  // The embed role's vector length becomes known after the first answer from its server.
  models.on('change', () => index.configChanged());
  const services: Services = {
    version: options.version,
    startedAt: Date.now(),
    log,
    paths,
    config,
    history,
    roots,
    models,
    completion,
    sessions,
    doctorChecks: new Map(),
    endpoints: {},
    stopDaemon: options.stopDaemon,
    index,
    shadows: new ShadowManager(paths.stateDir, (root) => ({ ...defaultShadowSettings, ...config.get(root).shadow }), log),
  };
  services.doctorChecks.set('index', () => indexDoctorChecks(paths.cacheDir, () => models.embedder()));
  void services.shadows.start().catch((error) => log.error('shadow workspaces failed to start', { error }));
  services.doctorChecks.set('completion', () => completion.doctor());
  services.doctorChecks.set('shadow', () => shadowDoctorCheck(config.get().shadow.mode));
  for (const [name, check] of coreDoctorChecks(services)) services.doctorChecks.set(name, check);
  services.doctorChecks.set('models', () =>
    models.health([undefined, ...roots.list()], AbortSignal.timeout(10_000), Object.assign({}, ...[...services.sessions].map((session) => session.env))),
  );

  const dispatcher: Dispatcher = new Dispatcher(allRoutes(() => dispatcher.methods()), services);
  const hub = new SessionHub(services, dispatcher, log);
  attachIndexProgress(services);
  (services as { sessions: Services['sessions'] }).sessions = hub.sessions;

  log.setLevel(config.get().log.level);
  for (const problem of config.problems()) log.warn('configuration problem', { problem: formatProblem(problem) });
  config.on('change', (problems) => {
    log.setLevel(config.get().log.level);
    log.info('configuration reloaded', { problems: problems.length });
    for (const problem of problems.filter((p) => p.severity === 'error')) {
      for (const session of hub.sessions) {
        if (session.state === 'initialized') session.notify('window/showMessage', { type: MessageTypes.Error, message: `caret: ${formatProblem(problem)}` });
      }
    }
  });
  config.watch();

  return {
    services,
    hub,
    dispatcher,
    dispose: async () => {
      hub.closeAll('daemon stopping');
      await services.shadows.dispose();
      await services.index.dispose();
      config.dispose();
      completion.dispose();
      await models.dispose();
    },
  };
}
