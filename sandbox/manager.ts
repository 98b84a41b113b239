// All shadows of a daemon: create (FUSE overlay, or a copy where FUSE is unavailable), list, exec,
// diagnostics, changes, accept, discard; finding or cleaning shadows after a restart, unmounting
// stale mounts, collecting idle shadows, and enforcing limits.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { join, relative as relativePath } from 'node:path';
import { promisify } from 'node:util';
import { acceptChange, type AcceptOutcome } from './accept.js';
import { copyChanges, manifestOf, overlayChanges, readManifest, setOpaqueXattrReader, toFileChange, writeManifest, type ChangeDetail, type FileChange } from './changes.js';
import { detectCheckers, groupByUri, userUri, type Diagnostic, type FileDiagnostics } from './checkers.js';
import { bubblewrapSandboxArgs, canMountKernelOverlay, findBubblewrap, overlayOptions, runInShadow, type ExecResult } from './exec.js';
import { ExecSandbox, SandboxSlot } from './exec-sandbox.js';
import { FuseMount, type Generations } from './fuse-mount.js';
import { Journal } from './journal.js';
import { forceUnmount, listMounts } from './mounts.js';
import { loadFuseNative } from './native.js';
import { OverlayHolder } from './overlay-holder.js';
import { claimOwnership, releaseOwnership, type Owner } from './owner.js';
import { safeRelativePath } from './safe-path.js';

const run = promisify(execFile);
const PERSIST_DELAY_MS = 2000;

export type ShadowMode = 'fuse' | 'copy';

export interface ShadowSettings {
  mode: 'auto' | 'fuse' | 'copy';
  maxShadows: number;
  maxUpperBytes: number;
  idleMinutes: number;
  cacheSeconds: number;
  execTimeoutMs: number;
  maxOutputBytes: number;
  sandbox: 'auto' | 'bubblewrap' | 'none';
  allowNetwork: boolean;
  checkers: Array<{ name: string; command: string[]; pattern: string }>;
}

export const defaultShadowSettings: ShadowSettings = {
  mode: 'auto',
  maxShadows: 8,
  maxUpperBytes: 4 * 1024 ** 3,
  idleMinutes: 240,
  cacheSeconds: 1,
  execTimeoutMs: 600_000,
  maxOutputBytes: 1024 * 1024,
  sandbox: 'auto',
  allowNetwork: false,
  checkers: [],
};

export interface ShadowInfo {
  id: string;
  root: string;
  mountPath: string;
  mode: ShadowMode;
  createdAt: number;
  lastUsedAt: number;
  upperBytes: number;
}

interface ShadowRecord {
  id: string;
  root: string;
  mode: ShadowMode;
  createdAt: number;
  lastUsedAt: number;
}

interface LiveShadow {
  record: ShadowRecord;
  dir: string;
  mount?: FuseMount;
  busy: number;
  /**
   * exec's held kernel overlay, the FUSE server's change generation when it was mounted, and the
   * held exec sandbox inside it (see sandboxPaidOff for when it is started).
   */
  held?: { holder: OverlayHolder; mount: FuseMount; generation: number; sandbox: SandboxSlot };
  /**
   * Whether the last held sandbox that was started served a command: then the next overlay starts
   * its sandbox at once; after one that was started for nothing (the view changes between every
   * two commands), only once an overlay is reused.
   */
  sandboxPaidOff?: boolean;
  /** The held exec sandbox where commands see the FUSE mount or the copy (no kernel overlay). */
  plainSandbox?: SandboxSlot;
  /** A write of shadow.json is due (lastUsedAt changed; written off the exec path). */
  persistTimer?: NodeJS.Timeout;
  /** Serialises finding or remounting the held overlay, so concurrent commands share one. */
  holding?: Promise<unknown>;
  /**
   * The upper layer's disk use as last measured, and the FUSE server's upper-layer generation just
   * before that measurement: still true while that generation is unchanged (nothing, neither the
   * mount nor a command, changed the upper layer), so neither the check before an exec nor the
   * scan after one needs to walk the upper layer again.
   */
  usage?: { bytes: number; mount: FuseMount; upper: number };
}

