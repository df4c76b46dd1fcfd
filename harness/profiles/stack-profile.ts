// Loads stack profiles (profiles/<kind>/<version>.yaml): what a named release means concretely.
// Adding a release is adding a file here; no code changes.
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import * as s from '../schema/dsl.ts';
import { FaultlineError } from '../errors.ts';
import { readProfileFile } from './profile-file.ts';
import { REPO_ROOT } from '../version.ts';
import type { StackProfile } from '../model/profile.ts';

export const PROFILES_ROOT = path.join(REPO_ROOT, 'profiles');

const conflistSchema = s.object({
  name: s.req(s.string({ minLength: 1 })),
  cniVersion: s.req(s.string({ pattern: /^\d+\.\d+\.\d+$/ })),
  disableCheck: s.opt(s.boolean()),
  disableGC: s.opt(s.boolean()),
  plugins: s.req(s.array(s.record(s.json()), { minItems: 1 })),
});

export const stackProfileSchema = s.object({
  name: s.req(s.string({ minLength: 1 })),
  description: s.req(s.string({ minLength: 1 })),
  references: s.opt(s.array(s.string()), []),
  cni: s.req(s.string({ minLength: 1, description: 'Default plugin version (system, sid, x.y.z).' })),
  runtime: s.req(s.string({ minLength: 1, description: 'Default runtime profile (profiles/runtime/<name>.yaml).' })),
  substitutions: s.opt(s.array(s.object({ plugin: s.req(s.string()), standIn: s.req(s.string()), why: s.req(s.string()) })), []),
  networks: s.req(s.array(s.object({
    file: s.req(s.string({ pattern: /^[A-Za-z0-9._-]+\.(conflist|conf)$/ })),
    secondary: s.opt(s.boolean(), false),
    segment: s.opt(s.string({ pattern: /^[a-z][a-z0-9-]{0,9}$/, description: 'External segment joined by a link of this name in every node (the macvlan parent).' })),
    conflist: s.req(conflistSchema),
  }), { minItems: 1 })),
  stageFiles: s.opt(s.array(s.object({ path: s.req(s.string()), source: s.req(s.string()), content: s.req(s.string()) })), []),
});

export async function listStackProfiles(root = PROFILES_ROOT): Promise<string[]> {
  const out: string[] = [];
  for (const dir of await readdir(root, { withFileTypes: true })) {
    // runtime/: runtime profiles; kind/: kind stacks (kube/stack.ts), for the kind backend.
    if (!dir.isDirectory() || dir.name === 'runtime' || dir.name === 'kind') continue;
    for (const f of await readdir(path.join(root, dir.name))) {
      if (f.endsWith('.yaml')) out.push(`${dir.name}/${f.slice(0, -5)}`);
    }
  }
  return out.sort();
}

export async function loadStackProfile(name: string, root = PROFILES_ROOT): Promise<StackProfile> {
  if (!/^[a-z0-9][a-z0-9._-]*\/[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) {
    throw new FaultlineError('invalid-input', `stack profile name '${name}' must look like kind/version (e.g. harvester/v1.4.3)`);
  }
  const file = path.join(root, `${name}.yaml`);
  const known = await listStackProfiles(root);
  if (!known.includes(name)) {
    throw new FaultlineError('invalid-input', `unknown stack profile '${name}' (no ${path.relative(process.cwd(), file)}); known: ${known.join(', ')}`);
  }
  const v = await readProfileFile(file, 'stack profile', stackProfileSchema, name, "file's place under profiles/");
  return { ...v, file } as StackProfile;
}
