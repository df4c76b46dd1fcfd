// Reads one profile file as scenarios are read: YAML with positions, then the profile's schema, and
// every problem reported at once at file:line:col with its key path.
import { readFile } from 'node:fs/promises';
import type * as s from '../schema/dsl.ts';
import { locateProblems, parseYamlWithPositions } from '../schema/yaml.ts';
import { FaultlineError, InvalidInputError } from '../errors.ts';

export type ProfileKind = 'stack profile' | 'runtime profile';

/**
 * Validates `file` against `schema`; `name` is what the file's place says its `name` must be.
 * Throws InvalidInputError with every problem, each at file:line:col and prefixed with the kind.
 */
export async function readProfileFile<T>(file: string, kind: ProfileKind, schema: s.Schema<T>, name: string, place: string): Promise<T> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new FaultlineError('invalid-input', `${kind} ${file}: cannot read the file: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { location: { file } });
  }
  const parsed = parseYamlWithPositions(text, file, { noun: kind, expected: `a ${kind} mapping (name, description, ...)` });
  if (!parsed.ok) throw new InvalidInputError(parsed.problems.map((p) => ({ ...p, message: `${kind}: ${p.message}` })));
  const problems: s.Problem[] = [];
  const value = schema.validate(parsed.value, [], problems);
  // The name is checked even when other fields are wrong: all problems are reported together.
  const written = (parsed.value as { name?: unknown } | null)?.name;
  if (typeof written === 'string' && written !== name) {
    problems.push({ path: ['name'], message: `'${written}' does not match the ${place} ('${name}')` });
  }
  if (problems.length || value === undefined) {
    const located = locateProblems(problems.length ? problems : [{ path: [], message: `invalid ${kind}` }], parsed.positions, file, `${kind}: `);
    throw new InvalidInputError(located);
  }
  return value;
}
