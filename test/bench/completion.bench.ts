// Daemon overhead per completion, excluding model time: the builtin engine, and a provider that
// answers instantly, on a 5,000-line file with 50 open documents; cache and typing-through hits;
// how fast a superseded request is cancelled; keystroke-to-answer before and during a cold index
// of a large tree. Prints the numbers side by side in one run.
//
// Documents live in the workspace's DocumentStore and every keystroke reaches them as the
// daemon's didChange does (a ranged content change); a request converts its position to an
// offset and the answer's range back, as the route does.
//
//   npm run bench -- completion [--iterations N] [--cold-index DIR]
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { GenerationStream, ModelProvider, ModelResolver } from '../../daemon/models/index.js';
import { CompletionService } from '../../daemon/completion/index.js';
import { IndexService } from '../../daemon/index/index.js';
import { ConfigService, DocumentStore, EditHistory, type TextDocument } from '../../daemon/workspace/index.js';

const argument = (name: string) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : undefined);
const iterations = Number(argument('--iterations') ?? 2000);
// A large tree to index cold while completions run (default: this repository's node_modules).
const coldRoot = argument('--cold-index') ?? join(process.cwd(), 'node_modules');

function sourceFile(seed: number, lines: number): string {
  const out: string[] = [];
  for (let i = 0; i < lines; i++) {
    const n = (i * 7919 + seed * 104_729) % 997;
    switch (i % 6) {
      case 0: out.push(`export function handler${n}(request: Request, reply: Reply) {`); break;
      case 1: out.push(`  const value${n} = await store.get(request.params.id${n % 13});`); break;
      case 2: out.push(`  if (!value${n}) return reply.code(404).send({ error: 'not found' });`); break;
      case 3: out.push(`  log.info('handled', { id: request.params.id${n % 13}, took: Date.now() - start });`); break;
      case 4: out.push(`  return reply.send(value${n});`); break;
      default: out.push('}');
    }
  }
  return out.join('\n') + '\n';
}

const percentile = (values: number[], p: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor((p / 100) * values.length))]!;
const summary = (name: string, values: number[]) => `${name.padEnd(44)} p50 ${percentile(values, 50).toFixed(3).padStart(7)} ms   p99 ${percentile(values, 99).toFixed(3).padStart(7)} ms`;

const instant: ModelProvider = {
  kind: 'llamacpp',
  model: 'instant',
  endpoint: 'memory:',
  id: 'instant',
  capabilities: { fim: 'native', completion: false, chat: false, tools: false, streaming: true, embeddings: false, predictedOutputs: false, promptCaching: false, contextLength: 8192, hosted: false },
  infill: (): GenerationStream => (async function* () {
    yield { type: 'text' as const, text: 'request.params.id1);' };
    yield { type: 'done' as const, finishReason: 'stop' as const };
  })(),
};
const slow: ModelProvider = {
  ...instant,
  id: 'slow',
  infill: (request): GenerationStream => (async function* () {
    await new Promise((resolve, reject) => {
      const timer = setTimeout(resolve, 10_000);
      request.signal?.addEventListener('abort', () => { clearTimeout(timer); reject(request.signal!.reason); }, { once: true });
    });
    yield { type: 'done' as const, finishReason: 'stop' as const };
  })(),
};
const resolverFor = (provider: ModelProvider): ModelResolver => ({ resolve: () => provider, embedder: () => undefined });

