// `caret lsp --standalone` with a local onnx model loaded: every way out (shutdown + exit, exit
// alone, SIGTERM, caret/daemon/stop) disposes the runtime and waits for the model workers to end
// themselves, so the process exits instead of being aborted by onnxruntime.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { after, before, test } from 'node:test';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node.js';
import { testCausalLm } from '../fixtures/models/index.js';
import { cliPath, initializeParams, makeTestEnv, waitForExit, type TestEnv } from '../helpers/index.js';

let env: TestEnv;

before(() => {
  env = makeTestEnv();
  env.writeConfig(['[models]', 'threads = 1', '[models.completion]', 'provider = "onnx"', `path = "${testCausalLm()}"`, 'maxTokens = 64', ''].join('\n'));
});
after(() => env.cleanup());

interface Standalone {
  child: ChildProcess;
  connection: MessageConnection;
  stderr: () => string;
}

async function startStandalone(): Promise<Standalone> {
  const child = spawn(process.execPath, [cliPath, 'lsp', '--standalone'], { env: env.env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const connection = createMessageConnection(new StreamMessageReader(child.stdout!), new StreamMessageWriter(child.stdin!));
  connection.onError(() => undefined);
  connection.onClose(() => undefined);
  connection.listen();
  await connection.sendRequest('initialize', initializeParams({ capabilities: { general: { positionEncodings: ['utf-16'] }, textDocument: { inlineCompletion: {} } } }));
  await connection.sendNotification('initialized', {});
  // doctor loads the model in its worker thread.
  const { checks } = (await connection.sendRequest('caret/doctor')) as { checks: Array<{ name: string; status: string; detail: string }> };
  const completion = checks.find((check) => check.name === 'model completion');
  assert.equal(completion?.status, 'ok', JSON.stringify(checks));
  assert.match(completion!.detail, /causal LM at .* loads/);
  return { child, connection, stderr: () => stderr };
}

/** Starts an inline completion (inference in the worker) without waiting for it. */
async function startInference(connection: MessageConnection): Promise<void> {
  const uri = 'file:///tmp/caret-standalone/fib.ts';
  const text = 'export function fib(n: number): number {\n  if (n < 2) return n;\n  return \n}\n'.repeat(20);
  await connection.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'typescript', version: 1, text } });
  void connection.sendRequest('textDocument/inlineCompletion', { textDocument: { uri }, position: { line: 2, character: 9 }, context: { triggerKind: 1 } }).catch(() => undefined);
}

async function expectCleanExit(standalone: Standalone, expected: number[] = [0]): Promise<void> {
  const code = await waitForExit(standalone.child, 20_000);
  assert.equal(standalone.child.signalCode, null, `killed by a signal; stderr: ${standalone.stderr()}`);
  assert.ok(code !== null && expected.includes(code), `exit code ${code}; stderr: ${standalone.stderr()}`);
  assert.doesNotMatch(standalone.stderr(), /terminate called|Aborted|core dumped/);
  standalone.connection.dispose();
}

test('shutdown then exit with a loaded onnx model (and inference in flight) exits 0', async () => {
  const standalone = await startStandalone();
  await startInference(standalone.connection);
  await standalone.connection.sendRequest('shutdown');
  await standalone.connection.sendNotification('exit');
  await expectCleanExit(standalone);
});

test('exit without shutdown disposes the model and exits 1, as LSP asks, without being aborted', async () => {
  const standalone = await startStandalone();
  await startInference(standalone.connection);
  await standalone.connection.sendNotification('exit');
  await expectCleanExit(standalone, [1]);
});

// Before every way out waited for the model workers, these two ended in onnxruntime's abort in
// about two runs of three (a provider disposed through another path returned before its worker
// had ended, and process.exit() then ended the thread mid-run).
test('SIGTERM with inference in flight ends the model worker first and exits 0', async () => {
  const standalone = await startStandalone();
  await startInference(standalone.connection);
  standalone.child.kill('SIGTERM');
  await expectCleanExit(standalone);
});

test('caret/daemon/stop with inference in flight ends the model worker first and exits 0', async () => {
  const standalone = await startStandalone();
  await startInference(standalone.connection);
  void standalone.connection.sendRequest('caret/daemon/stop').catch(() => undefined);
  await expectCleanExit(standalone);
});
