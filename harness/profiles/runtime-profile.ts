// Loads runtime profiles (profiles/runtime/<name>.yaml): the libcni behaviour of one release line,
// each field citing its source in the file. Adding a release is adding a file; no code changes.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import yaml from 'js-yaml';
import * as s from '../schema/dsl.ts';
import { FaultlineError, InvalidInputError, type Location } from '../errors.ts';
import { REPO_ROOT } from '../version.ts';
import type { RuntimeProfile } from '../model/profile.ts';

export const DEFAULT_PROFILES_ROOT = path.join(REPO_ROOT, 'profiles');

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const cniVersion = (description?: string) =>
  s.string({ pattern: /^\d+\.\d+\.\d+$/, expected: 'a CNI version like "1.0.0" (quoted)', ...(description ? { description } : {}) });

export const runtimeProfileSchema = s.object({
  name: s.req(s.string({ pattern: NAME, description: 'Must equal the file name without .yaml.' })),
  description: s.req(s.string({ minLength: 1 })),
  references: s.req(s.array(s.string({ minLength: 1 }), { minItems: 1, description: 'Where the behaviour is documented (PRs, issues, tags).' })),
  specVersions: s.req(s.array(cniVersion(), { minItems: 1, unique: true, description: 'CNI spec versions this runtime speaks.' })),
  del: s.req(s.object({
    readsCacheFromCniVersion: s.req(cniVersion('Conflist DEL reads the cached result when the config cniVersion is >= this.')),
    onCacheError: s.req(s.literal(['abort', 'tolerate'] as const, 'abort: DEL fails with libcni\'s error; tolerate: remove the file, DEL without prevResult.')),
    removeCacheAfterDel: s.req(s.boolean('Remove the cache file after a successful conflist DEL.')),
  })),
  gc: s.req(s.object({
    supported: s.req(s.boolean()),
    skipUnparsableCache: s.req(s.boolean()),
    legacyAttachmentsKey: s.req(s.boolean('Also pass cni.dev/attachments (libcni >= 1.2.3).')),
  })),
  status: s.req(s.object({ supported: s.req(s.boolean()) })),
  cache: s.opt(s.object({ writesNetns: s.req(s.boolean('The cache file records the netns (libcni >= 1.2.0).')) })),
});

/** Names of the profiles under <profilesRoot>/runtime, sorted. */
export async function listRuntimeProfiles(profilesRoot: string = DEFAULT_PROFILES_ROOT): Promise<string[]> {
  let files: string[];
  try {
    files = await readdir(path.join(profilesRoot, 'runtime'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  return files.filter((f) => f.endsWith('.yaml')).map((f) => f.slice(0, -5)).sort();
}

export async function loadRuntimeProfile(name: string, profilesRoot: string = DEFAULT_PROFILES_ROOT): Promise<RuntimeProfile> {
  const known = await listRuntimeProfiles(profilesRoot);
  if (!NAME.test(name) || !known.includes(name)) {
    throw new FaultlineError('invalid-input', `unknown runtime profile '${name}'; known: ${known.length ? known.join(', ') : `(none in ${path.join(profilesRoot, 'runtime')})`}`);
  }
  const file = path.join(profilesRoot, 'runtime', `${name}.yaml`);
  const text = await readFile(file, 'utf8');
  let doc: unknown;
  try {
    doc = yaml.load(text, { filename: file });
  } catch (e) {
    const mark = (e as { mark?: { line: number; column: number } }).mark;
    throw new FaultlineError('invalid-input', `${file}: invalid YAML: ${(e as Error).message.split('\n')[0]}`, {
      location: { file, ...(mark ? { line: mark.line + 1, column: mark.column + 1 } : {}) },
    });
  }
  const problems: s.Problem[] = [];
  const v = runtimeProfileSchema.validate(doc, [], problems);
  if (!v) {
    throw new InvalidInputError(problems.map((p) => ({
      location: locate(text, file, p.path),
      message: `runtime profile: ${p.path.join('.') || '(top)'}: ${p.message}`,
    })));
  }
  if (v.name !== name) {
    throw new FaultlineError('invalid-input', `runtime profile ${file}: name '${v.name}' does not match the file name ('${name}')`, { location: locate(text, file, ['name']) });
  }
  return { ...v, file } as RuntimeProfile;
}

/** Best-effort line of a key path in a block-style YAML file (profiles are flat mappings). */
function locate(text: string, file: string, keyPath: readonly (string | number)[]): Location {
  const lines = text.split('\n');
  let from = 0;
  let indent = -1;
  let found: number | undefined;
  for (const key of keyPath) {
    if (typeof key !== 'string') break;
    const re = new RegExp(`^(\\s*)${key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*:`);
    let hit: number | undefined;
    for (let i = from; i < lines.length; i++) {
      const m = re.exec(lines[i]!);
      if (m && m[1]!.length > indent) {
        hit = i;
        indent = m[1]!.length;
        break;
      }
    }
    if (hit === undefined) break;
    found = hit;
    from = hit + 1;
  }
  return found === undefined ? { file } : { file, line: found + 1 };
}
