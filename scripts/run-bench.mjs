#!/usr/bin/env node
// `npm run bench -- NAME [args]` runs dist/test/bench/NAME.bench.js; with no NAME, every bench.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';

// Each benchmark runs in a process started the way the daemon is: with its malloc settings.
const { daemonMallocEnv } = await import('../dist/daemon/index/index.js');
const env = { ...process.env, ...daemonMallocEnv(process.env) };

const [name, ...rest] = process.argv.slice(2);
const all = readdirSync('dist/test/bench').filter((file) => file.endsWith('.bench.js')).map((file) => file.replace('.bench.js', ''));
const selected = name && !name.startsWith('-') ? [name] : all;
for (const bench of selected) {
  if (!all.includes(bench)) {
    console.error(`unknown benchmark "${bench}"; known: ${all.join(', ')}`);
    process.exit(2);
  }
  console.log(`\n== bench ${bench} ==`);
  const result = spawnSync(process.execPath, ['--enable-source-maps', `dist/test/bench/${bench}.bench.js`, ...rest], { stdio: 'inherit', env });
  if (result.status !== 0) process.exit(result.status ?? 1);
}
