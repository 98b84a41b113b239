// The Emacs package in the real editor, on every Emacs it supports that is here (the system
// Emacs, 28.2 on Debian 12, and Emacs 30 from scripts/install-emacs30.sh): lint (byte-compile,
// checkdoc, package-lint), ERT unit tests, and ERT end-to-end sessions against a real daemon on a
// fixture project. The Emacsen share one daemon folder and fixture: each session attaches to the
// daemon the previous one left running, so only the first pays for the start and the index.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makeTestEnv, repoRoot, type TestEnv } from '../../helpers/index.js';
import { e2eDir, findEmacsen, packageFile, runEmacs, stopDaemon, writeFixture } from './emacs-session.js';

const ertArgs = (file: string) => ['-l', file, '-f', 'ert-run-tests-batch-and-exit'];
const emacsen = findEmacsen();

describe('emacs package', () => {
  let testEnv: TestEnv;
  let root: string;

  before(() => {
    testEnv = makeTestEnv();
    root = writeFixture(testEnv.dir);
  });

  after(() => {
    stopDaemon(testEnv);
    testEnv.cleanup();
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

      it('works end to end against a real daemon', async () => {
        const run = await runEmacs(testEnv, ertArgs(join(e2eDir, 'caret-e2e-test.el')), { CARET_TEST_ROOT: root }, undefined, emacs);
        assert.equal(run.code, 0, run.output);
        assert.match(run.output, /Ran \d+ tests, \d+ results as expected, 0 unexpected/);
      });
    });
  }
});
