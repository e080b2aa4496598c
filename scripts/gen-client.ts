// Regenerates src/client/api-types.ts, the TypeScript types of the OpenAPI document (the one
// /openapi.json serves), for the typed client. Run after changing a route or schema:
//   npm run gen:client
// testing/ops/client.test.ts fails while the file is stale.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { clientTypes } from './client-types.js';

const out = fileURLToPath(new URL('../../src/client/api-types.ts', import.meta.url));
writeFileSync(out, await clientTypes());
process.stdout.write(`wrote ${out}\n`);
