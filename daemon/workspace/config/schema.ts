// The configuration schema: every key caret reads, with its default and description. Files are
// TOML (`~/.config/caret/config.toml`, and `.caret/config.toml` in a workspace). Two annotations
// drive what a workspace file may set:
//   x-scope: 'user'  daemon-wide settings; only the user's own file may set them.
//   x-trust: true    settings that could send code somewhere or run programs (provider URLs, API
//                    key variables, commands); a workspace file may set them only once the user
//                    has trusted that workspace (`caret trust`).
// Later capabilities add their sections here.
import { Type, type Static } from '@sinclair/typebox';

const userScope = { 'x-scope': 'user' } as const;

export const ServerConfig = Type.Object(
  {
    idleTimeoutSeconds: Type.Optional(
      Type.Integer({
        minimum: 0,
        default: 900,
        description:
          'A daemon started in the background exits after this many seconds with no connections and no running jobs (0: never).',
      }),
    ),
    maxMessageBytes: Type.Optional(
      Type.Integer({
        minimum: 1024,
        default: 64 * 1024 * 1024,
        description: 'Largest message accepted on any transport; a larger one closes that connection.',
      }),
    ),
    websocket: Type.Optional(
      Type.Object(
        {
          enabled: Type.Optional(Type.Boolean({ default: true, description: 'Serve JSON-RPC over WebSocket at /rpc.' })),
          host: Type.Optional(
            Type.String({ default: '127.0.0.1', description: 'Address to listen on. Keep it on loopback.' }),
          ),
          port: Type.Optional(
            Type.Integer({
              minimum: 0,
              maximum: 65535,
              default: 0,
              description: '0 picks a free port, written to websocket.json in the state dir.',
            }),
          ),
          allowedOrigins: Type.Optional(
            Type.Array(Type.String(), {
              default: [],
              description:
                'Browser Origins allowed to connect (exact match, e.g. "http://localhost:5173"). Others are refused.',
            }),
          ),
        },
        { additionalProperties: false, default: {} },
      ),
    ),
  },
  { additionalProperties: false, default: {}, ...userScope },
);

export const LogConfig = Type.Object(
  {
    level: Type.Optional(
      Type.Union([Type.Literal('debug'), Type.Literal('info'), Type.Literal('warn'), Type.Literal('error')], {
        default: 'info',
        description: 'Least severe level written to the log file.',
      }),
    ),
  },
  { additionalProperties: false, default: {}, ...userScope },
);

const trusted = { 'x-trust': true } as const;

/** One role's model (`[models.completion]`, `[models.chat]`, ...). */
export const ModelRoleConfig = Type.Object(
  {
    provider: Type.Optional(
      Type.Union(
        [Type.Literal('builtin'), Type.Literal('llamacpp'), Type.Literal('ollama'), Type.Literal('openai'), Type.Literal('anthropic'), Type.Literal('onnx')],
        { default: 'builtin', description: 'Back end for this role: builtin (no model), llamacpp, ollama, openai (any OpenAI-compatible server), anthropic, onnx (local model directory).', ...trusted },
      ),
    ),
    url: Type.Optional(
      Type.String({ description: 'Server URL. Defaults: llamacpp http://127.0.0.1:8012, ollama http://127.0.0.1:11434, openai https://api.openai.com/v1, anthropic https://api.anthropic.com.', ...trusted }),
    ),
    model: Type.Optional(Type.String({ default: '', description: 'Model name on the server (llama.cpp may leave it empty).' })),
    path: Type.Optional(Type.String({ description: 'onnx: the model directory (Hugging Face Optimum layout: model.onnx, tokenizer.json, config.json).', ...trusted })),
    apiKeyEnv: Type.Optional(
      Type.String({ description: "Name of the environment variable holding the API key (editor's environment first, then the daemon's). Defaults: OPENAI_API_KEY, ANTHROPIC_API_KEY.", ...trusted }),
    ),
    headers: Type.Optional(Type.Record(Type.String(), Type.String(), { description: 'Extra HTTP headers sent with every request.', ...trusted })),
    hosted: Type.Optional(
      Type.Boolean({ description: 'Whether code sent here leaves your machine; default: any URL that is not loopback. Ignored and secret-looking files are never sent to a hosted provider.', ...trusted }),
    ),
    fimTemplate: Type.Optional(
      Type.Union([Type.Literal('native'), Type.Literal('qwen'), Type.Literal('starcoder'), Type.Literal('codellama'), Type.Literal('deepseek'), Type.Literal('codestral')], {
        default: 'native',
        description: "Fill-in-the-middle: 'native' uses the server's own (llama.cpp /infill, OpenAI `suffix`, Ollama `suffix`); a family name makes caret write the FIM markers into a raw prompt.",
      }),
    ),
    contextLength: Type.Optional(Type.Integer({ minimum: 256, default: 8192, description: 'Tokens the model sees at once (prompt and output); prompts are fitted into it.' })),
    maxTokens: Type.Optional(Type.Integer({ minimum: 1, default: 256, description: 'Default cap on generated tokens.' })),
    timeoutMs: Type.Optional(Type.Integer({ minimum: 100, default: 30000, description: 'Time allowed for the first response bytes and for each pause in a stream.' })),
    retries: Type.Optional(Type.Integer({ minimum: 0, maximum: 10, default: 2, description: 'Retries, with backoff, after transient failures (connection reset, 408, 429, 5xx).' })),
    dimensions: Type.Optional(Type.Integer({ minimum: 1, description: 'embed: length of the vectors; learned from the server on first use when not set.' })),
  },
  { additionalProperties: false, default: {} },
);

