import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { SCHEMA_FILE, renderAllSchemas, renderSchema } from '../../scripts/gen-schema.ts';

describe('schemas/scenario.schema.json', () => {
  it('matches the schema the code generates (run `npm run schema` when this fails)', async () => {
    const committed = await readFile(SCHEMA_FILE, 'utf8').catch(() => '(missing)');
    const generated = renderSchema();
    if (committed !== generated) {
      expect.fail('schemas/scenario.schema.json is stale: the scenario schema, a fault or an assertion changed. Run `npm run schema` and commit the result.');
    }
    expect(JSON.parse(committed).title).toBe('faultline scenario');
  });

  it.each(Object.keys(renderAllSchemas()).map((f) => [path.basename(f), f]))('%s is fresh', async (_name, file) => {
    const committed = await readFile(file, 'utf8').catch(() => '(missing)');
    expect(committed === renderAllSchemas()[file], `${path.basename(file)} is stale: run \`npm run schema\` and commit the result`).toBe(true);
  });
});
