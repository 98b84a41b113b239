// `caret index [DIR]` and `caret search QUERY`: through the running daemon when there is one (its
// index is the one editors use), otherwise in this process against the same database.
import { existsSync } from 'node:fs';
import { relative, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { IndexSearcher, IndexService, indexDatabasePath, openReader, type WorkspaceIndex } from '../index/index.js';
import { createLogger } from '../log/index.js';
import { socketAlive } from '../server/index.js';
import { type CaretPaths, canonicalPath, ConfigService } from '../workspace/index.js';
import { connectUnixClient } from './client.js';

type Flags = Record<string, string | boolean>;
type Json = Record<string, any>;

interface ProgressView {
  phase: string;
  done: number;
  total: number;
  percentage: number;
  filesPerSecond: number;
  etaSeconds?: number;
}

const BAR_WIDTH = 30;

export function renderProgressLine(progress: ProgressView | undefined, state: string): string {
  if (!progress || progress.phase === 'scanning') return `${state}: scanning files…`;
  const filled = Math.round((BAR_WIDTH * progress.percentage) / 100);
  const bar = `[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}]`;
  const eta = progress.etaSeconds !== undefined ? `, ETA ${formatSeconds(progress.etaSeconds)}` : '';
  const noun = progress.phase === 'embedding' ? 'chunks embedded' : progress.phase === 'syntax' ? 'files in the second pass (all searchable)' : 'files';
  return `${bar} ${String(progress.percentage).padStart(3)}% ${progress.done}/${progress.total} ${noun}, ${Math.round(progress.filesPerSecond)}/s${eta}`;
}

function formatSeconds(seconds: number): string {
  if (seconds < 60) return `${Math.ceil(seconds)}s`;
  return `${Math.floor(seconds / 60)}m${String(Math.ceil(seconds % 60)).padStart(2, '0')}s`;
}

/** Draws one updating line on a terminal, or a line every few seconds otherwise. */
function progressPrinter(): { update(line: string): void; done(): void } {
  const tty = process.stderr.isTTY;
  let last = 0;
  let shown = false;
  return {
    update(line) {
      const now = Date.now();
      if (tty) {
        process.stderr.write(`\r\x1b[2K${line}`);
        shown = true;
      } else if (now - last > 2000) {
        process.stderr.write(`${line}\n`);
        last = now;
      }
    },
    done() {
      if (tty && shown) process.stderr.write('\r\x1b[2K');
    },
  };
}

function summary(status: Json, elapsedMs: number): string {
  const skipped = Object.entries(status.skipped as Record<string, number>).map(([reason, count]) => `${count} ${reason}`);
  const lines = [
    `${status.state === 'ready' ? 'indexed' : status.state} ${status.root}: ${status.files} files, ${status.chunks} chunks, ${status.symbols} symbols in ${(elapsedMs / 1000).toFixed(1)}s`,
    `  skipped: ${skipped.length ? skipped.join(', ') : 'nothing'}`,
    `  root hash ${status.rootHash || '-'}; database ${status.database}`,
  ];
  if (status.embeddings) lines.push(`  embeddings: ${status.embeddings.embedded}/${status.embeddings.total} chunks (${status.embeddings.model})`);
  if (status.error) lines.push(`  error: ${status.error}`);
  for (const warning of status.warnings ?? []) lines.push(`  warning: ${warning}`);
  return lines.join('\n') + '\n';
}

function inProcessService(paths: CaretPaths, root: string): IndexService {
  const config = new ConfigService({ userFile: paths.configFile, trustFile: paths.trustFile });
  config.addRoot(root);
  return new IndexService({
    cacheDir: paths.cacheDir,
    log: createLogger({ file: paths.logFile, level: 'warn' }),
    // A one-off run: no watcher and no periodic resync.
    settings: (dir) => ({ ...config.get(dir).index, watch: false, resyncIntervalSeconds: 0 }),
  });
}

function localStatus(index: WorkspaceIndex): Json {
  const status = index.status();
  const progress = status.progress;
  let view: ProgressView | undefined;
  if (progress) {
    const elapsed = Math.max(0.001, (Date.now() - progress.startedAt) / 1000);
    const rate = progress.done / elapsed;
    view = {
      phase: progress.phase,
      done: progress.done,
      total: progress.total,
      percentage: progress.total ? Math.floor((100 * progress.done) / progress.total) : 0,
      filesPerSecond: rate,
      ...(rate > 0 && { etaSeconds: (progress.total - progress.done) / rate }),
    };
  }
  return { ...status, progress: view };
}

export async function commandIndex(paths: CaretPaths, flags: Flags, args: string[], version: string): Promise<number> {
  const root = canonicalPath(args[0] ?? '.');
  if (!existsSync(root)) {
    process.stderr.write(`caret: ${root} does not exist\n`);
    return 2;
  }
  const started = Date.now();
  const printer = progressPrinter();
  let final: Json;
  if (await socketAlive(paths.socketPath)) {
    const client = await connectUnixClient(paths.socketPath, version);
    try {
      const roots = [pathToFileURL(root).href];
      await client.request('caret/index/reindex', { roots, rebuild: flags.rebuild === true });
      for (;;) {
        final = ((await client.request('caret/index/status', { roots })) as Json).indexes[0];
        if (final.state === 'ready' || final.state === 'error') break;
        printer.update(renderProgressLine(final.progress, final.state));
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    } finally {
      client.close();
    }
  } else {
    const service = inProcessService(paths, root);
    try {
      const index = service.open(root, true)!;
      if (flags.rebuild === true) await index.rebuild();
      const timer = setInterval(() => {
        const status = localStatus(index);
        printer.update(renderProgressLine(status.progress, status.state));
      }, 200);
      await index.whenIdle();
      clearInterval(timer);
      final = localStatus(index);
    } finally {
      await service.dispose();
    }
  }
  printer.done();
  if (flags.json) process.stdout.write(JSON.stringify(final!, null, 2) + '\n');
  else process.stdout.write(summary(final!, Date.now() - started));
  return final!.state === 'ready' ? 0 : 1;
}

const listFlag = (value: string | boolean | undefined) => (typeof value === 'string' ? value.split(',').map((v) => v.trim()).filter(Boolean) : undefined);

export async function commandSearch(paths: CaretPaths, flags: Flags, args: string[], version: string): Promise<number> {
  const query = args.join(' ').trim();
  if (!query) {
    process.stderr.write('usage: caret search QUERY [--mode=lexical|semantic|hybrid] [--limit=N] [--path=GLOB,...] [--lang=ID,...] [--root=DIR] [--json]\n');
    return 2;
  }
  const limit = typeof flags.limit === 'string' ? Number(flags.limit) : 20;
  if (!Number.isInteger(limit) || limit < 1 || limit > 500) {
    process.stderr.write('caret: --limit must be a whole number from 1 to 500\n');
    return 2;
  }
  const mode = typeof flags.mode === 'string' ? flags.mode : undefined;
  if (mode && !['lexical', 'semantic', 'hybrid'].includes(mode)) {
    process.stderr.write('caret: --mode is lexical, semantic or hybrid\n');
    return 2;
  }
  const root = canonicalPath(typeof flags.root === 'string' ? flags.root : '.');
  const pathGlobs = listFlag(flags.path);
  const languages = listFlag(flags.lang);
  let results: Array<{ uri: string; range: Json; score: number; symbol?: string; snippet: string }>;
  if (await socketAlive(paths.socketPath)) {
    const client = await connectUnixClient(paths.socketPath, version);
    try {
      // Search the indexed root that holds the working directory (or --root).
      const all = ((await client.request('caret/index/status', {})) as Json).indexes as Json[];
      const holder = all.map((s) => s.root as string).filter((r) => root === r || root.startsWith(r + sep)).sort((a, b) => b.length - a.length)[0];
      if (!holder) {
        process.stderr.write(`caret: ${root} is not indexed by the daemon; run \`caret index ${root}\` first\n`);
        return 3;
      }
      const answer = (await client.request('caret/search', {
        query,
        limit,
        roots: [pathToFileURL(holder).href],
        ...(mode && { mode }),
        ...(pathGlobs && { paths: pathGlobs }),
        ...(languages && { languages }),
      })) as Json;
      results = answer.results;
    } catch (error) {
      process.stderr.write(`caret: search failed: ${(error as Error).message}\n`);
      return 1;
    } finally {
      client.close();
    }
  } else {
    const file = indexDatabasePath(paths.cacheDir, root);
    if (!existsSync(file)) {
      process.stderr.write(`caret: no index for ${root}; run \`caret index ${root}\` (or start the daemon)\n`);
      return 3;
    }
    if (mode === 'semantic') {
      process.stderr.write('caret: semantic search needs the daemon (it holds the embedding model); start it with `caret daemon`\n');
      return 2;
    }
    const db = openReader(file);
    try {
      results = new IndexSearcher(db)
        .search({ query, limit, mode: 'lexical', ...(pathGlobs && { paths: pathGlobs }), ...(languages && { languages }) })
        .map((hit) => ({
          uri: pathToFileURL(`${root}/${hit.path}`).href,
          range: { start: { line: hit.matchLine, character: hit.matchStart } },
          score: hit.score,
          ...(hit.symbol && { symbol: hit.symbol }),
          snippet: hit.snippet,
        }));
    } finally {
      db.close();
    }
  }
  if (flags.json) {
    process.stdout.write(JSON.stringify(results, null, 2) + '\n');
    return 0;
  }
  for (const result of results) {
    const file = relative(process.cwd(), fileURLToPath(result.uri)) || fileURLToPath(result.uri);
    const position = `${result.range.start.line + 1}:${result.range.start.character + 1}`;
    process.stdout.write(`${file}:${position}${result.symbol ? `  (${result.symbol})` : ''}\n`);
    for (const line of result.snippet.split('\n')) process.stdout.write(`    ${line}\n`);
  }
  if (results.length === 0) process.stderr.write('no matches\n');
  return results.length ? 0 : 1;
}
