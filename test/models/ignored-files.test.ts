// Ignored files never reach a hosted provider: the registry binds hosted providers to the request's
// workspace root, and context files from .gitignore'd or .caretignore'd files are dropped before
// the HTTP request is made (checked on what a local llama.cpp-style server received).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { IgnoredPaths, ModelError, ModelRegistry, relativeToRoot, type ModelsSettings } from '../../daemon/models/index.js';
import { ApiServer, sse, sseHeaders } from './api-server.js';
import { collect } from './collect.js';

let root: string;
before(() => {
  root = realpathSync(mkdtempSync(join(tmpdir(), 'caret-ignored-')));
  mkdirSync(join(root, '.git', 'info'), { recursive: true });
  mkdirSync(join(root, 'src', 'gen'), { recursive: true });
  mkdirSync(join(root, 'notes'), { recursive: true });
  writeFileSync(join(root, '.gitignore'), 'notes/\n*.local.ts\n');
  writeFileSync(join(root, '.caretignore'), 'private.ts\n');
  writeFileSync(join(root, '.git', 'info', 'exclude'), 'scratch.ts\n');
  writeFileSync(join(root, 'src', '.gitignore'), 'gen/\n!keep.local.ts\n');
});
after(() => rmSync(root, { recursive: true, force: true }));

describe('IgnoredPaths', () => {
  it('applies .gitignore, .caretignore and .git/info/exclude with git precedence, for paths, URIs and relative names', () => {
    const ignored = new IgnoredPaths({ recheckMs: 0 });
    const yes = ['notes/plan.md', 'src/app.local.ts', 'private.ts', 'src/private.ts', 'scratch.ts', 'src/gen/out.ts', join(root, 'notes', 'x.md'), pathToFileURL(join(root, 'private.ts')).href];
    const no = ['src/app.ts', 'src/keep.local.ts', 'README.md', '/elsewhere/private.ts', 'untitled:Untitled-1'];
    for (const path of yes) assert.equal(ignored.isIgnored(root, path), true, path);
    for (const path of no) assert.equal(ignored.isIgnored(root, path), false, path);
    assert.equal(relativeToRoot(root, '../outside.ts'), undefined);
  });

  it('re-reads rules when an ignore file changes (by mtime), not before the recheck interval', () => {
    let now = 0;
    const ignored = new IgnoredPaths({ recheckMs: 1000, now: () => now });
    assert.equal(ignored.isIgnored(root, 'src/app.ts'), false);
    writeFileSync(join(root, '.caretignore'), 'private.ts\napp.ts\n');
    utimesSync(join(root, '.caretignore'), new Date(), new Date(Date.now() + 5000));
    now = 500;
    assert.equal(ignored.isIgnored(root, 'src/app.ts'), false, 'cached within the interval');
    now = 1500;
    assert.equal(ignored.isIgnored(root, 'src/app.ts'), true, 'the changed file is read again');
    writeFileSync(join(root, '.caretignore'), 'private.ts\n');
  });
});

describe('hosted providers never receive ignored files', () => {
  let api: ApiServer;
  let settings: ModelsSettings;
  let registry: ModelRegistry;
  before(async () => {
    api = await ApiServer.start();
    registry = new ModelRegistry({ settings: () => settings, processEnv: {}, ignoredPaths: new IgnoredPaths({ recheckMs: 0 }) });
  });
  after(async () => {
    await registry.dispose();
    await api.close();
  });
  const reply = () => api.on('POST /infill', { headers: sseHeaders, chunks: sse([{ content: 'x', stop: false }, { content: '', stop: true, stop_type: 'eos' }]) });
  const extra = () => [
    { filename: 'src/util.ts', text: 'export const one = 1;' },
    { filename: 'notes/plan.md', text: 'the secret roadmap' },
    { filename: pathToFileURL(join(root, 'src', 'gen', 'out.ts')).href, text: 'generated' },
    { filename: 'src/private.ts (recent edit)', path: 'src/private.ts', text: '-a\n+private change' },
  ];

  it('drops context snippets from ignored files before the request; a local server gets them all', async () => {
    settings = { completion: { provider: 'llamacpp', url: api.url, hosted: true, retries: 0 } };
    reply();
    const hosted = registry.resolve('completion', { root });
    assert.equal(hosted.capabilities.hosted, true);
    assert.equal(registry.resolve('completion', { root }), hosted, 'one guarded provider per root');
    await collect(hosted.infill!({ prefix: 'const a = ', suffix: ';\n', filename: 'src/app.ts', extra: extra(), maxTokens: 4 }));
    const sent = api.last('/infill').body as { input_extra: Array<{ filename: string; text: string }> };
    assert.deepEqual(sent.input_extra, [{ filename: 'src/util.ts', text: 'export const one = 1;' }]);
    assert.doesNotMatch(JSON.stringify(api.requests.map((r) => r.body)), /secret roadmap|generated|private change/);

    settings = { completion: { provider: 'llamacpp', url: api.url, hosted: false, retries: 0 } };
    reply();
    await collect(registry.resolve('completion', { root }).infill!({ prefix: 'const a = ', suffix: ';\n', filename: 'src/app.ts', extra: extra(), maxTokens: 4 }));
    assert.equal((api.last('/infill').body as { input_extra: unknown[] }).input_extra.length, 4, 'a local server sees what you opened');
  });

  it('refuses a completion in an ignored file, and raw or chat prompts whose sources are ignored, sending nothing', async () => {
    settings = { completion: { provider: 'llamacpp', url: api.url, hosted: true, retries: 0 }, chat: { provider: 'openai', url: api.url, model: 'm', hosted: true, apiKeyEnv: 'K', retries: 0 } };
    registry = new ModelRegistry({ settings: () => settings, processEnv: { K: 'key' }, ignoredPaths: new IgnoredPaths({ recheckMs: 0 }) });
    const before = api.requests.length;
    const isRefusal = (error: unknown) => error instanceof ModelError && error.kind === 'refused' && /is ignored/.test(error.message) && /hosted = false/.test(error.fix);
    await assert.rejects(collect(registry.resolve('completion', { root }).infill!({ prefix: 'x', suffix: '', filename: 'notes/plan.md', maxTokens: 4 })), isRefusal);
    await assert.rejects(collect(registry.resolve('completion', { root }).complete!({ prompt: 'x', sources: ['src/app.local.ts'], maxTokens: 4 })), isRefusal);
    await assert.rejects(collect(registry.resolve('chat', { root }).chat!({ messages: [{ role: 'user', content: 'x' }], sources: [pathToFileURL(join(root, 'private.ts')).href] })), isRefusal);
    assert.equal(api.requests.length, before, 'nothing reached the server');
  });
});
