// The text of src/client/api-types.ts, from the service's OpenAPI document by openapi-typescript.
import openapiTS, { astToString } from 'openapi-typescript';
import { openApiDocument } from '../src/http/openapi.js';

const HEADER = `// Generated from the service's OpenAPI document (src/http/openapi.ts) by openapi-typescript:
// do not edit; run \`npm run gen:client\` after changing a route or schema.
`;

export async function clientTypes(): Promise<string> {
  const ast = await openapiTS(openApiDocument() as unknown as Parameters<typeof openapiTS>[0]);
  return `${HEADER}${astToString(ast)}`;
}
