// caret/search, caret/symbols, caret/index/*: adapts the protocol to the index service, and
// reports indexing to clients as server-initiated `$/progress`.
import { basename, join } from 'node:path';
import { ErrorCodes, type PositionEncodingKind } from '../../../protocol/index.js';
import type { IndexProgress, IndexStatus, SearchHit, SearchMode, SymbolHit, WorkspaceIndex } from '../../index/index.js';
import { encodedLength, pathToUri, rootPathOf } from '../../workspace/index.js';
import type { RequestContext, Routes, Services, WorkDoneReporter } from '../context.js';
import { RpcError } from '../rpc-error.js';
import type { Session } from '../session.js';

/**
 * An RpcError that `instanceof` recognises: json-rpc-2.0's base class resets the prototype to its
 * own, which hides the subclass; restoring it is harmless once the base class stops doing that.
 */
function rpcError(code: number, message: string, data?: unknown): RpcError {
  return Object.setPrototypeOf(new RpcError(code, message, data), RpcError.prototype) as RpcError;
}

function rootsFromParams(uris: readonly string[] | undefined): string[] | undefined {
  if (!uris) return undefined;
  return uris.map((uri, i) => {
    const root = rootPathOf(uri);
    if (!root) throw rpcError(ErrorCodes.InvalidParams, `roots[${i}] is not a file: URI of an existing folder: ${uri}`, { field: `roots[${i}]` });
    return root;
  });
}

/** The indexes a request covers: the roots it names, else the connection's, else all. */
function indexesFor(uris: readonly string[] | undefined, { session, services }: Pick<RequestContext, 'session' | 'services'>, open = false): WorkspaceIndex[] {
  const named = rootsFromParams(uris);
  const roots = named ?? (session.roots.size ? [...session.roots] : services.index.list().map((index) => index.root));
  const indexes: WorkspaceIndex[] = [];
  for (const root of roots) {
    const index = services.index.get(root) ?? (open ? services.index.open(root, true) : undefined);
    if (index) indexes.push(index);
    else if (named || session.roots.has(root)) {
      throw rpcError(
        ErrorCodes.RequestFailed,
        services.config.get(root).index.enabled
          ? `${root} is not indexed; index it with caret/index/reindex (or \`caret index ${root}\`)`
          : `indexing is off for ${root} (index.enabled = false); caret/index/reindex indexes it anyway`,
        { root },
      );
    }
  }
  return indexes;
}

const characterIn = (lineText: string, utf16: number, encoding: PositionEncodingKind) =>
  encoding === 'utf-16' ? utf16 : encodedLength(lineText.slice(0, utf16), encoding);

function toResult(index: WorkspaceIndex, hit: SearchHit, encoding: PositionEncodingKind) {
  return {
    uri: pathToUri(join(index.root, hit.path)),
    range: {
      start: { line: hit.matchLine, character: characterIn(hit.lineText, hit.matchStart, encoding) },
      end: { line: hit.matchLine, character: characterIn(hit.lineText, hit.matchEnd, encoding) },
    },
    chunkRange: { start: { line: hit.startLine, character: 0 }, end: { line: hit.endLine + 1, character: 0 } },
    score: hit.score,
    ...(hit.symbol && { symbol: hit.symbol }),
    snippet: hit.snippet,
    language: hit.language,
  };
}

function progressView(progress: IndexProgress | undefined) {
  if (!progress) return undefined;
  const elapsed = Math.max(0.001, (Date.now() - progress.startedAt) / 1000);
  const filesPerSecond = Math.round((progress.done / elapsed) * 10) / 10;
  const percentage = progress.total > 0 ? Math.min(100, Math.floor((100 * progress.done) / progress.total)) : 0;
  return {
    phase: progress.phase,
    done: progress.done,
    total: progress.total,
    percentage,
    filesPerSecond,
    ...(filesPerSecond > 0 && progress.total > progress.done && { etaSeconds: Math.round(((progress.total - progress.done) / filesPerSecond) * 10) / 10 }),
  };
}

function statusView(index: WorkspaceIndex) {
  const status: IndexStatus = index.status();
  const progress = progressView(status.progress);
  return {
    root: status.root,
    uri: pathToUri(status.root),
    state: status.state,
    files: status.files,
    chunks: status.chunks,
    symbols: status.symbols,
    skipped: status.skipped as Record<string, number>,
    skippedExamples: status.skippedExamples as Record<string, string[]>,
    rootHash: status.rootHash,
    ...(progress && { progress }),
    secondPassPending: status.secondPassPending,
    ...(status.error && { error: status.error }),
    warnings: status.warnings,
    ...(status.lastSync && {
      lastSync: {
        full: status.lastSync.full,
        scanned: status.lastSync.scanned,
        reread: status.lastSync.reread,
        indexed: status.lastSync.indexed,
        removed: status.lastSync.removed,
        durationMs: status.lastSync.durationMs,
      },
    }),
    database: status.database,
    ...(status.embeddings && { embeddings: status.embeddings }),
  };
}

