// Shadow benchmark.
//
//   npm run bench -- shadow [--tree DIR] [--git-tree DIR] [--rounds N] [--big-mib N] [--only KEYS]
//
// The same work, side by side in one run, on: the native tree; caret's FUSE shadow (its real FUSE
// server process over the same layers); the kernel's overlayfs; fuse-overlayfs (a C FUSE overlay).
// Every overlay gets its own empty upper layer over the same lower directory. Workloads, warm
// (one untimed pass first), median of N rounds with the views interleaved round by round:
//   read     sequential read throughput of a large file (1 MiB reads into a page-aligned buffer);
//   readm    the same into a buffer 16 bytes past a page boundary, where malloc puts large buffers
//            (the kernel's copy is much slower there; see readBuffers);
//   readdir  readdir rate (walk every directory of a large tree);
//   stat     stat rate (lstat every entry of the large tree);
//   readall  reading every source file (.js .mjs .cjs .ts .json .md .c .h) of the large tree;
//   git      `git status` of this repository (no optional locks, so nothing is written);
//   gitbig   `git status` of a large git repository (the large tree, committed);
//   tsc      `tsc --noEmit` of this repository (a full check: --incremental false), on a snapshot
//            of its sources taken at the start (see projectSnapshot);
//   true     running `true`: a command's fixed cost (natively and through exec only).
// Every workload also runs through caret/shadow/exec's own path (ShadowManager.exec: bubblewrap
// over the shadow's held kernel overlay), which is where agents' commands run: one exec per round,
// this very script inside the sandbox doing one pass (after an untimed one, for file workloads) and
// printing how long the pass took (the same pass also runs natively in a process of its own, the
// like-for-like reference). So exec has two columns: the work timed inside the command, and
// the exec's wall time as the caller sees it (commands only; the difference is exec's fixed cost,
// also shown on its own as `true`).
// The large tree defaults to /tmp/bench-git-x6 (the index benchmark's ~29,000-file tree) when it
// exists, else this repository's node_modules; the large git repository is a committed copy of it,
// made once under /tmp (reused while its marker file says it was made from the same tree).
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
// The rest of caret is loaded only by the benchmark itself (below), not by the passes it runs inside
// shadows: a pass should start fast and depend on nothing else.
let FuseMount: typeof import('../../sandbox/fuse-mount.js').FuseMount;
let isMounted: typeof import('../../sandbox/mounts.js').isMounted;
let ShadowManager: typeof import('../../sandbox/index.js').ShadowManager;
let defaultShadowSettings: typeof import('../../sandbox/index.js').defaultShadowSettings;
let repoRoot: string;

type ViewName = 'native' | 'caret FUSE' | 'overlayfs' | 'fuse-overlayfs';
const VIEWS: ViewName[] = ['native', 'caret FUSE', 'overlayfs', 'fuse-overlayfs'];
type Column = ViewName | 'native: own process' | 'exec: inside' | 'exec: wall';
const WORKLOADS = ['true', 'read', 'readm', 'readdir', 'stat', 'readall', 'git', 'gitbig', 'tsc'] as const;
type WorkloadKey = (typeof WORKLOADS)[number];

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

// ---- workloads: each returns milliseconds for one pass -------------------------------------------

/**
 * The buffer sequential reads go into, at a chosen offset from a page boundary. Where the buffer
 * lies matters more than the file system: the kernel copies page-cache pages into it, and that copy
 * runs at a third of its speed when the destination starts 8-24 bytes past a page boundary, which
 * is exactly where glibc's malloc puts a large buffer (its own mapping + a 16-byte header). A
 * buffer allocated per pass lands wherever the heap has room, so each view got a different, random
 * speed; one fixed buffer per alignment measures the file system instead. The arena is above
 * glibc's largest mmap threshold (32 MiB), so it is a mapping of its own, 16 bytes past a page.
 */