export const ModelsConfig = Type.Object(
  {
    threads: Type.Optional(
      Type.Integer({ minimum: 0, default: 0, description: 'Threads for local inference (onnx). 0: one less than the number of cores, at least one, so keystroke-driven requests always have a core.', ...userScope }),
    ),
    caFile: Type.Optional(Type.String({ description: 'PEM file of extra CA certificates for HTTPS to providers (NODE_EXTRA_CA_CERTS is honoured too).', ...userScope })),
    kvCacheMiB: Type.Optional(
      Type.Integer({ minimum: 0, default: 256, description: 'onnx: memory (MiB) for the KV state of recent prompts, per loaded model; a prompt that shares a prefix with one of them costs only its new tokens. 0 turns prompt caching off.', ...userScope }),
    ),
    kvCachePrompts: Type.Optional(Type.Integer({ minimum: 1, maximum: 64, default: 8, description: 'onnx: most recent prompts whose KV state is kept, per loaded model.', ...userScope })),
    prefillChunk: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 8192, default: 256, description: 'onnx: prompt tokens per forward pass while reading a prompt; smaller chunks cancel sooner and use less memory, larger ones read long prompts faster.', ...userScope }),
    ),
    completion: Type.Optional(ModelRoleConfig),
    nextEdit: Type.Optional(ModelRoleConfig),
    apply: Type.Optional(ModelRoleConfig),
    chat: Type.Optional(ModelRoleConfig),
    embed: Type.Optional(ModelRoleConfig),
  },
  { additionalProperties: false, default: {} },
);

/** Shadow workspaces (`[shadow]`): see docs/shadow.md. */
export const ShadowConfig = Type.Object(
  {
    mode: Type.Optional(
      Type.Union([Type.Literal('auto'), Type.Literal('fuse'), Type.Literal('copy')], {
        default: 'auto',
        description: "How shadows are made: 'fuse' (copy-on-write FUSE mount), 'copy' (a reflink copy where the filesystem has them, else a plain copy), or 'auto' (FUSE where it works, else copy). `caret doctor` says which is in use and why.",
        ...userScope,
      }),
    ),
    maxShadows: Type.Optional(Type.Integer({ minimum: 1, default: 8, description: 'Most shadows alive at once, over all workspaces.', ...userScope })),
    maxUpperBytes: Type.Optional(Type.Integer({ minimum: 1048576, default: 4 * 1024 * 1024 * 1024, description: "Most bytes one shadow's changes (or copy) may take on disk; exec and create fail beyond it.", ...userScope })),
    idleMinutes: Type.Optional(Type.Integer({ minimum: 0, default: 240, description: 'A shadow unused for this long is discarded (0: never). Its changes are lost unless accepted.', ...userScope })),
    cacheSeconds: Type.Optional(Type.Number({ minimum: 0, maximum: 60, default: 1, description: 'How long the kernel caches attributes and names of a FUSE shadow where changes cannot be invalidated (the real tree is not completely watched); bounds how late your edits show there. Otherwise caching is long and each change is invalidated at once.', ...userScope })),
    execTimeoutMs: Type.Optional(Type.Integer({ minimum: 100, default: 600000, description: 'Default time limit of a command run in a shadow; its whole process tree is killed after it.' })),
    maxOutputBytes: Type.Optional(Type.Integer({ minimum: 1024, default: 1048576, description: 'Bytes of stdout and of stderr kept per command; the rest is dropped and `truncated` set.' })),
    sandbox: Type.Optional(
      Type.Union([Type.Literal('auto'), Type.Literal('bubblewrap'), Type.Literal('none')], {
        default: 'auto',
        description: "Isolation of commands run in a shadow: 'bubblewrap' (the real tree and home read-only, network off unless allowed, only the shadow writable), 'none', or 'auto' (bubblewrap where installed).",
        ...userScope,
      }),
    ),
    allowNetwork: Type.Optional(Type.Boolean({ default: false, description: 'Let commands in a shadow reach the network (bubblewrap only).', ...trusted })),
    checkers: Type.Optional(
      Type.Array(
        Type.Object(
          {
            name: Type.String({ description: 'Shown as the diagnostic source.' }),
            command: Type.Array(Type.String(), { minItems: 1, description: 'argv run in the shadow root.' }),
            pattern: Type.String({ description: 'Problem matcher: a regular expression with named groups file, line, and optionally column, severity, code, message.' }),
          },
          { additionalProperties: false },
        ),
        { default: [], description: 'Extra diagnostics commands run by caret/shadow/diagnostics, besides tsc and ESLint (found automatically).', ...trusted },
      ),
    ),
  },
  { additionalProperties: false, default: {} },
);

