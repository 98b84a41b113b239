// The completion service with its engines: index lookups off the keystroke path, prefetch after
// accept, partial accepts, stale and closed documents, and models that misbehave (garbage, empty,
// enormous, failing), through in-process providers that speak the provider interface.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CompletionService } from '../../daemon/completion/index.js';
import type { GenerationStream, ModelProvider, ModelResolver } from '../../daemon/models/index.js';
import { memoryModel } from './memory-model.js';

const noHistory = { editsOf: () => [], recent: () => [] };
const signal = () => new AbortController().signal;
const doc = (uri: string, text: string, version = 1) => ({ uri, languageId: 'typescript', version, text });

const provider = memoryModel;

test('the index is asked in the background when open documents have nothing, and its hits serve the next keystrokes', async () => {
  const queries: string[] = [];
  const service = new CompletionService({
    history: noHistory,
    openDocuments: () => [],
    eagerIndexing: true,
    searchIndex: (root, query) => {
      queries.push(`${root}:${query}`);
      return [{ path: 'src/server.ts', startLine: 10, snippet: 'const server = createServer(handler, { port: 8080 });\n' }];
    },
  });
  const text = 'import x from "y";\nconst server = createServer(';
  const first = await service.inline({ sessionKey: 's', document: doc('file:///w/src/main.ts', text), offset: text.length, trigger: 'automatic', scope: { root: '/w' } }, signal());
  assert.deepEqual(first, []);
  assert.deepEqual(queries, [], 'not on the keystroke path');
  await service.idle();
  assert.deepEqual(queries, ['/w:const server createServer']);
  const typed = `${text}h`;
  const second = await service.inline({ sessionKey: 's', document: doc('file:///w/src/main.ts', typed, 2), offset: typed.length, trigger: 'automatic', scope: { root: '/w' } }, signal());
  assert.equal(second[0]?.insertText, 'andler, { port: 8080 });');
});

test('forgetting index hits drops what earlier lookups brought in, even a lookup still in flight, and asks again', async () => {
  let snippet = 'const server = createServer(handler, { port: 8080 });\n';
  let queries = 0;
  let release: (() => void) | undefined;
  const service = new CompletionService({
    history: noHistory,
    openDocuments: () => [],
    eagerIndexing: true,
    searchIndex: async () => {
      queries++;
      if (release === undefined) await new Promise<void>((resolve) => (release = resolve));
      return [{ path: 'src/server.ts', startLine: 10, snippet }];
    },
  });
  const text = 'import x from "y";\nconst server = createServer(';
  const typed = `${text}h`;
  const ask = (body: string, version: number, uri = 'file:///w/src/main.ts') =>
    service.inline({ sessionKey: 's', document: doc(uri, body, version), offset: body.length, trigger: 'automatic', scope: { root: '/w' } }, signal());
  assert.deepEqual(await ask(text, 1), []);
  await new Promise((resolve) => setImmediate(resolve));
  service.forgetIndexHits(); // the workspace changed while the lookup ran
  release!();
  await service.idle();
  assert.deepEqual(await ask(typed, 2), [], 'the lookup from before is dropped');
  await service.idle();
  assert.equal(queries, 2, 'the same query is asked again');
  assert.equal((await ask(`${typed}a`, 3))[0]?.insertText, 'ndler, { port: 8080 });');
  snippet = 'const server = createServer(other);\n';
  service.forgetIndexHits();
  // Another document, so no cached suggestion (typing-through) answers instead of the engine.
  assert.deepEqual(await ask(typed, 1, 'file:///w/src/b.ts'), [], 'the old snippet no longer serves');
  await service.idle();
  assert.equal((await ask(`${text}o`, 2, 'file:///w/src/b.ts'))[0]?.insertText, 'ther);');
});

test("the index's snippets of open documents and of the edited one are left out: those are sources already, as edited", async () => {
  // The index has the saved files; the user changed the port in the open server.ts.
  const saved = 'const server = createServer(handler, { port: 8080 });\n';
  let open: ReturnType<typeof doc>[] = [];
  const service = new CompletionService({
    history: noHistory,
    openDocuments: () => open,
    eagerIndexing: true,
    searchIndex: () => [
      { path: 'src/server.ts', startLine: 1, snippet: saved },
      { path: 'src/main.ts', startLine: 1, snippet: saved },
    ],
  });
  const text = 'import x from "y";\nconst server = createServer(';
  await service.inline({ sessionKey: 's', document: doc('file:///w/src/main.ts', text), offset: text.length, trigger: 'automatic', scope: { root: '/w' } }, signal());
  await service.idle();
  open = [doc('file:///w/src/server.ts', 'const server = createServer(handler, { port: 9090 });\n')];
  const typed = `${text}h`;
  const [item] = await service.inline({ sessionKey: 's', document: doc('file:///w/src/main.ts', typed, 2), offset: typed.length, trigger: 'automatic', scope: { root: '/w' } }, signal());
  assert.equal(item?.insertText, 'andler, { port: 9090 });');
});

