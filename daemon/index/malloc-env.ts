// The environment a daemon process should start with so that memory its index threads free goes
// back to the system (docs/index.md, Memory). glibc serves blocks of 128 KB or more with their
// own mappings, but raises that threshold with every such block freed (up to 32 MB); indexing
// allocates many such blocks (batches of results sent between threads, for one), so they soon
// come from per-thread arenas and their holes stay resident after the threads end. Setting the threshold fixes it at
// 128 KB and turns the adjustment off. Only a process's starter can do this: glibc reads it
// once, at start.

/** Variables to add to a daemon's environment; nothing where the user already tuned malloc. */
export function daemonMallocEnv(env: NodeJS.ProcessEnv, platform: NodeJS.Platform = process.platform): Record<string, string> {
  if (platform !== 'linux') return {};
  if (env.MALLOC_MMAP_THRESHOLD_ !== undefined || env.GLIBC_TUNABLES?.includes('glibc.malloc.mmap_threshold')) return {};
  return { MALLOC_MMAP_THRESHOLD_: String(128 * 1024) };
}
