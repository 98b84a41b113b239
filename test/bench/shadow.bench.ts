// Shadow benchmark.
//
//   npm run bench -- shadow [--tree DIR] [--rounds N] [--big-mib N]
//
// The same work, side by side in one run, on: the native tree; caret's FUSE shadow (its real FUSE
// server process over the same layers); the kernel's overlayfs; fuse-overlayfs (a C FUSE overlay).
// Every overlay gets its own empty upper layer over the same lower directory. Workloads, warm
// (one untimed pass first), median of N rounds with the views interleaved round by round:
//   - sequential read throughput of a large file (1 MiB reads);
//   - readdir rate (walk every directory of a large tree) and stat rate (lstat every entry);
//   - reading every source file (.js .mjs .cjs .ts .json .md .c .h) of the large tree;
//   - `git status` of this repository (no optional locks, so nothing is written);
//   - `tsc --noEmit` of this repository (a full check: --incremental false).
// The toolchain workloads also run through caret/shadow/exec's own path (ShadowManager.exec:
// bubblewrap over a kernel overlay of the shadow's layers), which is how agents run them.
// The large tree defaults to /tmp/bench-git-x6 (the index benchmark's ~29,000-file tree) when it
// exists, else this repository's node_modules.
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { FuseMount } from '../../sandbox/fuse-mount.js';
import { isMounted } from '../../sandbox/mounts.js';
import { ShadowManager, defaultShadowSettings } from '../../sandbox/index.js';
import { repoRoot } from '../helpers/index.js';

type ViewName = 'native' | 'caret FUSE' | 'overlayfs' | 'fuse-overlayfs';
const VIEWS: ViewName[] = ['native', 'caret FUSE', 'overlayfs', 'fuse-overlayfs'];

function parseArgs(argv: string[]) {
  const options = { tree: '', rounds: 3, bigMib: 256 };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--tree') options.tree = argv[++i]!;
    else if (argv[i] === '--rounds') options.rounds = Number(argv[++i]);
    else if (argv[i] === '--big-mib') options.bigMib = Number(argv[++i]);
  }
  if (!options.tree) options.tree = fs.existsSync('/tmp/bench-git-x6/.complete') ? '/tmp/bench-git-x6' : join(repoRoot, 'node_modules');
  return options;
}

