// The models layer inside a running daemon: the [models] config section, the registry service,
// the editor's environment from initialize, and `caret doctor`.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RunningDaemon } from '../../daemon/server/index.js';
import { parseConfigText, restrictWorkspaceConfig } from '../../daemon/workspace/index.js';
import { connectUnix, initializeParams, makeTestEnv, startTestDaemon, type TestEnv } from '../helpers/index.js';
import { ApiServer } from './api-server.js';

describe('models in the daemon', () => {
  let env: TestEnv;
  let daemon: RunningDaemon;
  let api: ApiServer;

  before(async () => {
    api = await ApiServer.start();
    api.on('GET /health', { chunks: [JSON.stringify({ status: 'ok' })] });
    api.on('GET /v1/models', (request) =>
      request.headers.authorization === 'Bearer editor-secret-0123456789'
        ? { chunks: [JSON.stringify({ object: 'list', data: [{ id: 'chat-model' }] })] }
        : { status: 401, chunks: [JSON.stringify({ error: { message: 'bad key', type: 'invalid_request_error' } })] },
    );
    env = makeTestEnv();
    env.writeConfig(
      [
        '[models.completion]',
        'provider = "llamacpp"',
        `url = "${api.url}"`,
        '[models.chat]',
        'provider = "openai"',
        `url = "${api.url}/v1"`,
        'model = "chat-model"',
        'apiKeyEnv = "CARET_TEST_CHAT_KEY"',
        '',
      ].join('\n'),
    );
    daemon = await startTestDaemon(env);
  });
  after(async () => {
    await daemon.stop('test done');
    await api.close();
    env.cleanup();
  });

  // Runs first: doctor merges the environments of every connected editor.
  it('doctor says what to check when the key is missing', async () => {
    const connection = await connectUnix(env.paths.socketPath);
    try {
      await connection.sendRequest('initialize', initializeParams());
      connection.sendNotification('initialized', {});
      const { checks } = (await connection.sendRequest('caret/doctor')) as { checks: Array<{ name: string; status: string; detail: string; fix?: string }> };
      const chat = checks.find((check) => check.name === 'model chat');
      assert.equal(chat?.status, 'error');
      assert.match(chat!.detail, /CARET_TEST_CHAT_KEY is not set/);
      assert.match(chat!.fix ?? '', /editor's environment/);
    } finally {
      connection.dispose();
    }
  });

  it('resolves roles from config, with the API key from the editor environment, and doctor probes them', async () => {
    const connection = await connectUnix(env.paths.socketPath);
    try {
      await connection.sendRequest('initialize', initializeParams({ initializationOptions: { env: { CARET_TEST_CHAT_KEY: 'editor-secret-0123456789' } } }));
      connection.sendNotification('initialized', {});
      const { checks } = (await connection.sendRequest('caret/doctor')) as { checks: Array<{ name: string; status: string; detail: string; fix?: string }> };
      const byName = new Map(checks.map((check) => [check.name, check]));
      assert.equal(byName.get('model completion')?.status, 'ok', JSON.stringify(checks));
      assert.match(byName.get('model completion')!.detail, /llamacpp at http:\/\/127\.0\.0\.1:\d+\/ answers/);
      assert.equal(byName.get('model chat')?.status, 'ok', JSON.stringify(checks));
      assert.equal(byName.get('model apply')?.detail, 'builtin (no model configured)');
      assert.ok(!JSON.stringify(checks).includes('editor-secret'), 'doctor output never shows the key');
    } finally {
      connection.dispose();
    }
  });

  it('validates the [models] section with the key and the fix', () => {
    const loaded = parseConfigText('[models.completion]\nprovider = "gpt"\ntimeoutMs = 5\n[models.chat]\nmodle = "x"\n', 'config.toml');
    const messages = loaded.problems.map((problem) => `${problem.key}: ${problem.message} ${problem.fix}`);
    assert.ok(messages.some((m) => m.startsWith('models.completion.provider:') && m.includes('"builtin"') && m.includes('"anthropic"')), messages.join('\n'));
    assert.ok(messages.some((m) => m.startsWith('models.completion.timeoutMs:') && m.includes('at least 100')), messages.join('\n'));
    assert.ok(messages.some((m) => m.startsWith('models.chat.modle:') && m.includes('models.chat.model')), messages.join('\n'));
  });

  it('an untrusted workspace cannot point a role at a server or name a key', () => {
    const loaded = parseConfigText('[models.completion]\nprovider = "openai"\nurl = "https://evil.example/v1"\napiKeyEnv = "OPENAI_API_KEY"\nmodel = "m"\nmaxTokens = 64\n', 'ws/.caret/config.toml');
    const restricted = restrictWorkspaceConfig(loaded.config, 'ws/.caret/config.toml', false);
    assert.deepEqual(restricted.config, { models: { completion: { model: 'm', maxTokens: 64 } } });
    assert.deepEqual(restricted.problems.map((p) => p.key).sort(), ['models.completion.apiKeyEnv', 'models.completion.provider', 'models.completion.url']);
    const trusted = restrictWorkspaceConfig(loaded.config, 'ws/.caret/config.toml', true);
    assert.equal((trusted.config.models?.completion as { url?: string }).url, 'https://evil.example/v1');
  });
});
