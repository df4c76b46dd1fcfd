// Writes schemas/scenario.schema.json from the scenario schema (which the fault and assertion
// registries compose), so editors complete scenario files: `npm run schema` after changing either.
import { writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { generateJsonSchema } from '../harness/scenario/schema.ts';
import { REPO_ROOT } from '../harness/version.ts';

export const SCHEMA_FILE = path.join(REPO_ROOT, 'schemas', 'scenario.schema.json');

/** The file's exact content: stable key order as generated, two-space indent, final newline. */
export function renderSchema(): string {
  return JSON.stringify(generateJsonSchema(), null, 2) + '\n';
}

async function main(): Promise<void> {
  await mkdir(path.dirname(SCHEMA_FILE), { recursive: true });
  await writeFile(SCHEMA_FILE, renderSchema());
  process.stdout.write(`wrote ${path.relative(process.cwd(), SCHEMA_FILE) || SCHEMA_FILE}\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) await main();
