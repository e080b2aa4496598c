// Writes the service's OpenAPI document (the same one /openapi.json serves) to a file, for
// `npm run lint:openapi` (redocly) and the typed client's generator.
import { writeFileSync } from 'node:fs';
import { openApiDocument } from '../src/http/openapi.js';

const out = process.argv[2];
if (out === undefined) {
  process.stderr.write('usage: node dist/scripts/openapi.js OUT.json\n');
  process.exit(2);
}
writeFileSync(out, `${JSON.stringify(openApiDocument(), null, 2)}\n`);