function describeProgress(progress: IndexProgress | undefined): { message: string; percentage?: number } {
  const view = progressView(progress);
  if (!view) return { message: 'starting' };
  if (view.phase === 'scanning') return { message: 'scanning files' };
  const rate = view.filesPerSecond ? `, ${view.filesPerSecond} files/s` : '';
  const noun = view.phase === 'embedding' ? 'chunks embedded' : view.phase === 'syntax' ? 'files parsed (all searchable)' : 'files';
  return { message: `${view.done}/${view.total} ${noun}${rate}`, percentage: view.percentage };
}

/** Reports an index's work to a reporter until it is ready; returns a stop function. */
function followIndex(index: WorkspaceIndex, reporter: WorkDoneReporter, title: string): () => void {
  let last = 0;
  let ended = false;
  reporter.begin(title, describeProgress(index.progress).message, 0);
  const onState = (state: string, progress: IndexProgress | undefined) => {
    if (ended) return;
    if (state === 'ready' || state === 'error') {
      ended = true;
      index.off('state', onState);
      reporter.end(state === 'ready' ? `${index.status().files} files indexed` : `failed: ${index.error ?? 'unknown error'}`);
      return;
    }
    const now = Date.now();
    if (now - last < 200) return;
    last = now;
    const { message, percentage } = describeProgress(progress);
    reporter.report(message, percentage);
  };
  index.on('state', onState);
  return () => {
    if (ended) return;
    ended = true;
    index.off('state', onState);
    reporter.end();
  };
}

let nextProgressToken = 1;

/** Indexing reported on a progress token, by session id and token: what a cancel stops. */
const progressTargets = new Map<string, WorkspaceIndex>();
const targetKey = (session: Pick<Session, 'id'>, token: string | number) => `${session.id}\0${String(token)}`;

/**
 * `window/workDoneProgress/cancel`: the user cancelled indexing shown on `token`. The pass in
 * progress stops (what it committed stays); the next resync (periodic, or caret/index/reindex)
 * resumes it. Returns false when the token is not indexing progress.
 */
export function cancelIndexProgress(session: Pick<Session, 'id'>, token: string | number): boolean {
  const index = progressTargets.get(targetKey(session, token));
  if (!index) return false;
  index.cancelIndexing();
  return true;
}

function trackProgressToken(session: Session, token: string | number, index: WorkspaceIndex): () => void {
  const key = targetKey(session, token);
  progressTargets.set(key, index);
  return () => {
    if (progressTargets.get(key) === index) progressTargets.delete(key);
  };
}

/** Sends server-initiated progress for indexing to every client that works on the root. */
export function attachIndexProgress(services: Services): void {
  const active = new Map<string, () => void>();
  const supportsProgress = (session: Session) =>
    session.state === 'initialized' && Boolean((session.clientCapabilities as { window?: { workDoneProgress?: boolean } }).window?.workDoneProgress);
  services.index.onOpen((index) => {
    index.on('state', (state) => {
      if (state !== 'scanning' && state !== 'indexing') return;
      for (const session of services.sessions) {
        const key = `${session.id}\0${index.root}`;
        if (active.has(key) || !session.roots.has(index.root) || !supportsProgress(session)) continue;
        const token = `caret/index/${nextProgressToken++}`;
        active.set(key, () => undefined);
        session
          .request('window/workDoneProgress/create', { token })
          .then(() => {
            if (!session.isOpen || (index.state !== 'scanning' && index.state !== 'indexing')) return active.delete(key);
            const stop = followIndex(index, session.workDoneReporter(token), `Indexing ${basename(index.root)}`);
            const untrack = trackProgressToken(session, token, index);
            active.set(key, stop);
            const cleanup = (s: string) => {
              if (s === 'ready' || s === 'error') {
                index.off('state', cleanup);
                active.delete(key);
                untrack();
              }
            };
            index.on('state', cleanup);
            session.onClose(() => {
              stop();
              index.off('state', cleanup);
              active.delete(key);
              untrack();
            });
          })
          .catch(() => active.delete(key));
      }
    });
  });
}

