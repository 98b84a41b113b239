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

export const ConfigSchema = Type.Object(
  {
    server: Type.Optional(ServerConfig),
    log: Type.Optional(LogConfig),
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
