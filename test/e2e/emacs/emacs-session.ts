// Batch Emacs for the tests and the benchmark: caret.el installed the way docs/plugins.md tells
// users to (package-install-file into a private package directory), then ERT or a script.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cliPath, repoRoot, type TestEnv } from '../../helpers/index.js';
import { shapesJs, stopDaemon, totalsJs, writeProject } from '../../helpers/editor-project.js';

export { stopDaemon };

export const packageFile = join(repoRoot, 'plugins/emacs/caret.el');
export const e2eDir = join(repoRoot, 'test/e2e/emacs');

/** One Emacs the tests run on: the command and the version it reports. */
export interface EmacsBinary {
  command: string;
  /** From `emacs-version`, e.g. "28.2". */
  version: string;
}

/** Where scripts/install-emacs30.sh puts its wrapper unless told otherwise. */
export const defaultEmacs30 = '/opt/caret-emacs30/bin/emacs30';
export const installEmacs30Hint =
  'install it beside the system Emacs with `sudo scripts/install-emacs30.sh` (Debian 12: bookworm-backports), ' +
  'or point CARET_EMACS30 at an Emacs 30 binary; CARET_EMACS30=off tests only the system Emacs';

/** The version `command` reports, or undefined when it does not run. */
export function probeEmacs(command: string): EmacsBinary | undefined {
  const result = spawnSync(command, ['-Q', '--batch', '--eval', '(princ emacs-version)'], { encoding: 'utf8', timeout: 30_000 });
  const version = result.status === 0 ? result.stdout.trim() : '';
  return /^\d+\.\d+/.test(version) ? { command, version } : undefined;
}

/** The first line of the system Emacs's `--version` (what the benchmark records). */
export function emacsVersion(): string | undefined {
  const result = spawnSync('emacs', ['--version'], { encoding: 'utf8' });
  return result.status === 0 ? result.stdout.split('\n')[0] : undefined;
}

export interface EmacsSearch {
  /** The Emacsen to test on, oldest first, each version once. */
  found: EmacsBinary[];
  /** What was looked for and not found, each with what to do about it. */
  missing: string[];
  /** What the search was told to leave out. */
  skipped: string[];
}

/**
 * The Emacsen the package is tested on: the system `emacs` (Debian 12: 28.2) and Emacs 30 from
 * CARET_EMACS30 (a binary, or `off`), else scripts/install-emacs30.sh's default prefix.
 */
export function findEmacsen(env: NodeJS.ProcessEnv = process.env): EmacsSearch {
  const search: EmacsSearch = { found: [], missing: [], skipped: [] };
  const add = (binary: EmacsBinary) => {
    if (!search.found.some((other) => other.version === binary.version)) search.found.push(binary);
  };
  const system = probeEmacs('emacs');
  if (system) add(system);
  else search.missing.push('emacs is not installed: apt-get install emacs-nox');
  const wanted = env.CARET_EMACS30?.trim();
  if (wanted === 'off') {
    search.skipped.push('Emacs 30 (CARET_EMACS30=off)');
  } else {
    const command = wanted || defaultEmacs30;
    const emacs30 = probeEmacs(command);
    if (!emacs30) search.missing.push(`Emacs 30 was not found at ${command}: ${installEmacs30Hint}`);
    else if (!emacs30.version.startsWith('30.')) search.missing.push(`${command} is Emacs ${emacs30.version}, not 30: ${installEmacs30Hint}`);
    else add(emacs30);
  }
  search.found.sort((a, b) => a.version.localeCompare(b.version, undefined, { numeric: true }));
  return search;
}

/** The system Emacs, which `runEmacs` uses unless told otherwise. */
export const systemEmacs: EmacsBinary = { command: 'emacs', version: 'system' };

/**
 * Elisp that installs caret.el with package-install-file into `packageDir` and loads it. On an
 * Emacs with native compilation (Emacs 30 from Debian) the installed file is natively compiled
 * first, once per package directory, and the tests run that native code: interactive sessions
 * compile packages the same way in the background, so that is what users run.
 */
export function installForm(packageDir: string): string {
  const dir = JSON.stringify(packageDir);
  return [
    '(progn',
    `(setq package-user-dir ${dir} package-archives nil)`,
    '(package-initialize)',
    `(unless (package-installed-p 'caret) (package-install-file ${JSON.stringify(packageFile)}))`,
    '(defvar caret-test-native (and (fboundp (quote native-comp-available-p)) (native-comp-available-p)))',
    '(when caret-test-native',
    `  (push (expand-file-name "eln/" ${dir}) native-comp-eln-load-path)`,
    '  (let ((source (locate-library "caret.el")))',
    '    (unless (file-exists-p (comp-el-to-eln-filename source)) (native-compile source))))',
    "(require 'caret)",
    `(unless (string-prefix-p (file-truename ${dir}) (file-truename (locate-library "caret"))) (error "caret was not loaded from the installed package"))`,
    "(when (and caret-test-native (not (subr-native-elisp-p (symbol-function 'caret-mode)))) (error \"caret was not loaded as native code\")))",
  ].join(' ');
}

