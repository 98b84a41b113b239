import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BuiltinProvider, ModelError, ModelRegistry, threadBudget } from '../../daemon/models/index.js';
import { registryWith } from './collect.js';

describe('model registry', () => {
  it('serves builtin for every role when nothing is configured', () => {
    const registry = registryWith({});
    for (const role of ['completion', 'nextEdit', 'apply', 'chat', 'embed'] as const) {
      const provider = registry.resolve(role);
      assert.equal(provider.kind, 'builtin');
      assert.equal(provider.capabilities.hosted, false);
    }
    assert.equal(registry.embedder(), undefined, 'builtin search is lexical: no embedder');
  });

  it('builtin engines plug in per role and say clearly when missing', () => {
    const builtin = new BuiltinProvider();
    assert.throws(() => builtin.engine('completion' as never), (error: unknown) => error instanceof ModelError && error.kind === 'unsupported' && /\[models\.completion\]/.test(error.fix));
    const engine = { name: 'continuation' };
    const unplug = builtin.register('completion' as never, engine as never);
    assert.equal(builtin.engine('completion' as never), engine);
    unplug();
    assert.equal(builtin.has('completion'), false);
  });

  it('applies per-provider default URLs and the hosted rule', () => {
    const registry = registryWith(
      { completion: { provider: 'llamacpp' }, chat: { provider: 'openai', model: 'gpt-4.1-mini' }, apply: { provider: 'openai', url: 'http://10.0.0.5:8000/v1', model: 'm', hosted: false } },
      { OPENAI_API_KEY: 'sk-test-0123456789abcdefghijkl' },
    );
    const completion = registry.resolve('completion');
    assert.equal(completion.endpoint, 'http://127.0.0.1:8012/');
    assert.equal(completion.capabilities.hosted, false);
    const chat = registry.resolve('chat');
    assert.equal(chat.endpoint, 'https://api.openai.com/v1');
    assert.equal(chat.capabilities.hosted, true);
    assert.equal(registry.resolve('apply').capabilities.hosted, false, 'hosted can be overridden for a LAN server');
  });

  it('takes API keys from the editor environment first, and never sends a default key elsewhere', () => {
    const registry = registryWith({ chat: { provider: 'openai', model: 'm', apiKeyEnv: 'MY_KEY' }, apply: { provider: 'openai', url: 'http://127.0.0.1:9/v1', model: 'm' } }, { MY_KEY: 'daemon-key-0123456789', OPENAI_API_KEY: 'sk-default' });
    const fromDaemon = registry.resolve('chat');
    const fromEditor = registry.resolve('chat', { env: { MY_KEY: 'editor-key-0123456789' } });
    assert.notEqual(fromDaemon.id, fromEditor.id, 'a different key is a different provider identity');
    assert.ok(!fromEditor.id.includes('editor-key'), 'the id carries a hash, not the key');
    // apply points at a local server: OPENAI_API_KEY is not sent there unless named.
    assert.ok(!registry.resolve('apply').id.includes('#'));
  });

  it('reports misconfiguration with the key to fix', () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ provider: 'openai', model: 'm', apiKeyEnv: 'MISSING_KEY' }, /MISSING_KEY is not set/],
      [{ provider: 'anthropic', model: 'claude' }, /ANTHROPIC_API_KEY is not set/],
      [{ provider: 'ollama' }, /names no model/],
      [{ provider: 'openai', url: 'not a url', model: 'm', apiKeyEnv: 'K' }, /url is not a URL/],
      [{ provider: 'llamacpp', url: 'ftp://host/' }, /must use http or https/],
      [{ provider: 'onnx' }, /names no model directory/],
    ];
    for (const [settings, message] of cases) {
      const registry = registryWith({ chat: settings as never }, { K: 'k' });
      assert.throws(() => registry.resolve('chat'), (error: unknown) => error instanceof ModelError && error.kind === 'misconfigured' && message.test(error.message) && error.fix.length > 0, JSON.stringify(settings));
    }
  });

  it('hands onnx roles to the local factory with the thread budget', () => {
    const registry = new ModelRegistry({ settings: () => ({ threads: 0, completion: { provider: 'onnx', path: '/models/qwen', fimTemplate: 'qwen' } }), cpus: 2 });
    assert.throws(() => registry.resolve('completion'), /not available in this build/);
    let given: unknown;
    const local = registryWith({}).resolve('chat');
    registry.setLocalFactory((settings) => {
      given = settings;
      return local;
    });
    assert.equal(registry.resolve('completion'), local);
    assert.equal(registry.resolve('completion'), local);
    assert.deepEqual(given, {
      role: 'completion',
      path: '/models/qwen',
      model: '',
      threads: 1,
      kvCacheBytes: 256 * 1024 * 1024,
      maxCachedPrompts: 8,
      prefillChunk: 256,
      contextLength: 8192,
      maxTokens: 256,
      fimTemplate: given && (given as { fimTemplate: unknown }).fimTemplate,
    });
    assert.equal((given as { fimTemplate: { prefix: string } }).fimTemplate.prefix, '<|fim_prefix|>');
  });

  it('thread budget leaves a core free', () => {
    assert.equal(threadBudget(0, 2), 1);
    assert.equal(threadBudget(0, 1), 1);
    assert.equal(threadBudget(0, 16), 15);
    assert.equal(threadBudget(3, 16), 3);
  });

  it('reuses a provider while its settings are unchanged and picks up a config change', () => {
    let models: Record<string, unknown> = { completion: { provider: 'llamacpp', url: 'http://127.0.0.1:8012' } };
    const registry = new ModelRegistry({ settings: () => models, processEnv: {} });
    const first = registry.resolve('completion');
    assert.equal(registry.resolve('completion'), first);
    models = { completion: { provider: 'llamacpp', url: 'http://127.0.0.1:8013' } };
    const second = registry.resolve('completion');
    assert.notEqual(second, first);
    assert.equal(second.endpoint, 'http://127.0.0.1:8013/');
  });

  it('refuses embeddings from a provider without an embeddings API', () => {
    const registry = registryWith({ embed: { provider: 'anthropic', model: 'claude', apiKeyEnv: 'K' } }, { K: 'key' });
    assert.throws(() => registry.embedder(), (error: unknown) => error instanceof ModelError && error.kind === 'unsupported');
  });
});