test('accepting prefetches the next suggestion into the cache; a partial accept keeps the rest', async () => {
  const lines = 'a.push(1);\nb.push(2);\na.push(1);\nb.push(2);\n';
  const service = new CompletionService({ history: noHistory, openDocuments: () => [], eagerIndexing: true });
  const text = `${lines}a.pu`;
  const document = doc('file:///p.ts', `${text}\n`);
  const [item] = await service.inline({ sessionKey: 's', document, offset: text.length, trigger: 'automatic' }, signal());
  assert.equal(item?.insertText, 'sh(1);');
  assert.equal(service.accepted(item!.id), true);
  await service.idle();
  assert.equal(service.stats.prefetched, 1);
  assert.notEqual(service.cache.get(document.uri, `${text}sh(1);`, '\n'), undefined, 'the next request is answered from the cache');
  const [again] = await service.inline({ sessionKey: 's', document: doc('file:///p.ts', `${text}\n`, 5), offset: text.length, trigger: 'invoked' }, signal());
  assert.equal(service.partiallyAccepted(again!.id, 3), true);
  assert.equal(service.cache.get(document.uri, `${text}sh(`, '\n')?.insertText, '1);');
  assert.equal(service.accepted('nope'), false);
});

test('a document that changed or closed while the model ran gets no stale suggestion', async () => {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const service = new CompletionService({ history: noHistory, openDocuments: () => [], models: provider(async () => { await gate; return 'value;'; }), settings: () => ({ debounceMinMs: 0 }) });
  const document = doc('file:///s.ts', 'let x = ');
  const pending = service.inline({ sessionKey: 's', document, offset: 8, trigger: 'invoked' }, signal());
  await new Promise((resolve) => setTimeout(resolve, 10));
  document.text = 'let x = 1';
  document.version = 2;
  release();
  assert.deepEqual(await pending, []);
});

test('models that misbehave: garbage, empty, enormous, failing, slow', async () => {
  const answers: Record<string, () => Promise<string> | string> = {
    'garbage ': () => '\u0000\u0000\ufffd',
    'empty ': () => '',
    'enormous ': () => 'x = 1;\n'.repeat(50_000),
    'failing ': () => {
      throw new Error('server on fire');
    },
    'slow ': () => new Promise((resolve) => setTimeout(() => resolve('late;'), 5000)),
  };
  const service = new CompletionService({
    history: noHistory,
    openDocuments: () => [],
    models: provider((prefix) => answers[prefix.slice(prefix.lastIndexOf('\n') + 1)]!()),
    settings: () => ({ debounceMinMs: 0, maxModelMs: 200, maxLines: 5 }),
  });
  const ask = (line: string) => service.inline({ sessionKey: line, document: doc(`file:///${line.trim()}.ts`, line), offset: line.length, trigger: 'invoked' }, signal());
  assert.deepEqual(await ask('garbage '), []);
  assert.deepEqual(await ask('empty '), []);
  const enormous = await ask('enormous ');
  assert.equal(enormous[0]?.insertText.split('\n').length, 1, 'repetition cut, within maxLines');
  assert.deepEqual(await ask('failing '), []);
  assert.equal(service.stats.modelErrors, 1);
  const started = Date.now();
  assert.deepEqual(await ask('slow '), []);
  assert.ok(Date.now() - started < 3000, 'the hard cap cut the model off');
  assert.equal(service.stats.timedOut, 1);
  const doctor = service.doctor();
  assert.equal(doctor.status, 'ok');
  assert.match(doctor.detail, /completion: llamacpp \(test\).*1 over the 200 ms cap, 1 model errors/);
});

test('a cancelled request rejects; a superseded one answers an empty list', async () => {
  const service = new CompletionService({ history: noHistory, openDocuments: () => [], models: provider((_prefix, abort) => new Promise((resolve, reject) => { const timer = setTimeout(() => resolve('late;'), 5000); abort?.addEventListener('abort', () => { clearTimeout(timer); reject(abort.reason); }); })), settings: () => ({ debounceMinMs: 0 }) });
  const document = doc('file:///c.ts', 'let y = ');
  const controller = new AbortController();
  const cancelled = service.inline({ sessionKey: 's', document, offset: 8, trigger: 'invoked' }, controller.signal);
  controller.abort();
  await assert.rejects(cancelled);
  const older = service.inline({ sessionKey: 's', document, offset: 8, trigger: 'invoked' }, signal());
  const newer = service.inline({ sessionKey: 's', document, offset: 7, trigger: 'invoked' }, signal());
  assert.deepEqual(await older, []);
  assert.equal(service.stats.superseded, 1);
  service.dispose();
  void newer.catch(() => undefined);
});

