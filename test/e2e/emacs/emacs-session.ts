// Batch Emacs for the tests and the benchmark: caret.el installed the way docs/plugins.md tells
// users to (package-install-file into a private package directory), then ERT or a script.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readDaemonInfo } from '../../../daemon/server/index.js';
import { cliPath, repoRoot, type TestEnv } from '../../helpers/index.js';

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

/** Elisp that installs caret.el with package-install-file into `packageDir` and loads it. */
export function installForm(packageDir: string): string {
  return [
    '(progn',
    `(setq package-user-dir ${JSON.stringify(packageDir)} package-archives nil)`,
    '(package-initialize)',
    `(unless (package-installed-p 'caret) (package-install-file ${JSON.stringify(packageFile)}))`,
    "(require 'caret)",
    `(unless (string-prefix-p (file-truename ${JSON.stringify(packageDir)}) (file-truename (locate-library "caret"))) (error "caret was not loaded from the installed package")))`,
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
  return new Promise((resolve) => {
    const child = spawn(emacs.command, ['-Q', '--batch', '--eval', installForm(packageDir), ...args], {
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

/** Stops the daemon the editor's `caret lsp` started in this test's folders. */
export function stopDaemon(testEnv: TestEnv): void {
  const pid = readDaemonInfo(testEnv.paths)?.pid;
  spawnSync(process.execPath, [cliPath, 'stop'], { env: testEnv.env, timeout: 10_000 });
  if (!pid) return;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    if (!stat.includes(') Z')) process.kill(pid, 'SIGKILL');
  } catch {
    // gone already
  }
}

/** The fixture project: two small JavaScript files in a git-marked root. */
const fixture: Record<string, string> = {
  'src/shapes.js': [
    'export function areaOfSquare(side) {',
    '  return side * side;',
    '}',
    '',
    'export function areaOfRectangle(width, height) {',
    '  return width * height;',
    '}',
    '',
  ].join('\n'),
  'src/totals.js': [
    'export function sumPrices(items) {',
    '  let count = 0;',
    '  for (const item of items) count += item.price;',
    '  return count;',
    '}',
    '',
    'export function sumWeights(items) {',
    '  let count = 0;',
    '  for (const item of items) count += item.weight;',
    '  return count;',
    '}',
    '',
  ].join('\n'),
};

/** Writes the fixture project under `dir`; returns its root. */
export function writeFixture(dir: string): string {
  const root = join(dir, 'project');
  mkdirSync(join(root, '.git'), { recursive: true });
  for (const [path, text] of Object.entries(fixture)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