export interface EmacsRun {
  code: number | null;
  output: string;
}

/**
 * Runs batch Emacs (`emacs`, default the system one) with caret installed, then `args`; resolves
 * when it exits. Each Emacs version gets its own package directory: byte code is per version.
 */
export function runEmacs(
  testEnv: TestEnv,
  args: string[],
  extraEnv: Record<string, string> = {},
  timeoutMs = 240_000,
  emacs: EmacsBinary = systemEmacs,
): Promise<EmacsRun> {
  const packageDir = join(testEnv.dir, `elpa-${emacs.version}`);
  mkdirSync(packageDir, { recursive: true });
  return runBatch(testEnv, ['--eval', installForm(packageDir), ...args], extraEnv, timeoutMs, emacs);
}

/** Runs `emacs -Q --batch ARGS` in the test's folders; resolves when it exits. */
export function runBatch(
  testEnv: TestEnv,
  args: string[],
  extraEnv: Record<string, string> = {},
  timeoutMs = 240_000,
  emacs: EmacsBinary = systemEmacs,
): Promise<EmacsRun> {
  return new Promise((resolve) => {
    const child = spawn(emacs.command, ['-Q', '--batch', ...args], {
      env: { ...testEnv.env, CARET_TEST_NODE: process.execPath, CARET_TEST_CLI: cliPath, ...extraEnv },
      cwd: testEnv.dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      resolve({ code: null, output: `${output}\ncould not start ${emacs.command}: ${error.message}` });
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

/**
 * A git repository under `dir` laid out like caret's (the package in plugins/emacs), holding the
 * working tree's caret.el in one commit: what package-vc clones in the tests. Returns its path.
 */
export function writeGitCheckout(dir: string): string {
  const repo = join(dir, 'caret-repo');
  mkdirSync(join(repo, 'plugins/emacs'), { recursive: true });
  writeFileSync(join(repo, 'plugins/emacs/caret.el'), readFileSync(packageFile));
  const git = (...args: string[]) => {
    const result = spawnSync('git', args, {
      cwd: repo,
      encoding: 'utf8',
      env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' },
    });
    if (result.status !== 0) throw new Error(`git ${args.join(' ')}: ${result.stderr}${result.error?.message ?? ''}`);
  };
  git('init', '-q');
  git('add', '.');
  git('commit', '-q', '-m', 'caret');
  return repo;
}

/** The package-vc specification docs/plugins.md gives, with the repository at `url`. */
const vcSpec = (url: string) => `:url ${JSON.stringify(url)} :lisp-dir "plugins/emacs" :main-file "caret.el"`;

/**
 * Elisp that installs caret from the git repository at `url` into `packageDir` the way
 * docs/plugins.md shows (`package-vc-install` on Emacs 29+, `use-package` `:vc` on Emacs 30+),
 * then checks that caret was loaded from there.
 */
export function vcInstallForm(way: 'package-vc' | 'use-package', url: string, packageDir: string): string {
  const dir = JSON.stringify(packageDir);
  const install =
    way === 'package-vc'
      ? `(package-vc-install '(caret ${vcSpec(url)}))`
      : `(progn (require 'use-package) (use-package caret :vc (${vcSpec(url)} :rev :newest) :config (setq caret-test-configured t)) (unless (bound-and-true-p caret-test-configured) (error "use-package did not load caret")))`;
  return [
    '(progn',
    `(setq package-user-dir ${dir} package-archives nil user-emacs-directory (file-name-as-directory (expand-file-name "emacs.d" ${dir})))`,
    '(make-directory user-emacs-directory t)',
    '(package-initialize)',
    install,
    "(require 'caret)",
    `(unless (string-prefix-p (file-truename ${dir}) (file-truename (locate-library "caret"))) (error "caret was not loaded from the package-vc checkout"))`,
    '(message "installed with %s: %s" (quote ' + way + ') (locate-library "caret")))',
  ].join(' ');
}

/**
 * The fixture project: small JavaScript files in a git-marked root; report.js calls into
 * totals.js, so a rename there has a next edit in another file. label-a.js and label-b.js both
 * call formatLabel: renaming it in label-a.js leaves its only other use in label-b.js, which no
 * test opens before, so the daemon's next edit is a jump into a file that is not open.
 */
const fixture: Record<string, string> = {
  'src/shapes.js': shapesJs,
  'src/totals.js': totalsJs,
  'src/report.js': [
    "import { sumPrices } from './totals.js';",
    '',
    'export function invoiceTotal(cart) {',
    '  return sumPrices(cart.items);',
    '}',
    '',
  ].join('\n'),
  'src/label-a.js': ["export const title = formatLabel('a');", 'export const size = 1;', ''].join('\n'),
  'src/label-b.js': ['// The other page.', "export const other = formatLabel('b');", ''].join('\n'),
};

/** Writes the fixture project under `dir`; returns its root. */
export function writeFixture(dir: string): string {
  return writeProject(dir, fixture);
}

