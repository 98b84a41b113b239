// Daemon overhead per completion, excluding model time: the builtin engine, and a provider that
// answers instantly, on a 5,000-line file with 50 open documents; cache and typing-through hits;
// how fast a superseded request is cancelled; keystroke-to-answer before and during a cold index
// of a large tree. Prints the numbers side by side in one run.
//
//   npm run bench -- completion [--iterations N] [--cold-index DIR]
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { GenerationStream, ModelProvider, ModelResolver } from '../../daemon/models/index.js';
import { CompletionService } from '../../daemon/completion/index.js';
import { IndexService } from '../../daemon/index/index.js';
import { ConfigService } from '../../daemon/workspace/index.js';

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
  const others = Array.from({ length: 50 }, (_, i) => ({ uri: `file:///bench/other${i}.ts`, languageId: 'typescript', version: 1, text: sourceFile(i + 1, 1000) }));
  const base = sourceFile(0, 5000);
  const document = { uri: 'file:///bench/main.ts', languageId: 'typescript', version: 1, text: base };
  const anchor = base.indexOf('  const value', base.length / 2);
  const typedPrefix = '  const value42 = await store.get(';
  const lineEnd = base.indexOf('\n', anchor);

  const run = async (service: CompletionService, label: string) => {
    const times: number[] = [];
    for (let i = 0; i < iterations; i++) {
      // A fresh keystroke each time: a different document version, so no cache hit.
      const typed = `${typedPrefix}x${i}, `;
      document.text = base.slice(0, anchor) + typed + base.slice(lineEnd);
      document.version++;
      const t0 = performance.now();
      await service.inline({ sessionKey: 's', document, offset: anchor + typed.length, trigger: 'invoked' }, new AbortController().signal);
      times.push(performance.now() - t0);
    }
    console.log(summary(label, times.slice(Math.min(50, iterations / 10))));
  };

  const builtin = new CompletionService({ history: { editsOf: () => [], recent: () => [] }, openDocuments: () => others, eagerIndexing: true });
  await run(builtin, 'builtin engine, miss');
  const model = new CompletionService({ history: { editsOf: () => [], recent: () => [] }, openDocuments: () => others, models: resolverFor(instant), settings: () => ({ debounceMinMs: 0 }) });
  await run(model, 'instant model provider, miss (invoked)');

  // Cache and typing-through hits. Each typed character makes a new document string (a V8 rope
  // of the old text's pieces and the character); the first read of it flattens the 150 KB text.
  // In the daemon that first read is the route's position conversion (the document's line
  // starts), so the service sees a flat string: "service only" measures that, and "first read
  // of an edited text" the flattening itself, which every keystroke pays once wherever it lands.
  const hits: number[] = [];
  const through: number[] = [];
  const throughFlat: number[] = [];
  const firstRead: number[] = [];
  document.text = base.slice(0, anchor) + typedPrefix + base.slice(lineEnd);
  document.version++;
  const offset = anchor + typedPrefix.length;
  const first = await model.inline({ sessionKey: 's', document, offset, trigger: 'automatic' }, new AbortController().signal);
  for (let i = 0; i < iterations; i++) {
    let t0 = performance.now();
    await model.inline({ sessionKey: 's', document, offset, trigger: 'automatic' }, new AbortController().signal);
    hits.push(performance.now() - t0);
    const typed = first[0]!.insertText.slice(0, 1 + (i % 5));
    const typedDocument = { ...document, text: document.text.slice(0, offset) + typed + document.text.slice(offset), version: document.version + 1 + i };
    t0 = performance.now();
    const rest = await model.inline({ sessionKey: 's', document: typedDocument, offset: offset + typed.length, trigger: 'automatic' }, new AbortController().signal);
    through.push(performance.now() - t0);
    if (rest[0]?.insertText !== first[0]!.insertText.slice(typed.length)) throw new Error('typing-through did not hit the cache');
    const flatDocument = { ...typedDocument, text: document.text.slice(0, offset) + typed + document.text.slice(offset) };
    t0 = performance.now();
    flatDocument.text.charCodeAt(0);
    firstRead.push(performance.now() - t0);
    t0 = performance.now();
    await model.inline({ sessionKey: 's', document: flatDocument, offset: offset + typed.length, trigger: 'automatic' }, new AbortController().signal);
    throughFlat.push(performance.now() - t0);
  }
  console.log(summary('cache hit', hits));
  console.log(summary('typing-through hit (fresh edited text)', through));
  console.log(summary('typing-through hit, service only', throughFlat));
  console.log(summary('first read of an edited 150 KB text', firstRead));

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
    document.text = base.slice(0, anchor) + typed + base.slice(lineEnd);
    document.version++;
    await service.inline({ sessionKey: 's', document, offset: anchor + typed.length, trigger: 'invoked' }, new AbortController().signal);
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
