// Reads one profile file as scenarios are read: YAML with positions, then the profile's schema, and
// every problem reported at once at file:line:col with its key path.
import { readFile } from 'node:fs/promises';
import { closeSync, fstatSync, openSync, readSync, constants } from 'node:fs';
import type * as s from '../schema/dsl.ts';
import { locateProblems, parseYamlWithPositions } from '../schema/yaml.ts';
import { FaultlineError, InvalidInputError } from '../errors.ts';

export type ProfileKind = 'stack profile' | 'runtime profile';

/** Profile files bigger than this are refused before parsing (a profile is a page of YAML). */
export const MAX_PROFILE_BYTES = 1024 * 1024;

/**
 * Validates `file` against `schema`; `name` is what the file's place says its `name` must be (a file
 * named by a scenario, ./my-stack.yaml, has no such place: undefined).
 * Throws InvalidInputError with every problem, each at file:line:col and prefixed with the kind.
 */
export async function readProfileFile<T>(file: string, kind: ProfileKind, schema: s.Schema<T>, name: string | undefined, place: string): Promise<T> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new FaultlineError('invalid-input', `${kind} ${file}: cannot read the file: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { location: { file } });
  }
  return parseProfileText(text, file, kind, schema, name, place);
}

/**
 * A profile file's text, read synchronously (the loader validates scenarios synchronously): only a
 * regular file, opened without blocking (a FIFO never blocks the read), at most MAX_PROFILE_BYTES.
 */
export function readProfileTextSync(file: string, kind: ProfileKind): string {
  const refuse = (message: string) => new FaultlineError('invalid-input', `${kind} ${file}: ${message}`, { location: { file } });
  let fd: number | undefined;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
    const st = fstatSync(fd);
    if (!st.isFile()) throw refuse(`expected a regular YAML file, found ${st.isDirectory() ? 'a directory' : 'a special file (FIFO, socket or device)'}`);
    if (st.size > MAX_PROFILE_BYTES) throw refuse(`the file has ${st.size} bytes; profile files are limited to 1 MiB`);
    const buf = Buffer.alloc(MAX_PROFILE_BYTES + 1);
    let length = 0;
    for (let n = -1; n !== 0 && length < buf.length; length += n) n = readSync(fd, buf, length, buf.length - length, null);
    if (length > MAX_PROFILE_BYTES) throw refuse('the file grew past 1 MiB while read');
    return buf.subarray(0, length).toString('utf8');
  } catch (e) {
    if (e instanceof FaultlineError) throw e;
    throw refuse(`cannot read the file: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Validates a profile's text as read from `file` (see readProfileFile). */
export function parseProfileText<T>(text: string, file: string, kind: ProfileKind, schema: s.Schema<T>, name: string | undefined, place: string): T {
  const parsed = parseYamlWithPositions(text, file, { noun: kind, expected: `a ${kind} mapping (name, description, ...)` });
  if (!parsed.ok) throw new InvalidInputError(parsed.problems.map((p) => ({ ...p, message: `${kind}: ${p.message}` })));
  const problems: s.Problem[] = [];
  const value = schema.validate(parsed.value, [], problems);
  // The name is checked even when other fields are wrong: all problems are reported together.
  const written = (parsed.value as { name?: unknown } | null)?.name;
  if (name !== undefined && typeof written === 'string' && written !== name) {
    problems.push({ path: ['name'], message: `'${written}' does not match the ${place} ('${name}')` });
  }
  if (problems.length || value === undefined) {
    const located = locateProblems(problems.length ? problems : [{ path: [], message: `invalid ${kind}` }], parsed.positions, file, `${kind}: `);
    throw new InvalidInputError(located);
  }
  return value;
}
