// The index room: scan, Merkle tree, watcher, syntax-aware chunks, the SQLite store and search.
export { IndexService, type IndexServiceOptions } from './service.js';
export { WorkspaceIndex, type IndexStatus, type IndexSettings, type IndexLogger } from './workspace-index.js';
export type { IndexState, IndexProgress } from './worker-protocol.js';
export type { SearchHit, SearchMode, SearchQuery, SymbolHit } from './search.js';
export { IndexSearcher, reciprocalRankFusion, locateMatch } from './search.js';
export type { SyncStats } from './sync.js';
export { SKIP_REASON_DOCS, type SkipReason } from './scan.js';
export { indexDatabasePath, embeddingCachePath, openReader, SCHEMA_VERSION } from './store.js';
export { checkIndexDatabase, checkSqliteExtensions, checkEmbedder, listIndexDatabases, indexDoctorChecks, type IndexCheck } from './doctor.js';
export { daemonMallocEnv } from './malloc-env.js';