const readArena = new ArrayBuffer(64 * 1024 * 1024);
const MALLOC_HEADER = 16;
const readBuffers = {
  page: Buffer.from(readArena, 4096 - MALLOC_HEADER, 1024 * 1024),
  malloc: Buffer.from(readArena, 8192, 1024 * 1024),
};

function seqRead(file: string, alignment: keyof typeof readBuffers = 'page'): number {
  const buffer = readBuffers[alignment];
  const started = performance.now();
  const fd = fs.openSync(file, 'r');
  try {
    while (fs.readSync(fd, buffer, 0, buffer.length, null) > 0);
  } finally {
    fs.closeSync(fd);
  }
  return performance.now() - started;
}

function listTree(root: string): { dirs: string[]; entries: string[]; sources: string[] } {
  const dirs: string[] = [''];
  const entries: string[] = [];
  const sources: string[] = [];
  for (let i = 0; i < dirs.length; i++) {
    const rel = dirs[i]!;
    for (const entry of fs.readdirSync(join(root, rel), { withFileTypes: true })) {
      const child = rel ? `${rel}/${entry.name}` : entry.name;
      entries.push(child);
      if (entry.isDirectory()) dirs.push(child);
      else if (entry.isFile() && /\.(m?js|cjs|ts|json|md|c|h)$/.test(entry.name)) sources.push(child);
    }
  }
  return { dirs, entries, sources };
}

function readdirAll(root: string, dirs: string[], entries: number): number {
  const started = performance.now();
  let seen = 0;
  for (const dir of dirs) seen += fs.readdirSync(join(root, dir), { withFileTypes: true }).length;
  const ms = performance.now() - started;
  // A fast listing must also be a complete one.
  if (seen !== entries) throw new Error(`readdir of ${root}: ${seen} entries, expected ${entries}`);
  return ms;
}

function statAll(root: string, entries: string[]): number {
  const started = performance.now();
  for (const entry of entries) fs.lstatSync(join(root, entry));
  return performance.now() - started;
}

function readAll(root: string, files: string[]): number {
  const started = performance.now();
  for (const file of files) fs.readFileSync(join(root, file));
  return performance.now() - started;
}

const GIT_STATUS = ['git', '--no-optional-locks', 'status', '--porcelain'];
const TSC = [process.execPath, 'node_modules/typescript/bin/tsc', '--noEmit', '--incremental', 'false', '-p', 'tsconfig.json'];

/**
 * Exit codes that still mean the command did its whole job: tsc exits 1 or 2 when it found type
 * errors (this working tree is edited while the benchmark runs), which is still a full check.
 */
const completed = (argv: string[]) => (argv.includes('--noEmit') ? [0, 1, 2] : [0]);

/** Exit codes seen per command and place, reported with the results (a fast failure is no win). */
const exitCodes = new Map<string, Set<number | null>>();

function timeCommand(cwd: string, argv: string[], where = cwd): number {
  const started = performance.now();
  const result = spawnSync(argv[0]!, argv.slice(1), { cwd, stdio: 'ignore', env: { ...process.env, GIT_OPTIONAL_LOCKS: '0' } });
  const ms = performance.now() - started;
  if (result.error) throw result.error;
  if (!completed(argv).includes(result.status ?? -1)) throw new Error(`${argv.join(' ')} exited ${result.status ?? result.signal} in ${cwd}`);
  const key = `${argv.includes('--noEmit') ? 'tsc' : argv[0]} on ${where}`;
  if (!exitCodes.has(key)) exitCodes.set(key, new Set());
  exitCodes.get(key)!.add(result.status);
  return ms;
}

/**
 * One pass of a workload in the current directory, as run inside a shadow exec:
 * `node shadow.bench.js --pass KIND [LISTING_FILE | -- ARGV...]`; prints the pass's milliseconds.
 */
