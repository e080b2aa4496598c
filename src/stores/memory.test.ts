import { runStoreContract } from './contract.js';
import { MemoryStores } from './memory.js';

runStoreContract('memory', async (now) => new MemoryStores(64 * 1024 * 1024, now), async () => {});
