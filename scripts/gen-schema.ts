// Writes schemas/scenario.schema.json from the scenario schema (which the fault and assertion
// registries compose), and the profile schemas, so editors complete scenario and profile files; and
// schemas/report.schema.json from the report's TypeScript types (model/report.ts), the published
// shape of report.json: `npm run schema` after changing any of them.
import { writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { scenarioJsonSchema } from '../harness/scenario/load.ts';
import { REPO_ROOT } from '../harness/version.ts';
import { stackProfileSchema } from '../harness/profiles/stack-profile.ts';
import { runtimeProfileSchema } from '../harness/profiles/runtime-profile.ts';
import { containerdReleaseSchema } from '../harness/components/containerd.ts';
import { createGenerator } from 'ts-json-schema-generator';

export const SCHEMA_FILE = path.join(REPO_ROOT, 'schemas', 'scenario.schema.json');

/** The file's exact content: stable key order as generated, two-space indent, final newline. */
export function renderSchema(): string {
  return JSON.stringify(scenarioJsonSchema(), null, 2) + '\n';
}

export const REPORT_SCHEMA_FILE = path.join(REPO_ROOT, 'schemas', 'report.schema.json');

/**
 * The JSON Schema of report.json, generated from the TypeScript types themselves (their doc comments
 * become descriptions), so the schema and the code cannot drift apart. Objects allow no other keys
 * except where the type says so (evidence, free-form details): a report with a key its type lacks is
 * invalid, which is how the tests catch a field written without being declared.
 */
export function renderReportSchema(): string {
  const generated = createGenerator({
    path: path.join(REPO_ROOT, 'harness', 'model', 'report.ts'),
    tsconfig: path.join(REPO_ROOT, 'tsconfig.json'),
    type: 'RunReport',
    expose: 'export',
    topRef: true,
    jsDoc: 'extended',
    additionalProperties: false,
    skipTypeCheck: true,
  }).createSchema('RunReport');
  const { $schema, ...rest } = generated as Record<string, unknown>;
  const doc = {
    $schema: $schema ?? 'http://json-schema.org/draft-07/schema#',
    $id: 'https://faultline.dev/schemas/report.schema.json',
    title: 'faultline report',
    description: 'report.json, the complete report of a faultline run (or of merge-reports). Fields are added, never renamed or removed.',
    ...rest,
  };
  return JSON.stringify(doc, null, 2) + '\n';
}

/** Every generated schema file with its exact content. */
export function renderAllSchemas(): Record<string, string> {
  const doc = (title: string, schema: { jsonSchema(): Record<string, unknown> }) =>
    JSON.stringify({ $schema: 'http://json-schema.org/draft-07/schema#', title, ...schema.jsonSchema() }, null, 2) + '\n';
  return {
    [SCHEMA_FILE]: renderSchema(),
    [path.join(REPO_ROOT, 'schemas', 'stack-profile.schema.json')]: doc('faultline stack profile', stackProfileSchema),
    [path.join(REPO_ROOT, 'schemas', 'runtime-profile.schema.json')]: doc('faultline runtime profile', runtimeProfileSchema),
    [path.join(REPO_ROOT, 'schemas', 'containerd-release.schema.json')]: doc('faultline containerd release', containerdReleaseSchema),
    [REPORT_SCHEMA_FILE]: renderReportSchema(),
  };
}

async function main(): Promise<void> {
  await mkdir(path.dirname(SCHEMA_FILE), { recursive: true });
  for (const [file, content] of Object.entries(renderAllSchemas())) {
    await writeFile(file, content);
    process.stdout.write(`wrote ${path.relative(process.cwd(), file) || file}\n`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) await main();