function runPass(args: string[]): void {
  const [kind, ...rest] = args;
  const root = process.cwd();
  const listing = () => JSON.parse(fs.readFileSync(rest[0]!, 'utf8')) as { dirs: string[]; entries: string[]; sources: string[] };
  let pass: () => number;
  if (kind === 'read') pass = () => seqRead(join(root, 'big.bin'));
  else if (kind === 'readm') pass = () => seqRead(join(root, 'big.bin'), 'malloc');
  else if (kind === 'readdir') pass = () => readdirAll(root, listing().dirs, listing().entries.length);
  else if (kind === 'stat') pass = () => statAll(root, listing().entries);
  else if (kind === 'readall') pass = () => readAll(root, listing().sources);
  else if (kind === 'command') pass = () => timeCommand(root, rest.slice(1));
  else throw new Error(`unknown pass ${kind}`);
  // File workloads: one untimed pass first, so this fresh process's code is as warm as the
  // benchmark's own (the file system's caches are warm already from the previous commands).
  if (kind !== 'command') pass();
  process.stdout.write(`${pass()}\n`);
}

function parseArgs(argv: string[]) {
  const options = { tree: '', gitTree: '', rounds: 3, bigMib: 256, only: [...WORKLOADS] as WorkloadKey[] };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--tree') options.tree = argv[++i]!;
    else if (argv[i] === '--git-tree') options.gitTree = argv[++i]!;
    else if (argv[i] === '--rounds') options.rounds = Number(argv[++i]);
    else if (argv[i] === '--big-mib') options.bigMib = Number(argv[++i]);
    else if (argv[i] === '--only') {
      const keys = argv[++i]!.split(',');
      for (const key of keys) if (!(WORKLOADS as readonly string[]).includes(key)) throw new Error(`--only: unknown workload ${key} (known: ${WORKLOADS.join(', ')})`);
      options.only = keys as WorkloadKey[];
    }
  }
  if (!options.tree) options.tree = fs.existsSync('/tmp/bench-git-x6/.complete') ? '/tmp/bench-git-x6' : join(repoRoot, 'node_modules');
  return options;
}

/**
 * A git repository with all of `tree` committed, for `git status` of a large tree. Made once (a
 * minute or so) under /tmp and reused while its marker names the same source tree.
 */
function largeGitRepository(tree: string, wanted: string): string {
  const dir = wanted || '/tmp/caret-bench-shadow-git';
  const marker = join(dir, '.git', 'caret-bench-source');
  if (fs.existsSync(marker) && fs.readFileSync(marker, 'utf8') === tree) return dir;
  if (wanted && fs.existsSync(join(dir, '.git'))) return dir; // the caller's own repository
  console.log(`making the large git repository ${dir} from ${tree} (once)`);
  fs.rmSync(dir, { recursive: true, force: true });
  execFileSync('cp', ['-a', '--reflink=auto', '--no-target-directory', tree, dir]);
  fs.rmSync(join(dir, '.complete'), { force: true });
  const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=bench', '-c', 'user.email=bench@localhost', ...args], { cwd: dir, stdio: 'pipe' });
  git('init', '-q');
  git('add', '-A');
  git('commit', '-q', '-m', 'large tree');
  git('gc', '-q');
  fs.writeFileSync(marker, tree);
  return dir;
}

