// `npm run bench -- models`: the local ONNX runner on generated Llama-style models of a few sizes.
//  1. time to first token for a 2,000-token prompt changed by one keystroke at its end, with the
//     prefix KV cache (the previous prompt's state reused) against without (full prefill);
//  2. batched verification of 16 draft positions in one forward pass against 16 decoding steps;
//  3. worker isolation: a no-op request's latency on a daemon while a ~500 ms inference runs in
//     the same process, against the same request on the idle daemon.
import { performance } from 'node:perf_hooks';
import { OnnxCausalLm } from '../../daemon/models/index.js';
import { causalLmConfig, testCausalLm, trainingCorpus } from '../fixtures/models/index.js';
import { connectUnix, initializeParams, makeTestEnv, startTestDaemon } from '../helpers/index.js';

const sizes = [
  { name: 'tiny', hiddenSize: 64, numLayers: 2, numHeads: 4 },
  { name: 'small', hiddenSize: 256, numLayers: 4, numHeads: 8 },
  { name: 'medium', hiddenSize: 512, numLayers: 6, numHeads: 8 },
] as const;
const runs = Number(process.argv[2] ?? 5);

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const quantile = (values: number[], q: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * q))]!;
const ms = (value: number) => `${value.toFixed(value < 10 ? 2 : 1)} ms`;

/** A prompt text of at least `tokens` tokens, cut at a token boundary. */
function promptOf(lm: OnnxCausalLm, tokens: number): string {
  let text = trainingCorpus;
  while (lm.tokenizer.encode(text).length < tokens) text += trainingCorpus;
  return lm.tokenizer.decode(lm.tokenizer.encode(text).slice(0, tokens));
}

async function timed<T>(run: () => Promise<T>): Promise<[number, T]> {
  const start = performance.now();
  const value = await run();
  return [performance.now() - start, value];
}

async function benchSize(size: (typeof sizes)[number]): Promise<void> {
  const options = { hiddenSize: size.hiddenSize, numLayers: size.numLayers, numHeads: size.numHeads };
  const config = causalLmConfig(options);
  const lm = new OnnxCausalLm(testCausalLm(options), { threads: 1 });
  await lm.load();
  const base = promptOf(lm, 2000);
  const keys = 'abcdefghijklmnopqrstuvwxyz';

  // Warm up both paths once.
  await lm.generate(`${base}x`, { maxTokens: 1, reuseCache: false });
  const cold: number[] = [];
  const warm: number[] = [];
  let cached = 0;
  let promptTokens = 0;
  for (let i = 0; i < runs; i++) {
    const key = keys[i % keys.length]!;
    await lm.clearCache();
    const [coldMs] = await timed(() => lm.generate(`${base}${key}`, { maxTokens: 1, reuseCache: false }));
    cold.push(coldMs);
    await lm.generate(base, { maxTokens: 1 }); // the previous keystroke's prompt, now cached
    const [warmMs, result] = await timed(() => lm.generate(`${base}${key}`, { maxTokens: 1 }));
    warm.push(warmMs);
    cached = result.cachedPromptTokens;
    promptTokens = result.promptTokens;
  }
  console.log(
    `${size.name.padEnd(6)} d=${config.hiddenSize} layers=${config.numLayers} heads=${config.numHeads}/${config.numKvHeads}: ` +
      `TTFT ${promptTokens}-token prompt, one keystroke changed: full prefill ${ms(median(cold))}, prefix reuse ${ms(median(warm))} ` +
      `(${cached} tokens reused) -> ${(median(cold) / median(warm)).toFixed(1)}x`,
  );

  // Batched verification vs single steps, with a 512-token context already cached.
  const context = promptOf(lm, 512);
  const draft = (await lm.generate(context, { maxTokens: 16 })).tokens;
  const single: number[] = [];
  const batched: number[] = [];
  for (let i = 0; i < runs; i++) {
    await lm.generate(context, { maxTokens: 1 });
    // 16 greedy decoding steps after the cached context: 16 forward passes of one token each.
    const [stepMs, decoded] = await timed(() => lm.generate(context, { maxTokens: 16 }));
    if (decoded.tokens.length !== 16) throw new Error(`decoding ended after ${decoded.tokens.length} tokens; pick another context`);
    single.push(stepMs);
    await lm.generate(context, { maxTokens: 1 });
    const [batchMs] = await timed(() => lm.verify(context, draft));
    batched.push(batchMs);
  }
  console.log(
    `${''.padEnd(6)} verify 16 positions: 16 single steps ${ms(median(single))} (${(16000 / median(single)).toFixed(0)} tok/s), ` +
      `one batched pass over the same 16 ${ms(median(batched))} (${(16000 / median(batched)).toFixed(0)} tok/s) -> ${(median(single) / median(batched)).toFixed(1)}x`,
  );
  // Cancellation in the middle of a full 2,000-token prefill: how soon the call rejects, and how
  // soon the worker answers the next request (it stops at the end of the current 256-token chunk).
  const rejectMs: number[] = [];
  const freeMs: number[] = [];
  for (let i = 0; i < runs; i++) {
    await lm.clearCache();
    const controller = new AbortController();
    const running = lm.generate(`${base}${keys[i % keys.length]}`, { maxTokens: 1, reuseCache: false, signal: controller.signal });
    await new Promise((resolve) => setTimeout(resolve, 20));
    const start = performance.now();
    controller.abort();
    await running.catch(() => undefined);
    rejectMs.push(performance.now() - start);
    await lm.generate('x', { maxTokens: 1, reuseCache: false });
    freeMs.push(performance.now() - start);
  }
  console.log(`${''.padEnd(6)} cancel during prefill: call rejected after ${ms(median(rejectMs))}, worker free again after ${ms(median(freeMs))}`);
  await lm.dispose();
}