/** Inline completion and next edit (`[completion]`): see docs/completion.md. */
export const CompletionConfig = Type.Object(
  {
    enabled: Type.Optional(Type.Boolean({ default: true, description: 'Answer inline completion and next-edit requests (false: always empty).' })),
    minConfidence: Type.Optional(Type.Number({ minimum: 0, maximum: 1, default: 0.5, description: 'The builtin engine stays silent below this confidence: fewer, better suggestions.' })),
    maxModelMs: Type.Optional(Type.Integer({ minimum: 50, default: 2000, description: 'Hard cap on model time per completion; a slower answer is cancelled and nothing is shown.' })),
    debounceMinMs: Type.Optional(Type.Integer({ minimum: 0, default: 25, description: 'Shortest wait after a keystroke before asking a model (the adaptive debounce; cache hits and the builtin engine never wait).' })),
    debounceMaxMs: Type.Optional(Type.Integer({ minimum: 0, default: 400, description: 'Longest wait after a keystroke before asking a model.' })),
    prefetch: Type.Optional(Type.Boolean({ default: true, description: 'After a suggestion is accepted, compute the next one as if its text were typed.' })),
    prefetchPerMinute: Type.Optional(Type.Integer({ minimum: 0, default: 30, description: 'Budget of prefetch requests per minute.' })),
    maxLines: Type.Optional(Type.Integer({ minimum: 1, default: 20, description: 'Longest inline suggestion, in lines.' })),
    maxTokens: Type.Optional(Type.Integer({ minimum: 1, default: 128, description: 'Tokens a model may generate for one completion.' })),
    jumpLines: Type.Optional(Type.Integer({ minimum: 0, default: 15, description: 'A next edit farther than this many lines from the cursor carries a `jump`.' })),
  },
  { additionalProperties: false, default: {} },
);

// The code-base index (daemon/index). Embeddings come from the [models.embed] role.
export const IndexConfig = Type.Object(
  {
    enabled: Type.Optional(Type.Boolean({ default: true, description: 'Index workspace folders as soon as a client names them.' })),
    maxFileBytes: Type.Optional(
      Type.Integer({ minimum: 1024, default: 1024 * 1024, description: 'Files larger than this are skipped (counted as "too-large").' }),
    ),
    parseWorkers: Type.Optional(
      Type.Integer({ minimum: 0, maximum: 64, default: 0, description: 'Worker threads that read, hash and parse files (0: one per core, at most 4).' }),
    ),
    watch: Type.Optional(Type.Boolean({ default: true, description: 'Watch the workspace for changes (otherwise only periodic and requested resyncs).' })),
    debounceMs: Type.Optional(
      Type.Integer({ minimum: 0, maximum: 10_000, default: 75, description: 'Quiet time after a file change before it is indexed.' }),
    ),
    burstLimit: Type.Optional(
      Type.Integer({ minimum: 1, default: 1000, description: 'More changed paths than this in one debounce window become one full resync.' }),
    ),
    resyncIntervalSeconds: Type.Optional(
      Type.Integer({ minimum: 0, default: 300, description: 'Full Merkle resync period, repairing anything the watcher missed (0: never).' }),
    ),
    embedBatchSize: Type.Optional(Type.Integer({ minimum: 1, maximum: 1024, default: 32, description: 'Chunks per embedding request.' })),
  },
  { additionalProperties: false, default: {} },
);

export const ConfigSchema = Type.Object(
  {
    server: Type.Optional(ServerConfig),
    log: Type.Optional(LogConfig),
    models: Type.Optional(ModelsConfig),
    shadow: Type.Optional(ShadowConfig),
    completion: Type.Optional(CompletionConfig),
    index: Type.Optional(IndexConfig),
  },
  { additionalProperties: false, default: {} },
);

/** Configuration as written in a file: every key optional. */
export type ConfigInput = Static<typeof ConfigSchema>;

type DeepRequired<T> = T extends readonly unknown[]
  ? T
  : T extends object
    ? { [K in keyof T]-?: DeepRequired<T[K]> }
    : T;

/** Configuration with every default filled in. */
export type Config = DeepRequired<ConfigInput>;