/** One overlay of `lower` per kind; returns where each view shows it. */
async function mountViews(work: string, cleanups: Array<() => Promise<void> | void>, name: string, lower: string): Promise<Record<ViewName, string> & { skipped: string[] }> {
  const base = join(work, name);
  const views = { native: lower } as Record<ViewName, string> & { skipped: string[] };
  views.skipped = [];
  const layer = (kind: string) => {
    const dir = join(base, kind);
    for (const sub of ['upper', 'work', 'mnt', 'meta']) fs.mkdirSync(join(dir, sub), { recursive: true });
    return { upper: join(dir, 'upper'), workdir: join(dir, 'work'), mnt: join(dir, 'mnt'), meta: join(dir, 'meta') };
  };

  const shadow = layer('caret');
  const mount = await FuseMount.start({ lower, upper: shadow.upper, metaDir: shadow.meta, mountPath: shadow.mnt, cacheSeconds: defaultShadowSettings.cacheSeconds });
  cleanups.push(async () => {
    // Whether large files were read by kernel passthrough (CARET_SHADOW_PASSTHROUGH, docs/shadow.md).
    const pt = (await mount.kernelCache())?.passthrough;
    const how = !pt ? 'not in this build' : pt.negotiated && pt.on ? `on, ${pt.opens} passthrough opens` : `off${pt.errno ? ` (errno ${pt.errno})` : ''}`;
    console.log(`caret FUSE (${name}): kernel passthrough ${how}`);
    await mount.stop();
  });
  views['caret FUSE'] = shadow.mnt;

  const kernel = layer('overlayfs');
  try {
    execFileSync('mount', ['-t', 'overlay', 'caret-bench', '-o', `lowerdir=${lower},upperdir=${kernel.upper},workdir=${kernel.workdir},redirect_dir=off,index=off,metacopy=off,xino=off`, kernel.mnt], { stdio: 'pipe' });
    cleanups.push(() => void spawnSync('umount', ['-l', kernel.mnt]));
    views.overlayfs = kernel.mnt;
  } catch (error) {
    views.skipped.push(`overlayfs not mountable here: ${String((error as { stderr?: Buffer }).stderr ?? error).trim()}`);
  }

  const fuseOverlay = layer('fuse-overlayfs');
  try {
    execFileSync('fuse-overlayfs', ['-o', `lowerdir=${lower},upperdir=${fuseOverlay.upper},workdir=${fuseOverlay.workdir}`, fuseOverlay.mnt], { stdio: 'pipe' });
    cleanups.push(() => void spawnSync('fusermount', ['-u', '-z', fuseOverlay.mnt]));
    views['fuse-overlayfs'] = fuseOverlay.mnt;
  } catch (error) {
    views.skipped.push(`fuse-overlayfs unavailable: ${String((error as { stderr?: Buffer }).stderr ?? error).trim()}`);
  }
  return views;
}

/**
 * A snapshot of this repository's sources (tracked and new files, as they stand now) for tsc:
 * other people edit the working tree while the benchmark runs, and a half-saved file makes tsc
 * stop early in one view and not in another. node_modules is a symlink to the real one, so every
 * view reads the dependencies the same way (natively) and the views differ only in the sources.
 */