export const searchRoutes: Routes = {
  requests: {
    'caret/search': async (params, context) => {
      const { session, signal } = context;
      const indexes = indexesFor(params.roots, context);
      const limit = params.limit ?? 20;
      const requested: SearchMode = params.mode ?? 'hybrid';
      const withEmbedder = indexes.filter((index) => index.embedderInUse);
      if (requested === 'semantic' && withEmbedder.length === 0) {
        throw rpcError(
          ErrorCodes.RequestFailed,
          'semantic search needs an embedding model: configure [models.embed] in config.toml (see docs/index.md), or search in "lexical" mode',
        );
      }
      const mode: SearchMode = requested === 'hybrid' && withEmbedder.length === 0 ? 'lexical' : requested;
      const hits: Array<{ index: WorkspaceIndex; hit: SearchHit }> = [];
      for (const index of indexes) {
        signal.throwIfAborted();
        const queryVector = mode !== 'lexical' ? await index.embedQuery(params.query, signal) : undefined;
        const found = await index.query(
          {
            query: params.query,
            limit,
            mode,
            ...(params.paths && { paths: params.paths }),
            ...(params.languages && { languages: params.languages }),
            ...(queryVector && { queryVector }),
          },
          signal,
        );
        for (const hit of found) hits.push({ index, hit });
      }
      hits.sort((a, b) => b.hit.score - a.hit.score);
      return {
        results: hits.slice(0, limit).map(({ index, hit }) => toResult(index, hit, session.positionEncoding)),
        mode,
        incomplete: indexes.some((index) => index.state !== 'ready'),
      };
    },
    'caret/symbols': async (params, context) => {
      const indexes = indexesFor(params.roots, context);
      const limit = params.limit ?? 50;
      const encoding = context.session.positionEncoding;
      const all: Array<{ index: WorkspaceIndex; symbol: SymbolHit }> = [];
      for (const index of indexes) {
        for (const symbol of await index.findSymbols(params.query, limit, params.kinds, context.signal)) all.push({ index, symbol });
      }
      const needle = params.query.trim().toLowerCase();
      const rank = (name: string) => (name.toLowerCase() === needle ? 0 : name.toLowerCase().startsWith(needle) ? 1 : 2);
      all.sort((a, b) => rank(a.symbol.name) - rank(b.symbol.name) || a.symbol.name.length - b.symbol.name.length);
      return {
        symbols: all.slice(0, limit).map(({ index, symbol }) => {
          const lineText = encoding === 'utf-16' ? '' : index.lineText(symbol.path, symbol.nameLine) ?? '';
          const start = encoding === 'utf-16' ? symbol.nameCharacter : characterIn(lineText, symbol.nameCharacter, encoding);
          const end = encoding === 'utf-16' ? symbol.nameCharacter + symbol.name.length : characterIn(lineText, symbol.nameCharacter + symbol.name.length, encoding);
          return {
            name: symbol.name,
            kind: symbol.kind,
            ...(symbol.container && { containerName: symbol.container }),
            location: {
              uri: pathToUri(join(index.root, symbol.path)),
              range: { start: { line: symbol.nameLine, character: start }, end: { line: symbol.nameLine, character: end } },
            },
            range: { start: { line: symbol.startLine, character: 0 }, end: { line: symbol.endLine + 1, character: 0 } },
          };
        }),
      };
    },
    'caret/index/status': (params, context) => ({
      indexes: indexesFor(params && !Array.isArray(params) && 'roots' in params ? params.roots : undefined, context).map(statusView),
    }),
    'caret/index/reindex': async (params, context) => {
      const { roots, rebuild, wait } = (params && !Array.isArray(params) ? params : {}) as { roots?: string[]; rebuild?: boolean; wait?: boolean };
      const indexes = indexesFor(roots, context, true);
      for (const index of indexes) {
        if (rebuild) await index.rebuild();
        else index.reindex(true, undefined, 'caret/index/reindex');
      }
      if (wait) {
        // One token, one begin/end: it follows the first root (a CLI or editor names one at a time).
        const first = indexes[0];
        const stops = context.workDone && first ? [followIndex(first, context.workDone, `Indexing ${basename(first.root)}`)] : [];
        const token = (params as { workDoneToken?: string | number } | undefined)?.workDoneToken;
        if (first && token !== undefined) stops.push(trackProgressToken(context.session, token, first));
        try {
          await Promise.all(indexes.map((index) => index.whenIdle(context.signal)));
        } finally {
          stops.forEach((stop) => stop());
        }
      }
      return { indexes: indexes.map(statusView) };
    },
  },
};
