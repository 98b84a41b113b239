// The Emacs package in the real editor: lint (byte-compile, checkdoc, package-lint), ERT unit
// tests, and ERT end-to-end sessions against a real daemon on a fixture project.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makeTestEnv, repoRoot, type TestEnv } from '../../helpers/index.js';
import { e2eDir, emacsVersion, packageFile, runEmacs, stopDaemon, writeFixture } from './emacs-session.js';

const ertArgs = (file: string) => ['-l', file, '-f', 'ert-run-tests-batch-and-exit'];

describe('emacs package', () => {
  let testEnv: TestEnv;

  before(() => {
    assert.ok(emacsVersion(), 'emacs is not installed (apt-get install emacs-nox)');
    testEnv = makeTestEnv();
  });

  after(() => {
    stopDaemon(testEnv);
    testEnv.cleanup();
  });

  it('byte-compiles without warnings and passes checkdoc and package-lint', async () => {
    const out = join(testEnv.dir, 'lint');
    mkdirSync(out, { recursive: true });
    const run = await runEmacs(testEnv, ['-l', join(e2eDir, 'lint.el'), packageFile, out]);
    assert.equal(run.code, 0, run.output);
    assert.match(run.output, /lint: clean/);
  });

  it('passes its ERT unit tests', async () => {
    const run = await runEmacs(testEnv, ertArgs(join(repoRoot, 'plugins/emacs/test/caret-test.el')));
    assert.equal(run.code, 0, run.output);
    assert.match(run.output, /Ran \d+ tests, \d+ results as expected, 0 unexpected/);
  });

  it('works end to end against a real daemon', async () => {
    const root = writeFixture(testEnv.dir);
    const run = await runEmacs(testEnv, ertArgs(join(e2eDir, 'caret-e2e-test.el')), { CARET_TEST_ROOT: root });
    assert.equal(run.code, 0, run.output);
    assert.match(run.output, /Ran \d+ tests, \d+ results as expected, 0 unexpected/);
  });
});
