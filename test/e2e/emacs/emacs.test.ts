// The Emacs package in the real editor, on every Emacs it supports that is here (the system
// Emacs, 28.2 on Debian 12, and Emacs 30 from scripts/install-emacs30.sh): lint (byte-compile,
// checkdoc, package-lint), ERT unit tests, and ERT end-to-end sessions against a real daemon on a
// fixture project. The Emacsen share one daemon folder and fixture: each session attaches to the
// daemon the previous one left running, so only the first pays for the start and the index.
// Where an Emacs has native compilation (Debian's 28.2 and 30.1 both do), caret runs as native code.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makeTestEnv, repoRoot, type TestEnv } from '../../helpers/index.js';
import { ApiServer, sse, sseHeaders } from '../../models/api-server.js';
import { e2eDir, findEmacsen, packageFile, runBatch, runEmacs, stopDaemon, vcInstallForm, writeFixture, writeGitCheckout } from './emacs-session.js';

const ertArgs = (file: string) => ['-l', file, '-f', 'ert-run-tests-batch-and-exit'];
const emacsen = findEmacsen();

/** What the stand-in chat model writes for caret-e2e-edit-region's instruction. */
const editInstruction = 'rename count to weight';
const rewrittenSelection = [
  'export function sumWeights(items) {',
  '  let weight = 0;',
  '  for (const item of items) weight += item.weight;',
  '  return weight;',
  '}',
].join('\n');

/**
 * The chat model's answer in the OpenAI chat-completions streaming format, in small pieces with
 * pauses (as a hosted model streams), so hunks can arrive while the answer is still coming.
 */
function chatAnswer(request: { body: unknown }) {
  const messages = (request.body as { messages?: Array<{ content?: string }> }).messages ?? [];
  const asked = messages.map((message) => message.content ?? '').join('\n');
  // Only the instruction the test gives gets the rewrite; anything else is an error the test would see.
  if (!asked.includes(editInstruction)) return { status: 400, chunks: ['{"error":{"message":"unexpected request"}}'] };
  const text = '```javascript\n' + rewrittenSelection + '\n```\n';
  return {
    headers: sseHeaders,
    gapMs: 15,
    chunks: sse(
      [
        ...text.match(/[\s\S]{1,12}/g)!.map((piece) => ({ choices: [{ index: 0, delta: { content: piece }, finish_reason: null }] })),
        { choices: [{ index: 0, delta: {}, finish_reason: 'stop' }], usage: { prompt_tokens: 120, completion_tokens: 40 } },
      ],
      true,
    ),
  };
}

describe('emacs package', () => {
  let testEnv: TestEnv;
  let root: string;
  let chatModel: ApiServer;

  before(async () => {
    testEnv = makeTestEnv();
    root = writeFixture(testEnv.dir);
    // caret/edit needs a chat model: a local server speaking the OpenAI wire format plays it.
    chatModel = (await ApiServer.start()).on('POST /v1/chat/completions', chatAnswer);
    testEnv.writeConfig(['[models.chat]', 'provider = "openai"', `url = "${chatModel.url}/v1"`, 'model = "chat-model"', ''].join('\n'));
    // Install (and natively compile, where the Emacs can) for every Emacs at once: the compiler
    // is the slow part and each runs on one core. A failure here shows again in the tests below.
    await Promise.all(emacsen.found.map((emacs) => runEmacs(testEnv, [], {}, undefined, emacs)));
  });

  after(async () => {
    stopDaemon(testEnv);
    testEnv.cleanup();
    await chatModel.close();
  });

  it('finds every Emacs it is tested on', (t) => {
    t.diagnostic(`testing on Emacs ${emacsen.found.map((emacs) => `${emacs.version} (${emacs.command})`).join(', ') || 'none'}`);
    for (const skipped of emacsen.skipped) t.diagnostic(`left out: ${skipped}`);
    assert.deepEqual(emacsen.missing, [], emacsen.missing.join('\n'));
  });

  for (const emacs of emacsen.found) {
    describe(`on Emacs ${emacs.version}`, () => {
      it('byte-compiles without warnings and passes checkdoc and package-lint', async () => {
        const out = join(testEnv.dir, `lint-${emacs.version}`);
        mkdirSync(out, { recursive: true });
        const run = await runEmacs(testEnv, ['-l', join(e2eDir, 'lint.el'), packageFile, out], {}, undefined, emacs);
        assert.equal(run.code, 0, run.output);
        assert.match(run.output, /lint: clean/);
      });

      it('passes its ERT unit tests', async () => {
        const run = await runEmacs(testEnv, ertArgs(join(repoRoot, 'plugins/emacs/test/caret-test.el')), {}, undefined, emacs);
        assert.equal(run.code, 0, run.output);
        assert.match(run.output, /Ran \d+ tests, \d+ results as expected, 0 unexpected/);
      });

      const major = Number(emacs.version.split('.')[0]);
      if (major >= 29) {
        it('installs from a git repository with package-vc-install (Emacs 29+)', async () => {
          const packageDir = join(testEnv.dir, `vc-${emacs.version}`);
          const run = await runBatch(testEnv, ['--eval', vcInstallForm('package-vc', writeGitCheckout(packageDir), join(packageDir, 'elpa'))], {}, undefined, emacs);
          assert.equal(run.code, 0, run.output);
          assert.match(run.output, /installed with package-vc: /);
        });
      }
      if (major >= 30) {
        it('installs from a git repository with use-package :vc (Emacs 30+)', async () => {
          const packageDir = join(testEnv.dir, `use-package-${emacs.version}`);
          const run = await runBatch(testEnv, ['--eval', vcInstallForm('use-package', writeGitCheckout(packageDir), join(packageDir, 'elpa'))], {}, undefined, emacs);
          assert.equal(run.code, 0, run.output);
          assert.match(run.output, /installed with use-package: /);
        });
      }

      it('works end to end against a real daemon', async () => {
        const asked = chatModel.requests.length;
        const run = await runEmacs(
          testEnv,
          ertArgs(join(e2eDir, 'caret-e2e-test.el')),
          { CARET_TEST_ROOT: root, CARET_TEST_EDIT_INSTRUCTION: editInstruction },
          undefined,
          emacs,
        );
        assert.equal(run.code, 0, run.output);
        assert.match(run.output, /Ran \d+ tests, \d+ results as expected, 0 unexpected/);
        // caret-edit reached the chat model with the instruction and the selected text.
        const edits = chatModel.requests.slice(asked).filter((request) => request.path === '/v1/chat/completions');
        assert.equal(edits.length, 1, JSON.stringify(edits.map((request) => request.body)));
        const body = edits[0]!.body as { model: string; messages: Array<{ content: string }> };
        assert.equal(body.model, 'chat-model');
        const prompt = body.messages.map((message) => message.content).join('\n');
        assert.ok(prompt.includes(editInstruction), prompt);
        assert.ok(prompt.includes('export function sumWeights(items) {\n  let count = 0;'), prompt);
      });
    });
  }
});