export class ShadowError extends Error {
  constructor(message: string, readonly kind: 'not-found' | 'limit' | 'bad-input' | 'failed' = 'failed') {
    super(message);
  }
}

export interface ModeDecision {
  mode: ShadowMode;
  reason: string;
}

/** Which mode `auto` picks here, and why (for `caret doctor`). */
export function decideMode(requested: ShadowSettings['mode']): ModeDecision {
  if (requested === 'copy') return { mode: 'copy', reason: 'shadow.mode is "copy" in the configuration' };
  const problems: string[] = [];
  if (process.platform !== 'linux') problems.push(`FUSE shadows need Linux (this is ${process.platform})`);
  else if (!fs.existsSync('/dev/fuse')) problems.push('/dev/fuse does not exist (load the fuse module, or give the container --device /dev/fuse)');
  else {
    try {
      fs.accessSync('/dev/fuse', fs.constants.R_OK | fs.constants.W_OK);
    } catch {
      problems.push('no permission to open /dev/fuse');
    }
  }
  const native = loadFuseNative();
  if (!native.ok) problems.push(`${native.reason} (${native.fix})`);
  if (problems.length === 0) return { mode: 'fuse', reason: 'FUSE copy-on-write mounts (/dev/fuse usable, patched fuse-native loaded)' };
  if (requested === 'fuse') throw new ShadowError(`shadow.mode is "fuse" but ${problems.join('; ')}`);
  return { mode: 'copy', reason: `copy mode because ${problems.join('; ')}` };
}

export class ShadowManager {
  private readonly shadows = new Map<string, LiveShadow>();
  private readonly baseDir: string;
  private idleTimer?: NodeJS.Timeout;
  /** Set when another live daemon manages the shadows directory; this one then touches nothing. */
  private foreignOwner: Owner | null = null;
  private started?: Promise<void>;

  constructor(
    stateDir: string,
    private readonly settings: (root?: string) => ShadowSettings,
    private readonly log: { info(message: string, fields?: object): void; warn(message: string, fields?: object): void } = { info() {}, warn() {} },
  ) {
    this.baseDir = join(stateDir, 'shadows');
    const native = loadFuseNative();
    if (native.ok) {
      setOpaqueXattrReader((dir) => {
        const buffer = Buffer.alloc(4);
        const n = native.fuse.lgetxattr(dir, 'trusted.overlay.opaque', buffer);
        return n > 0 && buffer.subarray(0, n).toString() === 'y';
      });
    }
  }

  /** At daemon start: unmount stale mounts under our directory, then find the shadows again (remounting them). */
  start(): Promise<void> {
    this.started ??= this.startOnce();
    return this.started;
  }