function projectSnapshot(work: string): string {
  const dir = join(work, 'project-sources'); // not `project`: that name holds the views' layers and mounts
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: repoRoot, encoding: 'utf8' }).split('\0').filter(Boolean);
  for (const file of files) {
    const from = join(repoRoot, file);
    if (!fs.existsSync(from)) continue; // deleted in the working tree
    fs.mkdirSync(join(dir, file, '..'), { recursive: true });
    fs.cpSync(from, join(dir, file), { preserveTimestamps: true, verbatimSymlinks: true });
  }
  fs.symlinkSync(join(repoRoot, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

// ---- the run --------------------------------------------------------------------------------------

interface Row {
  key: WorkloadKey;
  workload: string;
  unit: string;
  /** Converts a pass's milliseconds to the shown figure. */
  show: (ms: number) => number;
  ms: Partial<Record<Column, number>>;
}

const SELF = fileURLToPath(import.meta.url);

async function main(options: ReturnType<typeof parseArgs>, work: string, cleanups: Array<() => Promise<void> | void>): Promise<void> {
  const want = (key: WorkloadKey) => options.only.includes(key);
  const bigLower = join(work, 'big-lower');
  fs.mkdirSync(bigLower);
  const bigBytes = options.bigMib * 1024 * 1024;
  if (want('read') || want('readm')) {
    const chunk = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < chunk.length; i += 4) chunk.writeUInt32LE((i * 2654435761) >>> 0, i);
    const fd = fs.openSync(join(bigLower, 'big.bin'), 'w');
    for (let i = 0; i < options.bigMib; i++) fs.writeSync(fd, chunk);
    fs.closeSync(fd);
  }
  const gitTree = want('gitbig') ? largeGitRepository(options.tree, options.gitTree) : '';
  console.log(`shadow benchmark: ${options.rounds} rounds, large tree ${options.tree}, large git repository ${gitTree || '-'}, large file ${options.bigMib} MiB, node ${process.version}`);

  const project = want('tsc') ? projectSnapshot(work) : bigLower;
  const lowers = { big: bigLower, tree: options.tree, repo: repoRoot, gitbig: gitTree || bigLower, project };
  const views = {} as Record<keyof typeof lowers, Awaited<ReturnType<typeof mountViews>>>;
  for (const [name, lower] of Object.entries(lowers) as Array<[keyof typeof lowers, string]>) views[name] = await mountViews(work, cleanups, name, lower);
  for (const note of new Set(Object.values(views).flatMap((v) => v.skipped))) console.log(`(${note})`);
  const available = VIEWS.filter((view) => Object.values(views).every((v) => v[view]));
  const viewOf = (dir: string) => VIEWS.find((view) => views.project[view] === dir) ?? dir;

  const listing = listTree(options.tree);
  const listingFile = join(work, 'listing.json');
  fs.writeFileSync(listingFile, JSON.stringify(listing));
  console.log(`large tree: ${listing.dirs.length} directories, ${listing.entries.length} entries, ${listing.sources.length} source files`);

  // The shadows exec runs in: one per lower, over the very same lower directories.
  const manager = new ShadowManager(join(work, 'state'), () => ({ ...defaultShadowSettings, idleMinutes: 0, maxShadows: 8 }));
  await manager.start();
  cleanups.unshift(() => manager.dispose());
  const shadows = {} as Record<keyof typeof lowers, string>;
  for (const [name, lower] of Object.entries(lowers) as Array<[keyof typeof lowers, string]>) shadows[name] = (await manager.create(lower)).id;
  const execEnv = { GIT_OPTIONAL_LOCKS: '0' };

  type Spec = { row: Row; on: keyof typeof lowers; pass: ((dir: string) => number) | null; inside: string[] };
  const command = (argv: string[]) => ['command', '--', ...argv];
  const specs: Spec[] = [
    { row: { key: 'true', workload: 'run `true` (a command\'s fixed cost)', unit: 's', show: (ms) => ms / 1000, ms: {} }, on: 'repo', pass: (dir) => timeCommand(dir, ['true']), inside: command(['true']) },
    { row: { key: 'read', workload: 'sequential read, large file (page-aligned buffer)', unit: 'MB/s', show: (ms) => bigBytes / 1e6 / (ms / 1000), ms: {} }, on: 'big', pass: (dir) => seqRead(join(dir, 'big.bin')), inside: ['read'] },
    { row: { key: 'readm', workload: 'sequential read, large file (buffer where malloc puts it)', unit: 'MB/s', show: (ms) => bigBytes / 1e6 / (ms / 1000), ms: {} }, on: 'big', pass: (dir) => seqRead(join(dir, 'big.bin'), 'malloc'), inside: ['readm'] },
    { row: { key: 'readdir', workload: `readdir, ${listing.dirs.length} dirs`, unit: 'dirs/s', show: (ms) => listing.dirs.length / (ms / 1000), ms: {} }, on: 'tree', pass: (dir) => readdirAll(dir, listing.dirs, listing.entries.length), inside: ['readdir', listingFile] },
    { row: { key: 'stat', workload: `stat, ${listing.entries.length} entries`, unit: 'stats/s', show: (ms) => listing.entries.length / (ms / 1000), ms: {} }, on: 'tree', pass: (dir) => statAll(dir, listing.entries), inside: ['stat', listingFile] },
    { row: { key: 'readall', workload: `read ${listing.sources.length} source files`, unit: 's', show: (ms) => ms / 1000, ms: {} }, on: 'tree', pass: (dir) => readAll(dir, listing.sources), inside: ['readall', listingFile] },
    { row: { key: 'git', workload: 'git status (this repository)', unit: 's', show: (ms) => ms / 1000, ms: {} }, on: 'repo', pass: (dir) => timeCommand(dir, GIT_STATUS), inside: command(GIT_STATUS) },
    { row: { key: 'gitbig', workload: 'git status (large repository)', unit: 's', show: (ms) => ms / 1000, ms: {} }, on: 'gitbig', pass: (dir) => timeCommand(dir, GIT_STATUS), inside: command(GIT_STATUS) },
    { row: { key: 'tsc', workload: 'tsc --noEmit (this repository)', unit: 's', show: (ms) => ms / 1000, ms: {} }, on: 'project', pass: (dir) => timeCommand(dir, TSC, viewOf(dir)), inside: command(TSC) },
  ];
  const selected = specs.filter((spec) => want(spec.row.key));

  let execHow = '';
  for (const { row, on, pass, inside } of selected) {
    const viewsHere = row.key === 'true' ? (['native'] as ViewName[]) : available;
    const samples: Partial<Record<Column, number[]>> = {};
    for (const view of viewsHere) pass!(views[on][view]); // warm: page cache, dentries, FUSE caches
    for (let round = 0; round < options.rounds; round++) {
      for (const view of viewsHere) (samples[view] ??= []).push(pass!(views[on][view]));
    }
    // Through exec: this script inside the shadow does one pass per command (the work timed inside);
    // commands also run directly, timed by the caller (the wall time an agent gets).
    const direct = inside[0] === 'command' ? inside.slice(2) : null;
    const execRun = async (argv: string[]) => {
      const started = performance.now();
      const result = await manager.exec(shadows[on], { command: argv, env: execEnv });
      const wall = performance.now() - started;
      if (!completed(argv).includes(result.exitCode ?? -1)) throw new Error(`${row.workload} failed in the shadow (${result.exitCode}): ${result.stderr.slice(0, 2000)}`);
      execHow = `${result.view} + ${result.isolation}`;
      if (argv.includes('--noEmit') && argv[0] !== process.execPath) {
        if (!exitCodes.has('tsc on caret exec')) exitCodes.set('tsc on caret exec', new Set());
        exitCodes.get('tsc on caret exec')!.add(result.exitCode);
      }
      return { wall, stdout: result.stdout };
    };
    const passArgv = [process.execPath, SELF, '--pass', ...inside];
    // The same pass script natively in a process of its own, so "exec: inside" has a like-for-like
    // reference (a fresh process's code is cold; see runPass).
    const nativePass = () => {
      const result = spawnSync(passArgv[0]!, passArgv.slice(1), { cwd: views[on].native, encoding: 'utf8' });
      if (result.status !== 0) throw new Error(`the ${row.key} pass failed natively: ${result.stderr}`);
      return Number(result.stdout.trim());
    };
    await execRun(passArgv);
    if (direct) await execRun(direct);
    for (let round = 0; round < options.rounds; round++) {
      if (!direct) (samples['native: own process'] ??= []).push(nativePass());
      (samples['exec: inside'] ??= []).push(Number((await execRun(passArgv)).stdout.trim()));
      if (direct) (samples['exec: wall'] ??= []).push((await execRun(direct)).wall);
    }
    for (const [column, values] of Object.entries(samples)) row.ms[column as Column] = median(values);
    process.stdout.write(`  measured: ${row.workload}\n`);
  }
  console.log(`  caret exec runs commands on: ${execHow}`);
  for (const id of Object.values(shadows)) await manager.discard(id);

  // ---- report ----
  const rows = selected.map((spec) => spec.row);
  const columns = [...available, 'native: own process', 'exec: inside', 'exec: wall'] as Column[];
  const fmt = (value: number | undefined, unit: string) =>
    value === undefined ? '-' : unit === 's' ? value.toFixed(3) : Math.round(value).toLocaleString('en-US');
  console.log(`\n| workload | unit | ${columns.join(' | ')} |`);
  console.log(`| --- | --- | ${columns.map(() => '---').join(' | ')} |`);
  for (const row of rows) console.log(`| ${row.workload} | ${row.unit} | ${columns.map((c) => fmt(row.ms[c] === undefined ? undefined : row.show(row.ms[c]!), row.unit)).join(' | ')} |`);

  console.log('\ntime relative to native (lower is better):');
  const others = columns.filter((c) => c !== 'native');
  console.log(`| workload | ${others.join(' | ')} |`);
  console.log(`| --- | ${others.map(() => '---').join(' | ')} |`);
  for (const row of rows) {
    const native = row.ms.native!;
    console.log(`| ${row.workload} | ${others.map((c) => (row.ms[c] === undefined ? '-' : `${(row.ms[c]! / native).toFixed(2)}x`)).join(' | ')} |`);
  }

  const tscExits = [...exitCodes].filter(([key]) => key.startsWith('tsc on '));
  if (tscExits.length > 0) console.log(`\ntsc exit codes (0: no errors; 1 or 2: type errors, as the working tree stood): ${tscExits.map(([key, codes]) => `${key.slice('tsc on '.length)} ${[...codes].join('/')}`).join(', ')}`);

  console.log('\ngoals:');
  for (const seq of rows.filter((row) => row.key === 'read' || row.key === 'readm')) {
    for (const [column, reference] of [['caret FUSE', 'native'], ['exec: inside', 'native: own process']] as Array<[Column, Column]>) {
      const share = seq.ms[reference]! / seq.ms[column]!;
      console.log(`- large-file reads at least 50% of native throughput (${seq.key === 'read' ? 'page-aligned' : 'malloc\'s'} buffer, ${column} against ${reference}): ${(share * 100).toFixed(0)}% -> ${share >= 0.5 ? 'met' : 'NOT met'}`);
    }
  }
  const work_ = rows.filter((row) => row.key !== 'true');
  if (available.includes('fuse-overlayfs')) {
    for (const column of ['caret FUSE', 'exec: inside', 'exec: wall'] as Column[]) {
      const slower = work_.filter((row) => row.ms[column]! >= row.ms['fuse-overlayfs']!).map((row) => row.workload);
      console.log(`- every workload faster than fuse-overlayfs (${column}): ${slower.length === 0 ? 'met' : `NOT met (${slower.join('; ')})`}`);
    }
  }
  for (const row of work_.filter((r) => ['git', 'gitbig', 'tsc'].includes(r.key))) {
    const viaExec = row.ms['exec: wall']! / row.ms.native!;
    const viaMount = row.ms['caret FUSE']! / row.ms.native!;
    console.log(`- ${row.workload} within 1.5x of native: caret exec ${viaExec.toFixed(2)}x -> ${viaExec <= 1.5 ? 'met' : 'NOT met'}; on the FUSE mount itself ${viaMount.toFixed(2)}x`);
  }
}

async function cleanup(work: string, cleanups: Array<() => Promise<void> | void>): Promise<void> {
  for (const step of cleanups.reverse()) await Promise.resolve(step()).catch(() => {});
  for (const sub of ['big', 'tree', 'repo', 'gitbig', 'project']) {
    for (const kind of ['caret', 'overlayfs', 'fuse-overlayfs']) {
      const mnt = join(work, sub, kind, 'mnt');
      if (isMounted(mnt)) spawnSync('umount', ['-l', mnt]);
    }
  }
  fs.rmSync(work, { recursive: true, force: true });
}

if (process.argv[2] === '--pass') runPass(process.argv.slice(3));
else {
  ({ FuseMount } = await import('../../sandbox/fuse-mount.js'));
  ({ isMounted } = await import('../../sandbox/mounts.js'));
  ({ ShadowManager, defaultShadowSettings } = await import('../../sandbox/index.js'));
  ({ repoRoot } = await import('../helpers/index.js'));
  const options = parseArgs(process.argv.slice(2));
  const work = fs.mkdtempSync('/tmp/caret-bench-shadow-');
  const cleanups: Array<() => Promise<void> | void> = [];
  try {
    await main(options, work, cleanups);
  } finally {
    await cleanup(work, cleanups);
  }
}
