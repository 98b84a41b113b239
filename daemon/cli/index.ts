export { main, VERSION } from './main.js';
export { parseArgs } from './args.js';
