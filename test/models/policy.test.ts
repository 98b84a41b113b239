import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { filterForProvider, looksSecretPath, looksSecretText, sendPolicy } from '../../daemon/models/index.js';

describe('send policy', () => {
  it('lets local providers see everything', () => {
    assert.deepEqual(sendPolicy({ path: '.env', ignored: true, text: 'API_KEY=abcdefabcdefabcdefabcdef' }, false), { allowed: true });
  });

  it('keeps ignored files from hosted providers', () => {
    const decision = sendPolicy({ path: 'build/out.js', ignored: true }, true);
    assert.equal(decision.allowed, false);
  });

  it('recognises secret-looking paths', () => {
    for (const path of ['.env', 'app/.env.local', '.env.production', 'id_rsa', 'home/.ssh/config', 'deploy/server.key', 'certs/site.pem', '.npmrc', '.netrc', 'credentials.json', 'secrets.yaml', 'infra/prod.tfvars', 'keys/service-account-prod.json', '.aws/credentials', 'store.p12']) {
      assert.equal(looksSecretPath(path), true, path);
    }
    for (const path of ['.env.example', 'src/env.ts', 'src/keyboard.ts', 'docs/secrets.md', 'README.md', 'src/credentials-form.tsx', 'key.ts']) {
      assert.equal(looksSecretPath(path), false, path);
    }
  });

  it('recognises credentials inside text', () => {
    assert.equal(looksSecretText('-----BEGIN OPENSSH PRIVATE KEY-----\nabc'), true);
    assert.equal(looksSecretText('const key = "sk-ant-api03-abcdefghijklmnopqrstuvwx";'), true);
    assert.equal(looksSecretText('aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'), true);
    assert.equal(looksSecretText('token: ghp_abcdefghijklmnopqrstuvwxyz0123456789'), true);
    assert.equal(looksSecretText('const password = prompt("password");'), false);
    assert.equal(looksSecretText('function apiKeyFromEnv(name) { return process.env[name]; }'), false);
  });

  it('filters a list of context files for a hosted provider', () => {
    const files = [
      { path: 'src/a.ts', text: 'export const a = 1;' },
      { path: '.env', text: 'X=1' },
      { path: 'dist/a.js', ignored: true, text: 'x' },
      { path: 'src/config.ts', text: 'const apiKey = "sk-abcdefghijklmnopqrstuvwxyz012345";' },
    ];
    assert.deepEqual(filterForProvider(files, true).map((f) => f.path), ['src/a.ts']);
    assert.equal(filterForProvider(files, false).length, 4);
  });
});

describe('send policy at the provider edge', () => {
  it('drops secret context files, refuses secret files and credentials, for hosted providers only', async () => {
    const { ApiServer, sse, sseHeaders } = await import('./api-server.js');
    const { collect, registryWith } = await import('./collect.js');
    const { ModelError } = await import('../../daemon/models/index.js');
    const api = await ApiServer.start();
    try {
      api.on('POST /infill', { headers: sseHeaders, chunks: sse([{ content: 'ok', stop: true }]) });
      const hosted = registryWith({ completion: { provider: 'llamacpp', url: api.url, hosted: true, retries: 0 } }).resolve('completion');
      await collect(hosted.infill!({ prefix: 'a', suffix: 'b', filename: 'src/a.ts', extra: [{ filename: '.env', text: 'X=1' }, { filename: 'src/b.ts', text: 'export {}' }, { filename: 'src/c.ts', text: '-----BEGIN RSA PRIVATE KEY-----' }] }));
      assert.deepEqual((api.last('/infill').body as { input_extra: unknown }).input_extra, [{ filename: 'src/b.ts', text: 'export {}' }]);
      const sent = api.requests.length;
      const refused = (error: unknown) => error instanceof ModelError && error.kind === 'refused';
      await assert.rejects(collect(hosted.infill!({ prefix: 'SECRET=', suffix: '', filename: 'deploy/.env.production' })), refused);
      await assert.rejects(collect(hosted.infill!({ prefix: 'const k = "sk-ant-api03-abcdefghijklmnopqrstuvwx";\n', suffix: '', filename: 'src/k.ts' })), refused);
      await assert.rejects(collect(hosted.complete!({ prompt: '-----BEGIN OPENSSH PRIVATE KEY-----\n' })), refused);
      assert.equal(api.requests.length, sent, 'nothing was sent');
      const local = registryWith({ completion: { provider: 'llamacpp', url: api.url, retries: 0 } }).resolve('completion');
      await collect(local.infill!({ prefix: 'SECRET=', suffix: '', filename: '.env', extra: [{ filename: '.env.local', text: 'X=1' }] }));
      assert.equal((api.last('/infill').body as { input_extra: unknown[] }).input_extra.length, 1, 'a local server sees everything');
    } finally {
      await api.close();
    }
  });
});
