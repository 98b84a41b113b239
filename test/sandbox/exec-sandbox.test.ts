// The held exec sandbox (sandbox/exec-sandbox.ts, sandbox/exec-spawner.ts): one bubblewrap sandbox
// kept per shadow, with a spawner inside starting each command. Commands must keep what a one-shot
// command has: streamed output, exit codes and signals, the output cap, timeouts and cancellation
// that kill the whole tree, a sanitised environment, and writes only in the shadow and the scratch
// home; and nothing a command leaves running may reach a later one. Which path ran a command is
// told by its parent: in the held sandbox the spawner is pid 2 and the command's parent; a one-shot
// command is itself pid 2, child of bubblewrap's init.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ExecSandbox, SandboxSlot } from '../../sandbox/exec-sandbox.js';
import { bubblewrapSandboxArgs, runInShadow, type ExecRequest } from '../../sandbox/exec.js';
import { ShadowManager, defaultShadowSettings } from '../../sandbox/index.js';
import { hashTree, makeUserTree } from './tree.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Lines "pid state comm" of every process the command can see (its pid namespace). */
const PROCESSES = 'for p in /proc/[0-9]*; do [ -r $p/stat ] && cut -d" " -f1-3 $p/stat; done';

describe('a held exec sandbox', () => {
  let dir: string;
  let shadow: string;
  let home: string;
  let user: string;
  let userHash: string;
  let sandbox: ExecSandbox;

  const sandboxArgs = () => [
    ...bubblewrapSandboxArgs({ scratchHome: home, shadowPath: shadow, allowNetwork: false }),
    '--clearenv', '--setenv', 'PATH', '/usr/local/bin:/usr/bin:/bin', '--chdir', shadow,
  ];
  const request = (argv: string[], extra: Partial<ExecRequest> = {}): ExecRequest => ({
    argv,
    cwd: shadow,
    shadowPath: shadow,
    mode: 'copy',
    scratchHome: home,
    timeoutMs: 20_000,
    maxOutputBytes: 1024 * 1024,
    isolation: 'bubblewrap',
    allowNetwork: false,
    heldSandbox: sandbox,
    ...extra,
  });
  const sh = (script: string, extra: Partial<ExecRequest> = {}) => runInShadow(request(['sh', '-c', script], extra));

  before(async () => {
    dir = fs.mkdtempSync(join(tmpdir(), 'caret-exec-sandbox-'));
    shadow = join(dir, 'shadow');
    home = join(dir, 'home');
    user = join(dir, 'user');
    for (const path of [shadow, home, user]) fs.mkdirSync(path);
    makeUserTree(user);
    userHash = hashTree(user);
    sandbox = await ExecSandbox.start({ prefix: [], bwrapArgs: sandboxArgs() });
  });
  after(() => {
    sandbox.stop();
    assert.equal(hashTree(user), userHash, 'the user tree changed');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('runs commands in the spawner, with exit codes, both streams and signals', async () => {
    const result = await sh('echo $$ $PPID; echo err >&2; exit 3');
    assert.equal(result.exitCode, 3);
    assert.equal(result.signal, null);
    assert.match(result.stdout, /^\d+ 2\n$/);
    assert.notEqual(result.stdout, '2 1\n');
    assert.equal(result.stderr, 'err\n');
    const killed = await sh('kill -TERM $$');
    assert.equal(killed.exitCode, null);
    assert.equal(killed.signal, 'SIGTERM');
    const missing = await runInShadow(request(['/nonexistent/caret-command']));
    assert.equal(missing.exitCode, 127);
    assert.match(missing.stderr, /cannot run \/nonexistent\/caret-command/);
    const nowhere = await runInShadow(request(['true'], { cwd: join(shadow, 'no-such-dir') }));
    assert.equal(nowhere.exitCode, 127);
    assert.match(nowhere.stderr, /working directory .*no-such-dir does not exist/);
  });

  test('streams output while the command runs', async () => {
    // The command waits for a file that is made only when its first line has come through.
    const go = join(shadow, 'go');
    const seen: string[] = [];
    const result = await sh('echo first; while [ ! -e go ]; do sleep 0.05; done; echo second', {
      timeoutMs: 5000,
      onOutput: (stream, text) => {
        seen.push(`${stream}:${text}`);
        if (text.includes('first')) fs.writeFileSync(go, '');
      },
    });
    fs.rmSync(go, { force: true });
    assert.equal(result.timedOut, false);
    assert.equal(result.stdout, 'first\nsecond\n');
    assert.deepEqual(seen, ['stdout:first\n', 'stdout:second\n']);
  });

  test('the output cap holds', async () => {
    const result = await runInShadow(request(['head', '-c', '300000', '/dev/zero'], { maxOutputBytes: 1000 }));
    assert.equal(result.truncated, true);
    assert.equal(result.stdout.length, 1000);
  });

  test('a timeout kills the whole tree, and nothing of it reaches the next command', async () => {
    const slow = await sh('sleep 30 & sleep 30', { timeoutMs: 300 });
    assert.equal(slow.timedOut, true);
    const after = await sh(PROCESSES);
    assert.doesNotMatch(after.stdout, /\(sleep\) [^Z]/, after.stdout);
  });

  test('cancellation kills the whole tree', async () => {
    const controller = new AbortController();
    const running = sh('sleep 30 & sleep 30', { signal: controller.signal });
    await sleep(200);
    controller.abort();
    const result = await running;
    assert.equal(result.cancelled, true);
    const after = await sh(PROCESSES);
    assert.doesNotMatch(after.stdout, /\(sleep\) [^Z]/, after.stdout);
  });

  test('processes a command leaves behind, even outside its group, are swept once no command runs', async () => {
    const left = await sh('setsid sleep 1000 < /dev/null > /dev/null 2>&1 & sleep 0.2; echo $!');
    assert.equal(left.exitCode, 0);
    const pid = left.stdout.trim();
    assert.match(pid, /^\d+$/);
    const after = await sh(PROCESSES);
    assert.doesNotMatch(after.stdout, new RegExp(`^${pid} \\(sleep\\) [^Z]`, 'm'), after.stdout);
    assert.doesNotMatch(after.stdout, /\(sleep\) [^Z]/, after.stdout);
  });

  test('a command is over when its own process exits, even if what it started holds its output', async () => {
    for (const script of ['sleep 1000 & sleep 0.2; echo started', 'setsid sleep 1000 & sleep 0.2; echo started']) {
      const result = await sh(script, { timeoutMs: 8000 });
      assert.equal(result.timedOut, false, script);
      assert.equal(result.exitCode, 0);
      assert.equal(result.stdout, 'started\n');
      const after = await sh(PROCESSES);
      assert.doesNotMatch(after.stdout, /\(sleep\) [^Z]/, after.stdout);
    }
  });

  test('commands run side by side, each with its own output; a leftover goes once neither runs', async () => {
    const slow = sh('echo slow-start; sleep 1; echo slow-end; echo slow-err >&2');
    await sleep(100);
    const quick = await sh('setsid timeout 1000 sleep 1000 < /dev/null > /dev/null 2>&1 & sleep 0.2; echo quick');
    assert.equal(quick.stdout, 'quick\n');
    assert.equal(quick.stderr, '');
    // The slow command still runs, so the leftover is still there ...
    const during = await sh(PROCESSES);
    assert.match(during.stdout, /\(timeout\) [^Z]/);
    const done = await slow;
    assert.equal(done.stdout, 'slow-start\nslow-end\n');
    assert.equal(done.stderr, 'slow-err\n');
    // ... and gone once nothing runs.
    const after = await sh(PROCESSES);
    assert.doesNotMatch(after.stdout, /\(timeout\) [^Z]/, after.stdout);
  });

  test('the environment is the sanitised one, and nothing of the spawner\'s', async () => {
    const result = await runInShadow(request(['env'], {
      baseEnv: { PATH: '/usr/bin:/bin', SECRET_TOKEN: 'leak', LANG: 'C.UTF-8' },
      env: { MY_FLAG: 'on' },
    }));
    const names = result.stdout.trim().split('\n').map((line) => line.split('=')[0]).sort();
    assert.deepEqual(names, ['CI', 'HOME', 'LANG', 'MY_FLAG', 'NO_COLOR', 'PATH', 'TERM', 'TMPDIR']);
    assert.match(result.stdout, new RegExp(`^HOME=${home}$`, 'm'));
    assert.throws(() => runInShadow(request(['env'], { env: { LD_PRELOAD: '/x.so' } })), /LD_PRELOAD/);
  });

  test('only the shadow and the scratch home are writable, and there is no network', async () => {
    const outside = await sh(`echo x > ${user}/src/b.txt`);
    assert.notEqual(outside.exitCode, 0);
    const tmp = await sh(`echo x > ${dir}/outside.txt`);
    assert.notEqual(tmp.exitCode, 0);
    assert.equal(fs.existsSync(join(dir, 'outside.txt')), false);
    const inside = await sh('echo in > made.txt && echo home > "$HOME/h.txt" && echo t > "$TMPDIR/t.txt" && cat made.txt');
    assert.equal(inside.exitCode, 0, inside.stderr);
    assert.equal(fs.readFileSync(join(shadow, 'made.txt'), 'utf8'), 'in\n');
    // /proc/net/dev lists the interfaces of the command's own network namespace.
    const net = await sh('tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " "');
    assert.equal(net.stdout.trim(), 'lo');
    // no_new_privs, and no capability that could lift a read-only mount (run by root, bubblewrap
    // would keep them all): remounting fails, on both paths.
    for (const allowNetwork of [false, true]) {
      const status = await sh('grep -E "^(NoNewPrivs|CapEff)" /proc/self/status', { allowNetwork });
      assert.match(status.stdout, /NoNewPrivs:\s+1/);
      assert.match(status.stdout, /CapEff:\s+0+(1f)?\n/);
      const remount = await sh(`mount -o remount,rw / ; mount -o remount,bind,rw ${user} ; echo x > ${user}/src/b.txt`, { allowNetwork });
      assert.notEqual(remount.exitCode, 0);
    }
  });

  test('commands asking for the network, or a dead sandbox, take the one-shot path', async () => {
    const network = await sh('echo $$ $PPID', { allowNetwork: true });
    assert.equal(network.stdout, '2 1\n');
    const other = await ExecSandbox.start({ prefix: [], bwrapArgs: sandboxArgs() });
    const killer = await runInShadow(request(['sh', '-c', 'kill -KILL $PPID; sleep 5'], { heldSandbox: other }));
    assert.equal(killer.exitCode, null);
    for (let i = 0; i < 100 && other.alive; i++) await sleep(20);
    assert.equal(other.alive, false);
    const next = await runInShadow(request(['sh', '-c', 'echo $$ $PPID'], { heldSandbox: other }));
    assert.equal(next.exitCode, 0);
    assert.equal(next.stdout, '2 1\n');
  });

  test('a retired sandbox finishes its running command, then ends', async () => {
    const other = await ExecSandbox.start({ prefix: [], bwrapArgs: sandboxArgs() });
    const running = runInShadow(request(['sh', '-c', 'sleep 0.3; echo done'], { heldSandbox: other }));
    await sleep(50);
    other.retire();
    assert.equal(other.alive, false);
    assert.equal((await running).stdout, 'done\n');
    let ended = false;
    other.onExit(() => (ended = true));
    for (let i = 0; i < 100 && !ended; i++) await sleep(20);
    assert.equal(ended, true);
  });
});

describe('SandboxSlot', () => {
  test('a sandbox that cannot start is reported, and not retried at once', async () => {
    const failures: string[] = [];
    let starts = 0;
    const slot = new SandboxSlot(() => {
      starts++;
      return ExecSandbox.start({ prefix: [], bwrapArgs: ['--ro-bind', '/', '/'], nodePath: '/nonexistent/node' });
    }, (error) => failures.push(error.message));
    assert.equal(slot.current(), undefined);
    assert.equal(await slot.ready(), undefined);
    assert.equal(failures.length, 1);
    assert.match(failures[0]!, /exited/);
    assert.equal(slot.current(), undefined);
    assert.equal(starts, 1);
  });

  test('an idle sandbox ends, and the next command starts another', async () => {
    const args = ['--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc', '--unshare-pid', '--die-with-parent', '--clearenv', '--setenv', 'PATH', '/usr/bin:/bin'];
    const slot = new SandboxSlot(() => ExecSandbox.start({ prefix: [], bwrapArgs: args }), undefined, 30_000, 300);
    assert.equal(slot.current(), undefined);
    const first = (await slot.ready())!;
    assert.equal(slot.current(), first);
    let ended = false;
    first.onExit(() => (ended = true));
    for (let i = 0; i < 150 && !ended; i++) await sleep(20);
    assert.equal(ended, true, 'the idle sandbox did not end');
    assert.equal(slot.current(), undefined);
    const second = (await slot.ready())!;
    assert.notEqual(second.pid, first.pid);
    slot.retire();
  });

  test('no bubblewrap to start is an error, not a hang', async () => {
    await assert.rejects(ExecSandbox.start({ prefix: ['/nonexistent/caret-enter'], bwrapArgs: [] }), /cannot start the exec sandbox/);
  });
});

describe('the held exec sandbox through ShadowManager', () => {
  test('is started once the overlay is reused, replaced after its spawner is killed, and retired with its overlay', async () => {
    const dir = fs.mkdtempSync(join(tmpdir(), 'caret-exec-held-'));
    const root = join(dir, 'project');
    fs.mkdirSync(root);
    makeUserTree(root);
    const userHash = hashTree(root);
    const manager = new ShadowManager(join(dir, 'state'), () => ({ ...defaultShadowSettings, idleMinutes: 0 }));
    try {
      await manager.start();
      const { id, mountPath } = await manager.create(root);
      const parent = async () => {
        const result = await manager.exec(id, { command: ['sh', '-c', 'echo $PPID'] });
        assert.equal(result.exitCode, 0, result.stderr);
        return result.stdout.trim();
      };
      // Until the FUSE server has walked the tree every command gets its own overlay; then the
      // overlay is reused and the sandbox starts.
      let first: number | undefined;
      for (let i = 0; i < 200 && first === undefined; i++) {
        await parent();
        first = await manager.heldSandboxPid(id);
        if (first === undefined) await sleep(50);
      }
      assert.equal(typeof first, 'number');
      assert.equal(await parent(), '2', 'the command did not run in the held sandbox');
      // A command that kills the spawner: the next command still works, and a new sandbox follows.
      await manager.exec(id, { command: ['sh', '-c', 'kill -KILL $PPID; sleep 5'] });
      assert.equal(await parent(), '1');
      const second = await manager.heldSandboxPid(id);
      assert.equal(typeof second, 'number');
      assert.notEqual(second, first);
      assert.equal(await parent(), '2');
      // A write through the FUSE mount: a new overlay, and the old sandbox goes with the old one.
      fs.writeFileSync(join(mountPath, 'src/new-through-mount.txt'), 'new\n');
      const seen = await manager.exec(id, { command: ['cat', 'src/new-through-mount.txt'] });
      assert.equal(seen.stdout, 'new\n');
      for (let i = 0; i < 100 && fs.existsSync(`/proc/${second}`); i++) await sleep(20);
      assert.equal(fs.existsSync(`/proc/${second}`), false, 'the old sandbox outlived its overlay');
      // That overlay's sandbox was started at once (the last one served commands); when the view
      // changes before every command, one is started for nothing, and then none until the overlay
      // is reused.
      const third = await manager.heldSandboxPid(id);
      assert.equal(typeof third, 'number');
      for (let i = 0; i < 3; i++) {
        fs.writeFileSync(join(mountPath, `src/churn-${i}.txt`), `${i}\n`);
        assert.equal((await manager.exec(id, { command: ['cat', `src/churn-${i}.txt`] })).stdout, `${i}\n`);
        assert.equal(await manager.heldSandboxPid(id), undefined, `a sandbox was started for an overlay not yet reused (${i})`);
      }
      await manager.exec(id, { command: ['true'] });
      assert.equal(typeof (await manager.heldSandboxPid(id)), 'number');
      await manager.discard(id);
      assert.equal(hashTree(root), userHash);
    } finally {
      await manager.dispose();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
