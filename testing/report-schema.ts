// Validates report.json documents against the published schema (schemas/report.schema.json) with ajv,
// as a consumer of the report would.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { REPO_ROOT } from '../harness/version.ts';

let validator: ValidateFunction | undefined;

function validate(): ValidateFunction {
  validator ??= new Ajv({ allErrors: true, strict: true }).compile(JSON.parse(readFileSync(path.join(REPO_ROOT, 'schemas', 'report.schema.json'), 'utf8')));
  return validator;
}

/** The schema's complaints about `doc` (a parsed report.json), one line each; empty when valid. */
export function reportSchemaErrors(doc: unknown): string[] {
  const v = validate();
  if (v(doc)) return [];
  return (v.errors ?? []).slice(0, 20).map((e: ErrorObject) => `${e.instancePath || '/'} ${e.message ?? ''}${e.params && 'additionalProperty' in e.params ? `: ${String(e.params.additionalProperty)}` : ''}`);
}

/** Throws naming every problem when `doc` does not validate. */
export function assertValidReport(doc: unknown, what = 'report.json'): void {
  const errors = reportSchemaErrors(doc);
  if (errors.length) throw new Error(`${what} does not validate against schemas/report.schema.json:\n  ${errors.join('\n  ')}`);
}