  private async startOnce(): Promise<void> {
    fs.mkdirSync(this.baseDir, { recursive: true, mode: 0o700 });
    this.foreignOwner = claimOwnership(this.baseDir);
    if (this.foreignOwner) {
      // Another daemon is running (this one is about to find its socket taken): its mounts are live.
      this.log.warn('another caret daemon manages the shadows; leaving them alone', { pid: this.foreignOwner.pid });
      return;
    }
    for (const entry of listMounts()) {
      if (entry.mountPoint.startsWith(this.baseDir + '/')) {
        this.log.warn('unmounting a stale shadow mount', { mountPoint: entry.mountPoint });
        await forceUnmount(entry.mountPoint).catch((error) => this.log.warn('cannot unmount', { error: String(error) }));
      }
    }
    for (const entry of fs.readdirSync(this.baseDir, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      const id = entry.name;
      const dir = join(this.baseDir, id);
      let record: ShadowRecord;
      try {
        record = JSON.parse(fs.readFileSync(join(dir, 'shadow.json'), 'utf8')) as ShadowRecord;
      } catch {
        // A shadow half-made when the daemon died: nothing worth keeping.
        fs.rmSync(dir, { recursive: true, force: true });
        continue;
      }
      if (!fs.existsSync(record.root)) {
        this.log.warn('discarding a shadow whose workspace is gone', { id, root: record.root });
        fs.rmSync(dir, { recursive: true, force: true });
        continue;
      }
      const live: LiveShadow = { record, dir, busy: 0 };
      if (record.mode === 'fuse') {
        try {
          live.mount = await this.mount(record, dir);
        } catch (error) {
          this.log.warn('cannot remount shadow; it stays listed and will retry on use', { id, error: String(error) });
        }
      }
      this.shadows.set(id, live);
    }
    this.idleTimer = setInterval(() => void this.collectIdle(), 60_000);
    this.idleTimer.unref();
  }

  private async mount(record: ShadowRecord, dir: string): Promise<FuseMount> {
    const mount = await FuseMount.start({
      lower: record.root,
      upper: join(dir, 'upper'),
      metaDir: join(dir, 'meta'),
      mountPath: join(dir, 'mnt'),
      cacheSeconds: this.settings(record.root).cacheSeconds,
    });
    mount.on('changed', () => {
      record.lastUsedAt = Date.now();
    });
    mount.on('exit', (code) => {
      if (code !== 0) this.log.warn('FUSE server exited', { id: record.id, code });
    });
    return mount;
  }

  private persist(live: LiveShadow): void {
    const file = join(live.dir, 'shadow.json');
    fs.writeFileSync(`${file}.tmp`, JSON.stringify(live.record));
    fs.renameSync(`${file}.tmp`, file);
  }

  /**
   * shadow.json written a little later, at most once per PERSIST_DELAY_MS: exec's hot path only
   * changes lastUsedAt (for idle collection after a restart), which need not cost a synchronous
   * write and rename per command. dispose() writes what is due.
   */
  private persistSoon(live: LiveShadow): void {
    if (live.persistTimer) return;
    live.persistTimer = setTimeout(() => {
      live.persistTimer = undefined;
      if (this.shadows.get(live.record.id) !== live) return; // discarded meanwhile
      try {
        this.persist(live);
      } catch (error) {
        this.log.warn('cannot record the shadow', { id: live.record.id, error: String(error) });
      }
    }, PERSIST_DELAY_MS);
    live.persistTimer.unref();
  }

  private async ready(): Promise<void> {
    await this.start();
    if (this.foreignOwner) {
      throw new ShadowError(`another caret daemon (pid ${this.foreignOwner.pid}) manages the shadows; use that daemon`, 'failed');
    }
  }

  async create(root: string): Promise<ShadowInfo> {
    await this.ready();
    let canonical: string;
    try {
      canonical = fs.realpathSync(root);
    } catch {
      throw new ShadowError(`workspace ${root} does not exist`, 'bad-input');
    }
    if (!fs.statSync(canonical).isDirectory()) throw new ShadowError(`${root} is not a directory`, 'bad-input');
    if (canonical === '/' ) throw new ShadowError('refusing to shadow the whole filesystem', 'bad-input');
    if (canonical.startsWith(this.baseDir)) throw new ShadowError('a shadow cannot shadow a shadow', 'bad-input');
    const settings = this.settings(canonical);
    if (this.shadows.size >= settings.maxShadows) {
      throw new ShadowError(`there are already ${this.shadows.size} shadows (shadow.maxShadows); discard one first`, 'limit');
    }
    const decision = decideMode(settings.mode);
    const id = randomBytes(6).toString('hex');
    const dir = join(this.baseDir, id);
    fs.mkdirSync(join(dir, 'meta'), { recursive: true, mode: 0o700 });
    fs.mkdirSync(join(dir, 'home'), { recursive: true });
    const record: ShadowRecord = { id, root: canonical, mode: decision.mode, createdAt: Date.now(), lastUsedAt: Date.now() };
    const live: LiveShadow = { record, dir, busy: 0 };
    try {
      if (decision.mode === 'fuse') {
        fs.mkdirSync(join(dir, 'upper'));
        fs.mkdirSync(join(dir, 'work'));
        const rootStat = fs.statSync(canonical);
        fs.chmodSync(join(dir, 'upper'), rootStat.mode & 0o7777);
        fs.chownSync(join(dir, 'upper'), rootStat.uid, rootStat.gid);
        new Journal(join(dir, 'meta'));
        live.mount = await this.mount(record, dir);
      } else {
        await copyTree(canonical, join(dir, 'copy'));
        const used = diskUsage(join(dir, 'copy'));
        if (used > settings.maxUpperBytes) {
          throw new ShadowError(`the copy takes ${used} bytes, over shadow.maxUpperBytes (${settings.maxUpperBytes}); raise it, or make FUSE usable for copy-on-write shadows`, 'limit');
        }
        writeManifest(join(dir, 'meta'), manifestOf(join(dir, 'copy')));
      }
      this.persist(live);
    } catch (error) {
      await live.mount?.stop().catch(() => {});
      fs.rmSync(dir, { recursive: true, force: true });
      if (error instanceof ShadowError) throw error;
      throw new ShadowError(`cannot create a shadow of ${canonical}: ${(error as Error).message}`);
    }
    this.shadows.set(id, live);
    this.log.info('shadow created', { id, root: canonical, mode: decision.mode });
    return this.info(live);
  }

  private mountPathOf(live: LiveShadow): string {
    return live.record.mode === 'fuse' ? join(live.dir, 'mnt') : join(live.dir, 'copy');
  }

  private info(live: LiveShadow): ShadowInfo {
    return {
      id: live.record.id,
      root: live.record.root,
      mountPath: this.mountPathOf(live),
      mode: live.record.mode,
      createdAt: live.record.createdAt,
      lastUsedAt: live.record.lastUsedAt,
      upperBytes: diskUsage(live.record.mode === 'fuse' ? join(live.dir, 'upper') : join(live.dir, 'copy')),
    };
  }

  async list(root?: string): Promise<ShadowInfo[]> {
    await this.ready();
    return [...this.shadows.values()].filter((live) => !root || live.record.root === root).map((live) => this.info(live));
  }

  private async get(id: string): Promise<LiveShadow> {
    await this.ready();
    const live = this.shadows.get(id);
    if (!live) throw new ShadowError(`no shadow ${JSON.stringify(id)}; caret/shadow/list shows the live ones`, 'not-found');
    live.record.lastUsedAt = Date.now();
    if (live.record.mode === 'fuse' && !live.mount?.alive) {
      // The FUSE server died (crash, kill): mount it again over the same layers.
      await forceUnmount(join(live.dir, 'mnt')).catch(() => {});
      // A held sandbox over the dead mount keeps seeing it: the next command starts a new one.
      live.plainSandbox?.retire();
      live.plainSandbox = undefined;
      live.mount = await this.mount(live.record, live.dir);
    }
    return live;
  }

  async exec(
    id: string,
    request: { command: string[]; cwd?: string; timeoutMs?: number; env?: Record<string, string>; allowNetwork?: boolean; baseEnv?: Record<string, string | undefined> },
    signal?: AbortSignal,
    onOutput?: (stream: 'stdout' | 'stderr', text: string) => void,
  ): Promise<ExecResult> {
    const live = await this.get(id);
    const settings = this.settings(live.record.root);
    if (request.command.length === 0 || request.command[0] === '') throw new ShadowError('command must name a program', 'bad-input');
    // One round trip to the FUSE server serves both the size check and the held overlay's check.
    const generations = live.record.mode === 'fuse' && live.mount ? await live.mount.generations() : undefined;
    const used = this.upperUsage(live, generations);
    if (used > settings.maxUpperBytes) {
      throw new ShadowError(`shadow ${id} already uses ${used} bytes (shadow.maxUpperBytes ${settings.maxUpperBytes}); accept or discard it`, 'limit');
    }
    const shadowPath = this.mountPathOf(live);
    const cwd = request.cwd ? join(shadowPath, safeRelativePath(request.cwd)) : shadowPath;
    const isolation = settings.sandbox === 'none' ? 'none' : findBubblewrap() ? 'bubblewrap' : 'none';
    if (settings.sandbox === 'bubblewrap' && isolation === 'none') throw new ShadowError('shadow.sandbox is "bubblewrap" but bwrap is not usable here; install bubblewrap', 'failed');
    const allowNetwork = request.allowNetwork ?? settings.allowNetwork;
    const kernelOverlay = live.record.mode === 'fuse' && canMountKernelOverlay()
      ? { lower: live.record.root, upper: join(live.dir, 'upper'), work: join(live.dir, 'work') }
      : undefined;
    live.busy++;
    let held: { holder: OverlayHolder; enter: string[]; sandbox?: SandboxSlot } | undefined;
    try {
      held = kernelOverlay ? await this.heldOverlay(live, kernelOverlay, generations?.view ?? null) : undefined;
      const enterOverlay = held?.enter;
      // The held sandbox serves commands without the network (those take the one-shot path); where
      // it is not running yet, this command takes the one-shot path while it starts.
      const slot = isolation !== 'bubblewrap' || allowNetwork ? undefined
        : kernelOverlay ? held?.sandbox
        : (live.plainSandbox ??= this.sandboxSlot(live));
      const heldSandbox = slot?.current();
      const result = await runInShadow({
        argv: request.command,
        cwd,
        shadowPath,
        mode: live.record.mode,
        scratchHome: join(live.dir, 'home'),
        timeoutMs: request.timeoutMs ?? settings.execTimeoutMs,
        maxOutputBytes: settings.maxOutputBytes,
        ...(request.env && { env: request.env }),
        ...(request.baseEnv && { baseEnv: request.baseEnv }),
        isolation,
        allowNetwork,
        ...(kernelOverlay && { kernelOverlay }),
        ...(enterOverlay && { enterOverlay }),
        ...(heldSandbox && { heldSandbox, heldSandboxView: kernelOverlay ? 'kernel-overlay' : live.record.mode }),
        ...(signal && { signal }),
        ...(onOutput && { onOutput }),
      });
      if (result.view === 'kernel-overlay') {
        const known = live.usage;
        live.usage = undefined;
        const mount = live.mount;
        const upper = mount ? (await mount.generations()).upper : null;
        // A command that changed nothing in the upper layer copied nothing up: no scan needed.
        const unchanged = known !== undefined && known.mount === mount && upper !== null && known.upper === upper;
        const bytes = unchanged ? known.bytes : this.scanAfterOverlayExec(live);
        // Kept only when no other command is still writing; otherwise the next exec measures again.
        if (mount && upper !== null && live.busy === 1) live.usage = { bytes, mount, upper };
        live.mount?.invalidate();
      }
      return result;
    } finally {
      held?.holder.release();
      live.busy--;
      live.record.lastUsedAt = Date.now();
      this.persistSoon(live);
    }
  }

  /**
   * A held exec sandbox for a shadow: inside the held overlay's mount namespace when `holder` is
   * given (it keeps the holder while it runs), else over the FUSE mount or the copy itself.
   */
  private sandboxSlot(live: LiveShadow, holder?: OverlayHolder): SandboxSlot {
    const shadowPath = this.mountPathOf(live);
    const bwrapArgs = [
      ...bubblewrapSandboxArgs({ scratchHome: join(live.dir, 'home'), shadowPath, allowNetwork: false }),
      '--clearenv', '--setenv', 'PATH', '/usr/local/bin:/usr/bin:/bin', '--chdir', shadowPath,
    ];
    const start = async () => {
      const prefix = holder ? holder.acquire() : [];
      try {
        const sandbox = await ExecSandbox.start({ prefix, bwrapArgs });
        if (holder) sandbox.onExit(() => holder.release());
        return sandbox;
      } catch (error) {
        holder?.release();
        throw error;
      }
    };
    return new SandboxSlot(start, (error) => this.log.warn('cannot start a held exec sandbox; commands start their own', { id: live.record.id, error: String(error) }));
  }

  /**
   * The shadow's held kernel overlay (OverlayHolder), mounted again when anything may have changed
   * the view behind it since it was mounted: a write through the FUSE mount, or a change in your
   * tree (both raise the FUSE server's generation), or when that cannot be known. A command's own
   * writes go through the overlay itself, so they need no remount. undefined: mount per command.
   * `generation` is the FUSE server's view generation, asked for after the command was.
   */
  private heldOverlay(live: LiveShadow, layers: { lower: string; upper: string; work: string }, generation: number | null): Promise<{ holder: OverlayHolder; enter: string[]; sandbox?: SandboxSlot } | undefined> {
    const next = (live.holding ?? Promise.resolve()).then(async () => {
      const mount = live.mount;
      const options = overlayOptions(layers);
      if (!mount || !options) return undefined;
      const held = live.held;
      // Acquired here, inside the queue, so no other command can retire it before it is entered.
      if (held && held.holder.alive && held.mount === mount && generation !== null && held.generation === generation) {
        return { holder: held.holder, enter: held.holder.acquire(), sandbox: held.sandbox };
      }
      this.releaseHeldOverlay(live);
      try {
        const holder = await OverlayHolder.start(options, this.mountPathOf(live));
        const enter = holder.acquire();
        // With an unknown generation the overlay serves this command only.
        if (generation === null) {
          holder.retire();
          return { holder, enter };
        }
        const sandbox = this.sandboxSlot(live, holder);
        live.held = { holder, mount, generation, sandbox };
        // This command takes the one-shot path; the sandbox starts meanwhile for the next ones.
        if (live.sandboxPaidOff !== false) sandbox.prepare();
        return { holder, enter };
      } catch (error) {
        this.log.warn('cannot hold a kernel overlay; mounting one per command', { id: live.record.id, error: String(error) });
        return undefined;
      }
    });
    live.holding = next.catch(() => undefined);
    return next;
  }

  /** The process holding a shadow's exec overlay, if one is held (diagnostics and tests). */
  heldOverlayPid(id: string): number | undefined {
    return this.shadows.get(id)?.held?.holder.pid;
  }

  /** The held exec sandbox's process, once it is running (diagnostics and tests). */
  async heldSandboxPid(id: string): Promise<number | undefined> {
    const live = this.shadows.get(id);
    const slot = live?.held?.sandbox ?? live?.plainSandbox;
    return (await slot?.ready())?.pid;
  }

  /** The held overlay goes, and the sandbox inside it (a namespace made earlier keeps the old overlay). */
  private releaseHeldOverlay(live: LiveShadow): void {
    // Served: start the next one at once. Started for nothing: wait for reuse. Never started: as before.
    const sandbox = live.held?.sandbox;
    if (sandbox?.served) live.sandboxPaidOff = true;
    else if (sandbox?.begun) live.sandboxPaidOff = false;
    live.held?.sandbox.retire();
    live.held?.holder.retire();
    live.held = undefined;
  }

  /**
   * Disk use of the shadow's upper layer (or copy): measured after the last exec when still true
   * (`generations`: the FUSE server's, asked for just now).
   */
  private upperUsage(live: LiveShadow, generations: Generations | undefined): number {
    if (live.record.mode !== 'fuse') return diskUsage(join(live.dir, 'copy'));
    const known = live.usage;
    if (known && known.mount === live.mount && live.busy === 0 && generations && generations.upper !== null && generations.upper === known.upper) return known.bytes;
    return diskUsage(join(live.dir, 'upper'));
  }

  /**
   * After an exec on the kernel overlay, one walk of the upper layer: files the command copied up
   * get their base recorded (the user's current file), and the layer's disk use is returned.
   * Directories the lower layer does not have are only measured: nothing below them has a base.
   */
  private scanAfterOverlayExec(live: LiveShadow): number {
    const journal = new Journal(join(live.dir, 'meta'));
    const upper = join(live.dir, 'upper');
    let bytes = 0;
    const walk = (relative: string, lowerToo: boolean) => {
      const dir = relative ? join(upper, relative) : upper;
      let entries: fs.Dirent[];
      try {
        entries = fs.readdirSync(dir, { withFileTypes: true });
      } catch {
        return;
      }
      for (const entry of entries) {
        const child = relative ? `${relative}/${entry.name}` : entry.name;
        const lower = lowerToo ? fs.lstatSync(join(live.record.root, child), { throwIfNoEntry: false }) : undefined;
        if (entry.isDirectory()) {
          walk(child, lower?.isDirectory() ?? false);
          continue;
        }
        bytes += (fs.lstatSync(join(upper, child), { throwIfNoEntry: false })?.blocks ?? 0) * 512;
        if (!lower || !(entry.isFile() || entry.isSymbolicLink() || entry.isCharacterDevice())) continue;
        const lowerPath = join(live.record.root, child);
        try {
          if (lower.isFile()) journal.recordBase(child, { kind: 'file', sourcePath: lowerPath, mode: lower.mode & 0o7777 });
          else if (lower.isSymbolicLink()) journal.recordBase(child, { kind: 'symlink', target: fs.readlinkSync(lowerPath) });
        } catch {}
      }
    };
    walk('', true);
    return bytes;
  }

  async diagnostics(id: string, signal?: AbortSignal): Promise<{ items: FileDiagnostics[]; checkers: Array<{ name: string; exitCode: number | null; durationMs: number }> }> {
    const live = await this.get(id);
    const settings = this.settings(live.record.root);
    const shadowPath = this.mountPathOf(live);
    const checkers = detectCheckers(shadowPath, join(live.dir, 'home'), settings.checkers);
    const all: Array<{ uri: string; diagnostic: Diagnostic }> = [];
    const ran: Array<{ name: string; exitCode: number | null; durationMs: number }> = [];
    for (const checker of checkers) {
      if (signal?.aborted) break;
      const result = await this.exec(id, { command: checker.argv }, signal);
      ran.push({ name: checker.name, exitCode: result.exitCode, durationMs: result.durationMs });
      for (const { file, diagnostic } of checker.parse(result.stdout + '\n' + result.stderr, shadowPath, shadowPath)) {
        const uri = userUri(file, shadowPath, shadowPath, live.record.root);
        if (uri) all.push({ uri, diagnostic });
      }
    }
    return { items: groupByUri(all), checkers: ran };
  }

  private async details(live: LiveShadow): Promise<ChangeDetail[]> {
    return live.record.mode === 'fuse'
      ? overlayChanges({ kind: 'overlay', lower: live.record.root, upper: join(live.dir, 'upper'), metaDir: join(live.dir, 'meta') })
      : copyChanges({ kind: 'copy', lower: live.record.root, copy: join(live.dir, 'copy'), metaDir: join(live.dir, 'meta') });
  }

  async changes(id: string, paths?: string[]): Promise<FileChange[]> {
    const live = await this.get(id);
    const wanted = paths?.map(safeRelativePath);
    return (await this.details(live)).filter((d) => !wanted || wanted.includes(d.path)).map(toFileChange);
  }

  async accept(id: string, paths?: string[]): Promise<AcceptOutcome[]> {
    const live = await this.get(id);
    const wanted = paths?.map(safeRelativePath);
    const details = (await this.details(live)).filter((d) => !wanted || wanted.includes(d.path));
    const outcomes = details.map((detail) => acceptChange(live.record.root, detail));
    this.rebase(live, details, outcomes);
    // Your tree changed: the next command gets a fresh overlay (the tree watcher would say so too).
    this.releaseHeldOverlay(live);
    return outcomes;
  }

  /** After accept, the accepted content is the new base, so the change no longer shows. */
  private rebase(live: LiveShadow, details: ChangeDetail[], outcomes: AcceptOutcome[]): void {
    const done = new Set(outcomes.filter((o) => o.status !== 'conflict').map((o) => o.path));
    if (live.record.mode === 'fuse') {
      const journalFile = join(live.dir, 'meta', 'journal.jsonl');
      const lines: string[] = [];
      for (const detail of details) {
        if (!done.has(detail.path) || detail.current === null) continue;
        const stored = join(live.dir, 'meta', 'bases', hashOf(detail.current));
        if (!fs.existsSync(stored)) fs.writeFileSync(stored, detail.current);
        lines.push(JSON.stringify(detail.isSymlink
          ? { op: 'rebase', path: detail.path, kind: 'symlink', target: detail.current.toString() }
          : { op: 'rebase', path: detail.path, kind: 'file', hash: hashOf(detail.current), mode: detail.currentMode ?? 0o644 }));
      }
      if (lines.length) fs.appendFileSync(journalFile, lines.join('\n') + '\n');
    } else {
      const manifest = readManifest(join(live.dir, 'meta'));
      const fresh = manifestOf(join(live.dir, 'copy'));
      for (const path of done) {
        if (fresh[path]) manifest[path] = fresh[path]!;
        else delete manifest[path];
      }
      writeManifest(join(live.dir, 'meta'), manifest);
    }
  }

  async discard(id: string): Promise<void> {
    await this.ready();
    const live = this.shadows.get(id);
    if (!live) throw new ShadowError(`no shadow ${JSON.stringify(id)}`, 'not-found');
    this.shadows.delete(id);
    clearTimeout(live.persistTimer);
    this.releaseHeldOverlay(live);
    live.plainSandbox?.retire();
    await live.mount?.stop().catch((error) => this.log.warn('unmount failed', { id, error: String(error) }));
    await forceUnmount(join(live.dir, 'mnt')).catch(() => {});
    fs.rmSync(live.dir, { recursive: true, force: true });
    this.log.info('shadow discarded', { id });
  }

  async collectIdle(now = Date.now()): Promise<string[]> {
    const collected: string[] = [];
    for (const live of [...this.shadows.values()]) {
      const minutes = this.settings(live.record.root).idleMinutes;
      if (minutes > 0 && live.busy === 0 && now - live.record.lastUsedAt > minutes * 60_000) {
        await this.discard(live.record.id);
        collected.push(live.record.id);
      }
    }
    return collected;
  }

  /** Daemon stopping: unmount (the shadows stay on disk and are found again at the next start). */
  async dispose(): Promise<void> {
    if (this.idleTimer) clearInterval(this.idleTimer);
    await this.started?.catch(() => {});
    if (this.foreignOwner) return;
    for (const live of this.shadows.values()) {
      this.releaseHeldOverlay(live);
      live.plainSandbox?.retire();
      live.plainSandbox = undefined;
      clearTimeout(live.persistTimer);
      live.persistTimer = undefined;
    }
    await Promise.all([...this.shadows.values()].map((live) => live.mount?.stop().catch(() => {})));
    for (const live of this.shadows.values()) this.persist(live);
    releaseOwnership(this.baseDir);
  }

  /** Where the user's tree path of a shadow path is (diagnostics, editors). */
  userPathOf(id: string, shadowPath: string): string | null {
    const live = this.shadows.get(id);
    if (!live) return null;
    const rel = relativePath(this.mountPathOf(live), shadowPath);
    if (rel.startsWith('..')) return null;
    return join(live.record.root, rel);
  }
}

function hashOf(content: Buffer): string {
  return createHashHex(content);
}

import { createHash } from 'node:crypto';
function createHashHex(content: Buffer): string {
  return createHash('sha256').update(content).digest('hex');
}

function diskUsage(dir: string): number {
  let total = 0;
  const walk = (path: string) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(path, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const full = join(path, entry.name);
      if (entry.isDirectory()) walk(full);
      else {
        try {
          total += fs.lstatSync(full).blocks * 512;
        } catch {}
      }
    }
  };
  walk(dir);
  return total;
}

/** Copy mode: a reflink copy where the filesystem supports it (cp falls back to a plain copy). */
async function copyTree(from: string, to: string): Promise<void> {
  await run('cp', ['-a', '--reflink=auto', '--no-target-directory', from, to]);
}