async function benchIsolation(): Promise<void> {
  const testEnv = makeTestEnv();
  const daemon = await startTestDaemon(testEnv);
  const client = await connectUnix(testEnv.paths.socketPath);
  const lm = new OnnxCausalLm(testCausalLm({ hiddenSize: 512, numLayers: 6, numHeads: 8 }), { threads: 1 });
  try {
    await client.sendRequest('initialize', initializeParams());
    client.sendNotification('initialized', {});
    await lm.load();
    const ping = async () => (await timed(() => client.sendRequest('caret/ping', {})))[0];
    for (let i = 0; i < 20; i++) await ping();
    const idle: number[] = [];
    for (let i = 0; i < 200; i++) idle.push(await ping());

    // Find a prompt length whose full prefill takes about 500 ms.
    let tokens = 1000;
    let inferenceMs = 0;
    for (let attempt = 0; attempt < 4; attempt++) {
      [inferenceMs] = await timed(() => lm.generate(promptOf(lm, tokens), { maxTokens: 1, reuseCache: false }));
      tokens = Math.max(64, Math.round((tokens * 500) / inferenceMs));
    }
    const prompt = promptOf(lm, tokens);
    // Rounds alternate: pings while the worker runs an inference, then pings for as long again with
    // the worker idle. Other processes on the machine disturb both alike, so the difference between
    // the two distributions is what the inference itself costs the daemon's event loop.
    const busy: number[] = [];
    const control: number[] = [];
    const durations: number[] = [];
    for (let round = 0; round < 6; round++) {
      let running = true;
      const start = performance.now();
      const inference = lm.generate(prompt, { maxTokens: 1, reuseCache: false }).finally(() => {
        running = false;
      });
      while (running) busy.push(await ping());
      await inference;
      const duration = performance.now() - start;
      durations.push(duration);
      const until = performance.now() + duration;
      while (performance.now() < until) control.push(await ping());
    }
    const row = (name: string, values: number[]) => `${name} p50 ${ms(median(values))} p99 ${ms(quantile(values, 0.99))} max ${ms(values.reduce((a, b) => Math.max(a, b), 0))} (${values.length} pings)`;
    console.log(`isolation: ${durations.length} inferences, median ${ms(median(durations))} (${tokens}-token prefill, medium model, worker thread) in the daemon's process; caret/ping round trips over the Unix socket:`);
    console.log(`  ${row('idle before', idle)}`);
    console.log(`  ${row('during inference', busy)}`);
    console.log(`  ${row('control, worker idle', control)}`);
    console.log(`  added by inference: p50 ${ms(median(busy) - median(control))}, p99 ${ms(quantile(busy, 0.99) - quantile(control, 0.99))} (goal <= 5 ms)`);
  } finally {
    client.dispose();
    await lm.dispose();
    await daemon.stop('bench done');
    testEnv.cleanup();
  }
}

for (const size of sizes) await benchSize(size);
await benchIsolation();
