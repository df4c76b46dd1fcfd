// Loads runtime profiles (profiles/runtime/<name>.yaml): the libcni behaviour of one release line,
// each field citing its source in the file. Adding a release is adding a file; no code changes.
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import * as s from '../schema/dsl.ts';
import { FaultlineError } from '../errors.ts';
import { readProfileFile } from './profile-file.ts';
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
  const v = await readProfileFile(file, 'runtime profile', runtimeProfileSchema, name, 'file name');
  return { ...v, file } as RuntimeProfile;
}
