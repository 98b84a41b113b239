// Command-line parsing: `caret COMMAND [--flag] [--key=value] [args...]`. Pure.
export interface ParsedArgs {
  command: string | undefined;
  flags: Record<string, string | boolean>;
  args: string[];
}

export function parseArgs(argv: readonly string[]): ParsedArgs {
  const flags: Record<string, string | boolean> = {};
  const positional: string[] = [];
  let onlyPositional = false;
  for (const arg of argv) {
    if (onlyPositional || !arg.startsWith('-') || arg === '-') positional.push(arg);
    else if (arg === '--') onlyPositional = true;
    else if (arg === '-h' || arg === '--help') flags.help = true;
    else if (arg === '-v') flags.version = true;
    else {
      const [name, value] = arg.replace(/^--?/, '').split(/=(.*)/s, 2) as [string, string | undefined];
      flags[name] = value ?? true;
    }
  }
  const [command, ...args] = positional;
  return { command: flags.help ? 'help' : command, flags, args };
}
