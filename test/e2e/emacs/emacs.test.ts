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
import { e2eDir, findEmacsen, packageFile, runBatch, runEmacs, stopDaemon, vcInstallForm, writeFixture, writeGitCheckout } from './emacs-session.js';

const ertArgs = (file: string) => ['-l', file, '-f', 'ert-run-tests-batch-and-exit'];
const emacsen = findEmacsen();

describe('emacs package', () => {
  let testEnv: TestEnv;
  let root: string;

  before(async () => {
    testEnv = makeTestEnv();
    root = writeFixture(testEnv.dir);
    // Install (and natively compile, where the Emacs can) for every Emacs at once: the compiler
    // is the slow part and each runs on one core. A failure here shows again in the tests below.
    await Promise.all(emacsen.found.map((emacs) => runEmacs(testEnv, [], {}, undefined, emacs)));
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
        const run = await runEmacs(testEnv, ertArgs(join(e2eDir, 'caret-e2e-test.el')), { CARET_TEST_ROOT: root }, undefined, emacs);
        assert.equal(run.code, 0, run.output);
        assert.match(run.output, /Ran \d+ tests, \d+ results as expected, 0 unexpected/);
      });
    });
  }
});
