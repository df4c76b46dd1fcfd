import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { SCHEMA_FILE, renderSchema } from '../../scripts/gen-schema.ts';

describe('schemas/scenario.schema.json', () => {
  it('matches the schema the code generates (run `npm run schema` when this fails)', async () => {
    const committed = await readFile(SCHEMA_FILE, 'utf8').catch(() => '(missing)');
    const generated = renderSchema();
    if (committed !== generated) {
      expect.fail('schemas/scenario.schema.json is stale: the scenario schema, a fault or an assertion changed. Run `npm run schema` and commit the result.');
    }
    expect(JSON.parse(committed).title).toBe('faultline scenario');
  });
});