const options = parseArgs(process.argv.slice(2));
const work = fs.mkdtempSync('/tmp/caret-bench-shadow-');
const cleanups: Array<() => Promise<void> | void> = [];

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** One overlay of `lower` per kind; returns where each view shows it. */
async function mountViews(name: string, lower: string): Promise<Record<ViewName, string> & { skipped: string[] }> {
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
  cleanups.push(() => mount.stop());
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

// ---- workloads: each returns milliseconds for one pass -------------------------------------------

function seqRead(file: string): number {
  const started = performance.now();
  const fd = fs.openSync(file, 'r');
  const buffer = Buffer.allocUnsafe(1024 * 1024);
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

function readdirAll(root: string, dirs: string[]): number {
  const started = performance.now();
  for (const dir of dirs) fs.readdirSync(join(root, dir), { withFileTypes: true });
  return performance.now() - started;
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

function timeCommand(cwd: string, argv: string[]): number {
  const started = performance.now();
  const result = spawnSync(argv[0]!, argv.slice(1), { cwd, stdio: 'ignore', env: { ...process.env, GIT_OPTIONAL_LOCKS: '0' } });
  if (result.error) throw result.error;
  return performance.now() - started;
}

// ---- the run --------------------------------------------------------------------------------------

interface Row {
  workload: string;
  unit: string;
  /** Converts a pass's milliseconds to the shown figure. */
  show: (ms: number) => number;
  higherIsBetter: boolean;
  ms: Partial<Record<ViewName | 'caret exec', number>>;
}

async function main(): Promise<void> {
  console.log(`shadow benchmark: ${options.rounds} rounds, large tree ${options.tree}, large file ${options.bigMib} MiB, node ${process.version}`);
  const bigLower = join(work, 'big-lower');
  fs.mkdirSync(bigLower);
  const chunk = Buffer.alloc(1024 * 1024);
  for (let i = 0; i < chunk.length; i += 4) chunk.writeUInt32LE((i * 2654435761) >>> 0, i);
  const fd = fs.openSync(join(bigLower, 'big.bin'), 'w');
  for (let i = 0; i < options.bigMib; i++) fs.writeSync(fd, chunk);
  fs.closeSync(fd);

  const big = await mountViews('big', bigLower);
  const tree = await mountViews('tree', options.tree);
  const repo = await mountViews('repo', repoRoot);
  for (const note of new Set([...big.skipped, ...tree.skipped, ...repo.skipped])) console.log(`(${note})`);
  const available = VIEWS.filter((view) => big[view] && tree[view] && repo[view]);

  const listing = listTree(options.tree);
  console.log(`large tree: ${listing.dirs.length} directories, ${listing.entries.length} entries, ${listing.sources.length} source files`);
  const bigBytes = options.bigMib * 1024 * 1024;

  const rows: Row[] = [
    { workload: 'sequential read, large file', unit: 'MB/s', show: (ms) => bigBytes / 1e6 / (ms / 1000), higherIsBetter: true, ms: {} },
    { workload: `readdir, ${listing.dirs.length} dirs`, unit: 'dirs/s', show: (ms) => listing.dirs.length / (ms / 1000), higherIsBetter: true, ms: {} },
    { workload: `stat, ${listing.entries.length} entries`, unit: 'stats/s', show: (ms) => listing.entries.length / (ms / 1000), higherIsBetter: true, ms: {} },
    { workload: `read ${listing.sources.length} source files`, unit: 's', show: (ms) => ms / 1000, higherIsBetter: false, ms: {} },
    { workload: 'git status (this repository)', unit: 's', show: (ms) => ms / 1000, higherIsBetter: false, ms: {} },
    { workload: 'tsc --noEmit (this repository)', unit: 's', show: (ms) => ms / 1000, higherIsBetter: false, ms: {} },
  ];
  const passes: Array<(view: ViewName) => number> = [
    (view) => seqRead(join(big[view], 'big.bin')),
    (view) => readdirAll(tree[view], listing.dirs),
    (view) => statAll(tree[view], listing.entries),
    (view) => readAll(tree[view], listing.sources),
    (view) => timeCommand(repo[view], GIT_STATUS),
    (view) => timeCommand(repo[view], TSC),
  ];

  for (let w = 0; w < rows.length; w++) {
    const samples: Partial<Record<ViewName, number[]>> = {};
    for (const view of available) passes[w]!(view); // warm: page cache, dentries, FUSE caches
    for (let round = 0; round < options.rounds; round++) {
      for (const view of available) (samples[view] ??= []).push(passes[w]!(view));
    }
    for (const view of available) rows[w]!.ms[view] = median(samples[view]!);
    process.stdout.write(`  measured: ${rows[w]!.workload}\n`);
  }

  // The toolchains through caret/shadow/exec's own path (bubblewrap over a kernel overlay).
  const manager = new ShadowManager(join(work, 'state'), () => ({ ...defaultShadowSettings, idleMinutes: 0 }));
  await manager.start();
  cleanups.unshift(() => manager.dispose());
  const shadow = await manager.create(repoRoot);
  for (const [row, argv] of [[rows[4]!, GIT_STATUS], [rows[5]!, TSC]] as const) {
    const run = async () => {
      const started = performance.now();
      const result = await manager.exec(shadow.id, { command: [...argv], env: { GIT_OPTIONAL_LOCKS: '0' } });
      if (result.exitCode === null) throw new Error(`${argv.join(' ')} failed in the shadow: ${result.stderr}`);
      return { ms: performance.now() - started, how: `${result.view} + ${result.isolation}` };
    };
    const first = await run();
    const samples: number[] = [];
    for (let round = 0; round < options.rounds; round++) samples.push((await run()).ms);
    row.ms['caret exec'] = median(samples);
    if (row === rows[4]) console.log(`  caret exec runs commands on: ${first.how}`);
  }
  await manager.discard(shadow.id);

  // ---- report ----
  const columns = [...available, 'caret exec'] as Array<ViewName | 'caret exec'>;
  const fmt = (value: number | undefined, unit: string) =>
    value === undefined ? '-' : unit === 's' ? value.toFixed(3) : Math.round(value).toLocaleString('en-US');
  console.log(`\n| workload | unit | ${columns.join(' | ')} |`);
  console.log(`| --- | --- | ${columns.map(() => '---').join(' | ')} |`);
  for (const row of rows) console.log(`| ${row.workload} | ${row.unit} | ${columns.map((c) => fmt(row.ms[c] === undefined ? undefined : row.show(row.ms[c]!), row.unit)).join(' | ')} |`);

  console.log('\ntime relative to native (lower is better):');
  console.log(`| workload | ${columns.filter((c) => c !== 'native').join(' | ')} |`);
  console.log(`| --- | ${columns.filter((c) => c !== 'native').map(() => '---').join(' | ')} |`);
  for (const row of rows) {
    const native = row.ms.native!;
    console.log(`| ${row.workload} | ${columns.filter((c) => c !== 'native').map((c) => (row.ms[c] === undefined ? '-' : `${(row.ms[c]! / native).toFixed(2)}x`)).join(' | ')} |`);
  }

  console.log('\ngoals:');
  const seq = rows[0]!;
  const share = seq.ms.native! / seq.ms['caret FUSE']!;
  console.log(`- large-file reads at least 50% of native throughput: ${(share * 100).toFixed(0)}% -> ${share >= 0.5 ? 'met' : 'NOT met'}`);
  if (available.includes('fuse-overlayfs')) {
    const slower = rows.filter((row) => row.ms['caret FUSE']! >= row.ms['fuse-overlayfs']!).map((row) => row.workload);
    console.log(`- every workload faster than fuse-overlayfs (caret FUSE mount): ${slower.length === 0 ? 'met' : `NOT met (${slower.join('; ')})`}`);
    const slowerExec = rows.slice(4).filter((row) => row.ms['caret exec']! >= row.ms['fuse-overlayfs']!).map((row) => row.workload);
    console.log(`- toolchains through caret exec faster than on fuse-overlayfs: ${slowerExec.length === 0 ? 'met' : `NOT met (${slowerExec.join('; ')})`}`);
  }
  for (const row of rows.slice(4)) {
    const viaExec = row.ms['caret exec']! / row.ms.native!;
    const viaMount = row.ms['caret FUSE']! / row.ms.native!;
    console.log(`- ${row.workload} within 1.5x of native: caret exec ${viaExec.toFixed(2)}x -> ${viaExec <= 1.5 ? 'met' : 'NOT met'}; on the FUSE mount itself ${viaMount.toFixed(2)}x`);
  }
}

async function cleanup(): Promise<void> {
  for (const step of cleanups.reverse()) await Promise.resolve(step()).catch(() => {});
  for (const sub of ['big', 'tree', 'repo']) {
    for (const kind of ['caret', 'overlayfs', 'fuse-overlayfs']) {
      const mnt = join(work, sub, kind, 'mnt');
      if (isMounted(mnt)) spawnSync('umount', ['-l', mnt]);
    }
  }
  fs.rmSync(work, { recursive: true, force: true });
}

try {
  await main();
} finally {
  await cleanup();
}