function chatModel(answer: (prompt: string) => string): ModelResolver {
  const model: ModelProvider = {
    kind: 'openai',
    model: 'chat-test',
    endpoint: 'memory:',
    id: 'chat-test',
    capabilities: { fim: 'none', completion: false, chat: true, tools: false, streaming: true, embeddings: false, predictedOutputs: false, promptCaching: false, contextLength: 8192, hosted: false },
    chat: (request): GenerationStream => (async function* () {
      const prompt = request.messages.map((message) => message.content).join('\n');
      yield { type: 'text' as const, text: answer(prompt) };
      yield { type: 'done' as const, finishReason: 'stop' as const };
    })(),
  };
  return { resolve: () => model, embedder: () => undefined };
}

test('model next edit: the rewritten region becomes minimal edits; an undo of the user\'s edit is dropped', async () => {
  const text = 'function f(total) {\n  const x = count + 1;\n  return x;\n}\n';
  const edit = { uri: 'file:///m.ts', version: 2, offset: 11, deletedText: 'count', insertedText: 'total', updatedAt: 1 };
  const history = { editsOf: () => [edit], recent: () => [edit] };
  let prompts = 0;
  const rewrite = (mode: 'next' | 'undo') => (prompt: string) => {
    prompts++;
    assert.match(prompt, /<\|user_cursor_is_here\|>/);
    assert.match(prompt, /-function f\(count\) \{\n\+function f\(total\) \{/, 'recent edits as unified diffs');
    const region = /<\|editable_region_start\|>\n([\s\S]*?)<\|editable_region_end\|>/.exec(prompt)![1]!.replace('<|user_cursor_is_here|>', '');
    const rewritten = mode === 'next' ? region.replace('count + 1', 'total + 1') : region.replace('f(total)', 'f(count)');
    return `<|editable_region_start|>\n${rewritten}<|editable_region_end|>`;
  };
  const document = doc('file:///m.ts', text, 2);
  const next = new CompletionService({ history, openDocuments: () => [], models: chatModel(rewrite('next')) });
  const result = await next.nextEdit({ sessionKey: 's', document, offset: 16 }, signal());
  assert.ok(result && 'proposal' in result);
  assert.deepEqual(result.proposal.edits, [{ start: text.indexOf('count'), end: text.indexOf('count') + 5, newText: 'total' }]);
  assert.equal(result.proposal.version, 2);
  const undo = new CompletionService({ history, openDocuments: () => [], models: chatModel(rewrite('undo')) });
  assert.equal(await undo.nextEdit({ sessionKey: 's', document, offset: 16 }, signal()), null);
  const garbage = new CompletionService({ history, openDocuments: () => [], models: chatModel(() => 'I think you should rename things.') });
  assert.equal(await garbage.nextEdit({ sessionKey: 's', document, offset: 16 }, signal()), null);
  assert.equal(prompts, 2);
});

test('model prompts: index results and the code the user worked in reach the provider as context files', async () => {
  const seen: Array<{ prefix: string; extra: Array<{ filename: string; text: string }> }> = [];
  const model: ModelProvider = {
    kind: 'llamacpp',
    model: 'ctx',
    endpoint: 'memory:',
    id: 'ctx',
    capabilities: { fim: 'native', completion: false, chat: false, tools: false, streaming: true, embeddings: false, predictedOutputs: false, promptCaching: true, contextLength: 4096, hosted: false },
    infill: (request): GenerationStream => (async function* () {
      seen.push({ prefix: request.prefix, extra: [...(request.extra ?? [])] });
      yield { type: 'text' as const, text: 'done();' };
      yield { type: 'done' as const, finishReason: 'stop' as const };
    })(),
  };
  const service = new CompletionService({
    history: noHistory,
    openDocuments: () => [],
    models: { resolve: () => model, embedder: () => undefined },
    settings: () => ({ debounceMinMs: 0 }),
    searchIndex: () => [{ path: 'lib/helpers.ts', startLine: 3, snippet: 'export function finishUp() { return done(); }\n' }],
  });
  const other = doc('file:///w/lib/other.ts', 'export const other = 1;\n');
  await service.inline({ sessionKey: 's', document: other, offset: 10, trigger: 'invoked', scope: { root: '/w' }, filename: 'lib/other.ts' }, signal());
  await service.idle();
  const text = 'import { finishUp } from "./helpers";\nfinishUp(';
  const [item] = await service.inline({ sessionKey: 's', document: doc('file:///w/lib/main.ts', text), offset: text.length, trigger: 'invoked', scope: { root: '/w' }, filename: 'lib/main.ts' }, signal());
  assert.equal(item?.insertText, 'done();');
  const last = seen[seen.length - 1]!;
  assert.ok(last.prefix.endsWith('finishUp('));
  assert.deepEqual(last.extra.map((file) => file.filename).sort(), ['lib/helpers.ts', 'lib/other.ts']);
});

test('builtin next edit: where no open file has a site, a jump into a file the index names; asked again there, the edit', async () => {
  const text = "export const title = formatTitle('a');\n";
  const edit = { uri: 'file:///ws/src/a.js', version: 2, offset: text.indexOf('Title'), deletedText: 'Label', insertedText: 'Title', updatedAt: 1 };
  // b.js was edited once, long before (its edit still describes its text): the newer edit leads.
  const bOld = { uri: 'file:///ws/src/b.js', version: 1, offset: 0, deletedText: '', insertedText: '// b', updatedAt: 0 };
  const history = { editsOf: (uri: string) => (uri === edit.uri ? [edit] : uri === bOld.uri ? [bOld] : []), recent: () => [edit] };
  const a = doc(edit.uri, text, 2);
  const open = [a];
  const queries: string[] = [];
  let answer: (query: string) => Promise<Array<{ path: string; snippet: string; startLine: number; snippetLine: number }>> = async (query) => [
    // An open file's hit is no jump (open files were searched already); the first other site wins.
    { path: 'src/a.js', snippet: "export const title = formatLabel('a');", startLine: 0, snippetLine: 0 },
    { path: 'src/none.js', snippet: 'export const unrelated = 1;', startLine: 0, snippetLine: 0 },
    { path: 'src/b.js', snippet: `// b\n// ü\nexport const é = ${query}('b');\nexport default é;`, startLine: 10, snippetLine: 12 },
  ];
  const service = new CompletionService({
    history,
    openDocuments: () => open,
    searchIndex: (_root, query) => {
      queries.push(query);
      return answer(query);
    },
  });
  const result = await service.nextEdit({ sessionKey: 's', document: a, offset: edit.offset + 5, scope: { root: '/ws' } }, signal());
  assert.ok(result && 'site' in result, 'a jump-only suggestion');
  assert.deepEqual(queries, ['formatLabel'], 'the name the edit took out is looked up');
  assert.deepEqual(result.site, { uri: 'file:///ws/src/b.js', line: 14, character: "export const é = ".length, lineText: "export const é = formatLabel('b');", reason: result.site.reason });
  assert.match(result.site.reason, /formatLabel/);

  // The client opens b.js at the site and asks there: the latest edit (in a.js, still open), not
  // b.js's old one, is propagated into it, with b.js's version.
  const bText = "// b\n// ü\nexport const é = formatLabel('b');\nexport default é;\n";
  const b = doc('file:///ws/src/b.js', bText, 1);
  open.push(b);
  const there = await service.nextEdit({ sessionKey: 's', document: b, offset: bText.indexOf('formatLabel'), scope: { root: '/ws' } }, signal());
  assert.ok(there && 'proposal' in there);
  assert.equal(there.proposal.uri, b.uri);
  assert.deepEqual(there.proposal.edits, [{ start: bText.indexOf('formatLabel'), end: bText.indexOf('formatLabel') + 'formatLabel'.length, newText: 'formatTitle' }]);
  open.pop();

  // A rejected jump is not offered again.
  assert.ok(service.nextEditRejected(result.id));
  assert.equal(await service.nextEdit({ sessionKey: 's', document: a, offset: edit.offset + 5, scope: { root: '/ws' } }, signal()), null);

  // An index that does not answer in time: no suggestion, and no wait past the budget.
  answer = () => new Promise(() => undefined);
  const fresh = new CompletionService({ history, openDocuments: () => open, searchIndex: (_root, query) => answer(query) });
  assert.equal(await fresh.nextEdit({ sessionKey: 's', document: a, offset: edit.offset + 5, scope: { root: '/ws' } }, signal()), null);
  // Without a workspace root the index is not asked.
  const before = queries.length;
  assert.equal(await service.nextEdit({ sessionKey: 's', document: a, offset: edit.offset + 5 }, signal()), null);
  assert.equal(queries.length, before);
});
