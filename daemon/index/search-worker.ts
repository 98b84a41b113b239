// The search thread of one workspace index: answers queries on its own read-only connection
// (WAL: it never waits for the indexer's writes), so a slow query never holds up the daemon's
// main thread. One query at a time; the owner terminates the thread to cancel one.
import { parentPort, workerData } from 'node:worker_threads';
import { IndexSearcher, searchSymbols } from './search.js';
import { openReader } from './store.js';
import type { SearchRequest, SearchResponse } from './search-thread.js';

const db = openReader((workerData as { dbFile: string }).dbFile);
const searcher = new IndexSearcher(db);

parentPort!.on('message', (message: SearchRequest) => {
  let response: SearchResponse;
  try {
    if (message.op === 'close') {
      db.close();
      parentPort!.close();
      return;
    }
    const result = message.op === 'search' ? searcher.search(message.query) : searchSymbols(db, message.query, message.limit, message.kinds);
    response = { id: message.id, result };
  } catch (error) {
    response = { id: message.id, error: (error as Error).message };
  }
  parentPort!.postMessage(response);
});
