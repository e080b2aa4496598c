// `rewarder tenancy TOKENS_FILE [--programs FILE]`: checks the files SIGHUP would load, with the
// service's own parsers, and prints who may reach which program (never a digest), so an operator
// validates a change before signalling the replicas.

import { parseTokensFile } from '../http/auth.js';
import { parseProgramsFile } from '../programs.js';
import { CliError, args, readInput } from './io.js';

export function tenancyCmd(argv: string[]): number {
  const { positionals, values } = args(argv, { programs: { type: 'string' } }, 1);
  const tokensFile = positionals[0] as string;
  const text = (file: string) => new TextDecoder().decode(readInput(file));
  let entries;
  try {
    entries = parseTokensFile(text(tokensFile));
  } catch (e) {
    throw new CliError(`${tokensFile}: ${(e as Error).message}`);
  }
  let budgets = new Map<string, { maxPoolMinor: bigint | null }>();
  if (values.programs !== undefined) {
    try {
      budgets = parseProgramsFile(text(values.programs));
    } catch (e) {
      throw new CliError(`${values.programs}: ${(e as Error).message}`);
    }
  }
  const lines: string[] = [];
  const granted = new Set<string>();
  for (const [i, e] of entries.entries()) {
    for (const p of e.programs) granted.add(p);
    const quota = e.storeMaxBytes === undefined ? '' : ` store_max_bytes=${e.storeMaxBytes}`;
    lines.push(`token[${i}] tenant=${e.tenant} programs=${e.programs.join(',')} scopes=${e.scopes.join(',')}${quota}`);
  }
  for (const [program, b] of [...budgets].sort(([x], [y]) => (x < y ? -1 : 1))) {
    const note = granted.has(program) || granted.has('*') ? '' : ' (no token holds it)';
    lines.push(`program ${program} max_pool_minor=${b.maxPoolMinor ?? 'none'}${note}`);
  }
  process.stdout.write(`${lines.join('\n')}\nok ${entries.length} token(s), ${budgets.size} program budget(s)\n`);
  return 0;
}
