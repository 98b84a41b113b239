// `caret shadow ...`: shadow workspaces from the command line, through the running daemon.
import { resolve } from 'node:path';
import type { CliClient } from './client.js';

export const SHADOW_HELP = `caret shadow create [DIR]               make a shadow of DIR (default: .); prints its id and path
caret shadow list                      live shadows
caret shadow exec ID [--cwd=P] [--timeout=MS] -- CMD [ARG...]
                                       run a command inside a shadow (its exit code is caret's)
caret shadow diagnostics ID            run tsc / ESLint / configured checkers in a shadow
caret shadow changes ID [--stat]       the shadow's changes as unified diffs
caret shadow accept ID [PATH...]       write changes (all, or PATHs) into your tree, merging
caret shadow discard ID                drop a shadow`;

type Flags = Record<string, string | boolean>;

export async function commandShadow(
  withDaemon: <T>(action: (client: CliClient) => Promise<T>) => Promise<T>,
  flags: Flags,
  args: string[],
  rawArgv: string[],
  fail: (message: string, code?: number) => never,
): Promise<number> {
  const [sub, ...rest] = args;
  const out = (text: string) => process.stdout.write(text.endsWith('\n') ? text : text + '\n');
  const json = flags.json === true;
  const need = (value: string | undefined, what: string): string => value ?? fail(`caret shadow ${sub}: missing ${what}; see \`caret help\``, 2);
  switch (sub) {
    case 'create': {
      const result = (await withDaemon((c) => c.request('caret/shadow/create', { root: resolve(rest[0] ?? '.') }))) as { id: string; mountPath: string; mode: string };
      out(json ? JSON.stringify(result) : `${result.id}\t${result.mode}\t${result.mountPath}`);
      return 0;
    }
    case 'list': {
      const result = (await withDaemon((c) => c.request('caret/shadow/list', null))) as { shadows: Array<{ id: string; mode: string; root: string; mountPath: string; upperBytes: number }> };
      if (json) out(JSON.stringify(result));
      else if (result.shadows.length === 0) out('no shadows');
      else for (const s of result.shadows) out(`${s.id}\t${s.mode}\t${s.root}\t${s.mountPath}\t${s.upperBytes} bytes`);
      return 0;
    }
    case 'exec': {
      const id = need(rest[0], 'ID');
      const dashes = rawArgv.indexOf('--');
      const command = dashes >= 0 ? rawArgv.slice(dashes + 1) : rest.slice(1);
      if (command.length === 0) fail('caret shadow exec: give the command after --', 2);
      const params = {
        id,
        command,
        ...(typeof flags.cwd === 'string' && { cwd: flags.cwd }),
        ...(typeof flags.timeout === 'string' && { timeoutMs: Number(flags.timeout) }),
      };
      const result = (await withDaemon((c) => c.request('caret/shadow/exec', params))) as { exitCode: number | null; signal: string | null; stdout: string; stderr: string; truncated: boolean; timedOut: boolean };
      if (json) out(JSON.stringify(result));
      else {
        process.stdout.write(result.stdout);
        process.stderr.write(result.stderr);
        if (result.truncated) process.stderr.write('caret: output truncated (shadow.maxOutputBytes)\n');
        if (result.timedOut) process.stderr.write('caret: the command timed out and was killed\n');
      }
      return result.exitCode ?? 128;
    }
    case 'diagnostics': {
      const result = (await withDaemon((c) => c.request('caret/shadow/diagnostics', { id: need(rest[0], 'ID') }))) as {
        items: Array<{ uri: string; diagnostics: Array<{ range: { start: { line: number; character: number } }; severity?: number; source?: string; message: string }> }>;
      };
      if (json) out(JSON.stringify(result));
      else {
        for (const item of result.items) {
          for (const d of item.diagnostics) {
            out(`${new URL(item.uri).pathname}:${d.range.start.line + 1}:${d.range.start.character + 1}: ${['', 'error', 'warning', 'info', 'hint'][d.severity ?? 1]} [${d.source}] ${d.message}`);
          }
        }
      }
      return result.items.some((i) => i.diagnostics.some((d) => (d.severity ?? 1) === 1)) ? 1 : 0;
    }
    case 'changes': {
      const result = (await withDaemon((c) => c.request('caret/shadow/changes', { id: need(rest[0], 'ID') }))) as { changes: Array<{ path: string; kind: string; from?: string; diff: string }> };
      if (json) out(JSON.stringify(result));
      else if (flags.stat) for (const c of result.changes) out(`${c.kind}\t${c.from ? `${c.from} -> ` : ''}${c.path}`);
      else for (const c of result.changes) process.stdout.write(c.diff);
      return 0;
    }
    case 'accept': {
      const id = need(rest[0], 'ID');
      const paths = rest.slice(1);
      const result = (await withDaemon((c) => c.request('caret/shadow/accept', { id, ...(paths.length && { paths }) }))) as { results: Array<{ path: string; status: string; message?: string }> };
      if (json) out(JSON.stringify(result));
      else for (const r of result.results) out(`${r.status}\t${r.path}${r.message ? `\t${r.message}` : ''}`);
      return result.results.some((r) => r.status === 'conflict') ? 1 : 0;
    }
    case 'discard':
      await withDaemon((c) => c.request('caret/shadow/discard', { id: need(rest[0], 'ID') }));
      return 0;
    default:
      fail(`unknown shadow command ${JSON.stringify(sub ?? '')}\n${SHADOW_HELP}`, 2);
  }
}
