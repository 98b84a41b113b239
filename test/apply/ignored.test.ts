// Apply never sends an ignored file to a hosted model: the file's text travels in the prompt, so
// the model rewrite names it as a source and the hosted provider refuses before any request.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import { connectUnix, initializeParams, makeTestEnv, startTestDaemon } from '../helpers/index.js';
import { ApiServer, sse, sseHeaders } from '../models/api-server.js';

test('caret/apply with a hosted model refuses a .gitignore\'d file and sends nothing', async () => {
  const api = await ApiServer.start();
  const env = makeTestEnv();
  const root = join(env.dir, 'project');
  mkdirSync(join(root, 'secrets'), { recursive: true });
  writeFileSync(join(root, '.gitignore'), 'secrets/\n');
  const file = join(root, 'secrets', 'keys.js');
  const text = 'export const key = "do-not-send";\n';
  writeFileSync(file, text);
  env.writeConfig(['[models.apply]', 'provider = "openai"', `url = "${api.url}/v1"`, 'model = "apply-model"', 'hosted = true', ''].join('\n'));
  api.on('POST /v1/chat/completions', { headers: sseHeaders, chunks: sse([{ choices: [{ index: 0, delta: { content: 'leaked' }, finish_reason: 'stop' }] }], true) });
  const daemon = await startTestDaemon(env);
  try {
    const connection = await connectUnix(env.paths.socketPath);
    await connection.sendRequest('initialize', initializeParams({ workspaceFolders: [{ uri: pathToFileURL(root).href, name: 'project' }] }));
    const uri = pathToFileURL(file).href;
    await connection.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'javascript', version: 1, text } });
    const outcome = await connection
      .sendRequest('caret/apply', { files: [{ textDocument: { uri, version: 1 }, sketch: 'export const key = "rotated";\n' }], strategy: 'model' })
      .then((result) => JSON.stringify(result), (error: Error) => error.message);
    assert.match(outcome, /ignored/, outcome);
    assert.equal(api.requests.filter((request) => request.path.includes('/chat/completions')).length, 0, 'nothing reached the hosted server');
    connection.dispose();
  } finally {
    await daemon.stop('done');
    await api.close();
    env.cleanup();
  }
});