async function main(): Promise<void> {
  const store = new DocumentStore(new EditHistory());
  const others: TextDocument[] = Array.from({ length: 50 }, (_, i) => store.open({ uri: `file:///bench/other${i}.ts`, languageId: 'typescript', version: 1, text: sourceFile(i + 1, 1000) }));
  const base = sourceFile(0, 5000);
  const uri = 'file:///bench/main.ts';
  const document = store.open({ uri, languageId: 'typescript', version: 1, text: base });
  const anchor = base.indexOf('  const value', base.length / 2);
  const typedPrefix = '  const value42 = await store.get(';
  const line = document.positionAt(anchor, 'utf-16').line;
  let version = 1;
  /** One didChange: `text` replaces the line's text from `character` to `end` (default: the line's end). */
  const change = (character: number, text: string, end = 100_000) =>
    store.change(uri, ++version, [{ range: { start: { line, character }, end: { line, character: end } }, text }], 'utf-16');
  /** A request as the route makes it: position -> offset, the service, the answer's range -> positions. */
  const ask = async (service: CompletionService, character: number, trigger: 'invoked' | 'automatic') => {
    const offset = document.offsetAt({ line, character }, 'utf-16');
    const items = await service.inline({ sessionKey: 's', document, offset, trigger }, new AbortController().signal);
    for (const item of items) void [document.positionAt(item.start, 'utf-16'), document.positionAt(item.end, 'utf-16')];
    return items;
  };

  const run = async (service: CompletionService, label: string) => {
    const times: number[] = [];
    for (let i = 0; i < iterations; i++) {
      // A fresh keystroke each time: a different document version, so no cache hit.
      const typed = `${typedPrefix}x${i}, `;
      change(0, typed);
      const t0 = performance.now();
      await ask(service, typed.length, 'invoked');
      times.push(performance.now() - t0);
    }
    console.log(summary(label, times.slice(Math.min(50, iterations / 10))));
  };

  const builtin = new CompletionService({ history: { editsOf: () => [], recent: () => [] }, openDocuments: () => others, eagerIndexing: true });
  await run(builtin, 'builtin engine, miss');
  const model = new CompletionService({ history: { editsOf: () => [], recent: () => [] }, openDocuments: () => others, models: resolverFor(instant), settings: () => ({ debounceMinMs: 0 }) });
  await run(model, 'instant model provider, miss (invoked)');

  // Cache and typing-through hits. The user types the suggestion's first characters one at a
  // time (up to five, then deletes them, untimed, and starts over); each keystroke is a didChange
  // through the store and a request at the new cursor. "Keystroke" times both: what a user
  // waits for. Its parts are timed too, and so is reading the whole text afterwards, which only
  // an engine run needs.
  const hits: number[] = [];
  const through: number[] = [];
  const didChange: number[] = [];
  const request: number[] = [];
  const wholeRead: number[] = [];
  change(0, typedPrefix);
  const cursor = typedPrefix.length;
  const first = await ask(model, cursor, 'automatic');
  const suggestion = first[0]!.insertText;
  for (let i = 0, typed = 0; i < iterations; i++) {
    let t0 = performance.now();
    await ask(model, cursor + typed, 'automatic');
    hits.push(performance.now() - t0);
    if (typed === 5) {
      change(cursor, '', cursor + typed);
      typed = 0;
    }
    t0 = performance.now();
    change(cursor + typed, suggestion[typed]!, cursor + typed);
    const t1 = performance.now();
    const rest = await ask(model, cursor + typed + 1, 'automatic');
    const t2 = performance.now();
    didChange.push(t1 - t0);
    request.push(t2 - t1);
    through.push(t2 - t0);
    typed++;
    if (rest[0]?.insertText !== suggestion.slice(typed)) throw new Error('typing-through did not hit the cache');
  }
  // What an engine run pays on top to read the whole text after a keystroke (nothing where the
  // keystroke already paid for it). Its own loop: the garbage of 150 KB reads would land in the
  // typing-through times above, where nothing reads the whole text.
  for (let i = 0; i < Math.min(iterations, 500); i++) {
    change(0, `${typedPrefix}r${i}`);
    const t0 = performance.now();
    void document.text.charCodeAt(0);
    wholeRead.push(performance.now() - t0);
  }
  console.log(summary('cache hit', hits));
  console.log(summary('typing-through hit, keystroke (didChange + request)', through));
  console.log(summary('  didChange of one character', didChange));
  console.log(summary('  request (route conversions + service)', request));
  console.log(summary('then reading the whole 150 KB text', wholeRead));

  // Supersede: how long from the newer request's arrival to the older one answering [].
  const cancel: number[] = [];
  const superseding = new CompletionService({ history: { editsOf: () => [], recent: () => [] }, openDocuments: () => [], models: resolverFor(slow), settings: () => ({ debounceMinMs: 0 }) });
  const small = { uri: 'file:///bench/small.ts', languageId: 'typescript', version: 1, text: 'const a = ' };
  for (let i = 0; i < Math.min(iterations, 300); i++) {
    small.version++;
    const older = superseding.inline({ sessionKey: 's', document: small, offset: 10, trigger: 'invoked' }, new AbortController().signal);
    await new Promise((resolve) => setImmediate(resolve));
    const t0 = performance.now();
    let answered = 0;
    void older.then(() => (answered = performance.now()));
    const newer = superseding.inline({ sessionKey: 's', document: { ...small, version: small.version }, offset: 9, trigger: 'invoked' }, new AbortController().signal);
    await older;
    cancel.push(answered - t0);
    superseding.dispose();
    void newer.catch(() => undefined);
    (superseding as unknown as { disposed: boolean }).disposed = false;
  }
  console.log(summary('superseded request answered [] after', cancel));
  console.log(`(${iterations} iterations; 5,000-line file, 50 open documents of 1,000 lines; node ${process.version})`);

  // Completions while the index does a cold index of a large tree. Latency is measured from when
  // the request was due (a timer) to its answer, so time the event loop spends blocked counts.
  const keystroke = async (service: CompletionService, i: number) => {
    const due = performance.now();
    await new Promise((resolve) => setTimeout(resolve, 0));
    const typed = `${typedPrefix}k${i}, `;
    change(0, typed);
    await ask(service, typed.length, 'invoked');
    return performance.now() - due;
  };
  const quiet: number[] = [];
  for (let i = 0; i < 1000; i++) quiet.push(await keystroke(builtin, i));
  const cache = mkdtempSync('/tmp/caret-bench-index-');
  const config = new ConfigService({ userFile: join(cache, 'none.toml'), trustFile: join(cache, 'trust.json') });
  const silent = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
  const index = new IndexService({ cacheDir: cache, log: silent, settings: (root) => config.get(root).index });
  const started = performance.now();
  const workspace = index.open(coldRoot);
  const busy: number[] = [];
  let state = 'scanning';
  for (let i = 0; performance.now() - started < 120_000; i++) {
    busy.push(await keystroke(builtin, i));
    if (i % 50 === 0) {
      const status = workspace?.status();
      state = status?.state ?? 'none';
      if (state === 'ready' || state === 'error') break;
    }
  }
  const status = workspace?.status();
  console.log(summary('keystroke -> answer, index idle', quiet));
  console.log(summary(`keystroke -> answer, during cold index`, busy));
  console.log(
    `cold index of ${coldRoot}: ${status?.files ?? 0} files, ${status?.chunks ?? 0} chunks, state ${state} after ${((performance.now() - started) / 1000).toFixed(1)} s; ` +
      `p99 ratio busy/idle ${(percentile(busy, 99) / percentile(quiet, 99)).toFixed(2)}`,
  );
  await index.dispose();
  config.dispose();
  rmSync(cache, { recursive: true, force: true });
}

void main();
