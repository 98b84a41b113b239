// Shadow workspaces: copy-on-write views of a workspace where agents edit, lint and test without
// touching the user's files, and whose changes the user accepts (or not) later.
import { request } from '../define.js';
import { Type, UInteger } from '../schema.js';
import { DocumentUri, PartialResultParams, Range, WorkDoneProgressParams } from '../types.js';

const ShadowId = Type.String({ minLength: 1, maxLength: 64, description: 'The id caret/shadow/create returned.' });
const RelativePath = Type.String({ maxLength: 4096, description: 'A path relative to the workspace root; `..` and absolute paths are refused.' });
const ShadowMode = Type.Union([Type.Literal('fuse'), Type.Literal('copy')], {
  description: "'fuse': a copy-on-write FUSE mount over your tree; 'copy': a (reflink) copy, where FUSE is unavailable.",
});

export const ShadowInfo = Type.Object({
  id: ShadowId,
  root: Type.String({ description: "The user's workspace root (canonical path)." }),
  mountPath: Type.String({ description: 'Where the shadow appears; tools and agents work here.' }),
  mode: ShadowMode,
  createdAt: UInteger('Milliseconds since the epoch.'),
  lastUsedAt: UInteger(),
  upperBytes: UInteger("Disk used by the shadow's own layer (or copy)."),
});

export const shadowCreate = request({
  method: 'caret/shadow/create',
  since: '0.1.0',
  doc:
    "Creates a shadow of a workspace: a view that looks exactly like it, where every write lands in the shadow's own layer " +
    "and the user's files are never touched. Fails with RequestFailed at the `shadow.maxShadows` limit.",
  params: Type.Object({ root: Type.String({ minLength: 1, description: 'Workspace root: a path or file:// URI.' }) }),
  result: Type.Object({ id: ShadowId, mountPath: Type.String(), mode: ShadowMode }),
});

export const shadowList = request({
  method: 'caret/shadow/list',
  since: '0.1.0',
  doc: 'The live shadows, optionally of one workspace root.',
  params: Type.Union([Type.Null(), Type.Object({ root: Type.Optional(Type.String()) })]),
  result: Type.Object({ shadows: Type.Array(ShadowInfo) }),
});

export const shadowExec = request({
  method: 'caret/shadow/exec',
  since: '0.1.0',
  doc:
    'Runs a command (an argv array, no shell) inside a shadow, with a sanitised environment, a time limit and an output limit; ' +
    'cancelling the request kills its whole process tree. Where bubblewrap is installed the command runs in a sandbox: ' +
    "the user's tree and home read-only, network off unless `allowNetwork`, only the shadow writable. With a " +
    '`partialResultToken`, output streams as `$/progress` values `{stream: "stdout" | "stderr", text}` while it runs.',
  params: Type.Object({
    id: ShadowId,
    command: Type.Array(Type.String(), { minItems: 1, description: 'argv; the program is looked up on PATH.' }),
    cwd: Type.Optional(RelativePath),
    timeoutMs: Type.Optional(Type.Integer({ minimum: 1, maximum: 86_400_000 })),
    env: Type.Optional(Type.Record(Type.String(), Type.String(), { description: 'Extra environment variables (LD_PRELOAD, NODE_OPTIONS and the like are refused).' })),
    allowNetwork: Type.Optional(Type.Boolean()),
    ...WorkDoneProgressParams,
    ...PartialResultParams,
  }),
  result: Type.Object({
    exitCode: Type.Union([Type.Integer(), Type.Null()]),
    signal: Type.Union([Type.String(), Type.Null()]),
    stdout: Type.String(),
    stderr: Type.String(),
    truncated: Type.Boolean({ description: 'Output beyond `shadow.maxOutputBytes` was dropped.' }),
    durationMs: UInteger(),
    timedOut: Type.Boolean(),
    view: Type.Union([Type.Literal('kernel-overlay'), Type.Literal('fuse'), Type.Literal('copy')], {
      description: 'How the command saw the shadow: a kernel overlay of the same layers (fastest), the FUSE mount, or the copy.',
    }),
    isolation: Type.Union([Type.Literal('bubblewrap'), Type.Literal('none')]),
  }),
});

const Diagnostic = Type.Object({
  range: Range,
  severity: Type.Optional(Type.Integer({ minimum: 1, maximum: 4 })),
  code: Type.Optional(Type.Union([Type.Integer(), Type.String()])),
  source: Type.Optional(Type.String()),
  message: Type.String(),
});

export const shadowDiagnostics = request({
  method: 'caret/shadow/diagnostics',
  since: '0.1.0',
  doc:
    'Runs the checkers that apply inside a shadow (tsc --noEmit where there is a tsconfig.json, ESLint where configured, ' +
    'and `shadow.checkers` commands) and returns LSP Diagnostics grouped by document. URIs name files in the user\'s tree, ' +
    'not the shadow, so editors can show them. tsc runs incrementally per shadow, so a second run is fast.',
  params: Type.Object({ id: ShadowId, ...WorkDoneProgressParams }),
  result: Type.Object({
    items: Type.Array(Type.Object({ uri: DocumentUri, diagnostics: Type.Array(Diagnostic) })),
    checkers: Type.Array(Type.Object({ name: Type.String(), exitCode: Type.Union([Type.Integer(), Type.Null()]), durationMs: UInteger() })),
  }),
});

const FileChange = Type.Object({
  path: Type.String(),
  kind: Type.Union([Type.Literal('added'), Type.Literal('modified'), Type.Literal('deleted'), Type.Literal('renamed')]),
  from: Type.Optional(Type.String({ description: 'renamed: the path in the user\'s tree.' })),
  binary: Type.Boolean(),
  diff: Type.String({ description: 'Unified diff against the base recorded when the file was first changed in the shadow.' }),
});

export const shadowChanges = request({
  method: 'caret/shadow/changes',
  since: '0.1.0',
  doc: 'The files a shadow added, modified, deleted or renamed, with unified diffs against their base.',
  params: Type.Object({ id: ShadowId, paths: Type.Optional(Type.Array(RelativePath)) }),
  result: Type.Object({ changes: Type.Array(FileChange) }),
});

export const shadowAccept = request({
  method: 'caret/shadow/accept',
  since: '0.1.0',
  doc:
    "Writes a shadow's changes (all, or `paths`) into the user's tree, each file atomically. Where the user edited a file " +
    'since its base, the edits are merged three-way; overlapping edits are reported as conflicts and that file is left as it is.',
  params: Type.Object({ id: ShadowId, paths: Type.Optional(Type.Array(RelativePath)) }),
  result: Type.Object({
    results: Type.Array(
      Type.Object({
        path: Type.String(),
        status: Type.Union([Type.Literal('applied'), Type.Literal('merged'), Type.Literal('unchanged'), Type.Literal('conflict')]),
        message: Type.Optional(Type.String()),
      }),
    ),
  }),
});

export const shadowDiscard = request({
  method: 'caret/shadow/discard',
  since: '0.1.0',
  doc: "Drops a shadow and everything written in it (unmounting it). The user's tree is untouched.",
  params: Type.Object({ id: ShadowId }),
  result: Type.Null(),
});
