// Loads stack profiles (profiles/<kind>/<version>.yaml): what a named release means concretely.
// Adding a release is adding a file here; no code changes.
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import * as s from '../schema/dsl.ts';
import { FaultlineError } from '../errors.ts';
import { parseProfileText, readProfileFile, readProfileTextSync } from './profile-file.ts';
import { REPO_ROOT } from '../version.ts';
import { networksSchema, stageFilesSchema, substitutionsSchema } from './stack-parts.ts';
import type { NetworkDef, StackProfile } from '../model/profile.ts';
import type { StackSelection } from '../model/scenario.ts';

export const PROFILES_ROOT = path.join(REPO_ROOT, 'profiles');

export const stackProfileSchema = s.object({
  name: s.req(s.string({ minLength: 1 })),
  description: s.req(s.string({ minLength: 1 })),
  references: s.opt(s.array(s.string()), []),
  cni: s.req(s.string({ minLength: 1, description: 'Default plugin version (system, sid, x.y.z).' })),
  runtime: s.req(s.string({ minLength: 1, description: 'Default runtime profile (profiles/runtime/<name>.yaml).' })),
  substitutions: s.opt(substitutionsSchema, []),
  networks: s.req(networksSchema),
  stageFiles: s.opt(stageFilesSchema, []),
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
  return { ...v, file, origin: { kind: 'profile', inline: [] } } as StackProfile;
}

/** A stack profile named by a scenario as a file relative to itself: ./my-stack.yaml. */
export function isProfileFileRef(ref: string): boolean {
  return ref.startsWith('./');
}

/** Why a ./ reference cannot name a profile file beside the scenario, or undefined. */
export function profileFileRefProblem(ref: string): string | undefined {
  const parts = ref.split('/');
  if (!/\.ya?ml$/.test(ref)) return `expected a profile file like ./my-stack.yaml (a .yaml file beside the scenario), found ${JSON.stringify(ref)}`;
  if (parts.includes('..') || parts.slice(1).some((p) => p === '' || p === '.')) return `expected a path below the scenario's directory without '..', '.' or '//' (like ./stacks/my-stack.yaml), found ${JSON.stringify(ref)}`;
  return undefined;
}

/** The path of a ./ profile file, relative to the scenario file that names it. */
export function profileFilePath(ref: string, scenarioFile: string): string {
  return path.resolve(path.dirname(scenarioFile), ref);
}

/** Validates a stack profile file's text (a ./ file: its `name` is free). */
export function parseStackProfileFile(text: string, file: string): StackProfile {
  const v = parseProfileText(text, file, 'stack profile', stackProfileSchema, undefined, '');
  return { ...v, file, origin: { kind: 'file', inline: [] } } as StackProfile;
}

/** Loads a stack profile file named relative to a scenario (./my-stack.yaml). */
export async function loadStackProfileFile(ref: string, scenarioFile: string): Promise<StackProfile> {
  const problem = profileFileRefProblem(ref);
  if (problem) throw new FaultlineError('invalid-input', problem);
  const file = profileFilePath(ref, scenarioFile);
  return parseStackProfileFile(readProfileTextSync(file, 'stack profile'), file);
}

/** The stack fields a scenario may write inline, replacing its profile's (or making a stack without one). */
export const INLINE_STACK_FIELDS = ['networks', 'stageFiles', 'substitutions'] as const;

/**
 * The stack of a cell: its profile (if any) with the fields the scenario writes inline put in place.
 * Without a profile the scenario's `networks` are the stack; its cni and runtime come from the
 * scenario (the loader requires them).
 */
export function withInlineStack(base: StackProfile | undefined, sel: StackSelection, scenarioFile: string): StackProfile {
  const inline = INLINE_STACK_FIELDS.filter((f) => sel[f] !== undefined);
  if (base && !inline.length) return base;
  const networks = (sel.networks ?? base?.networks ?? []).map((n) => ({ ...n, conflist: structuredClone(n.conflist) as NetworkDef['conflist'] }));
  if (!networks.length) throw new FaultlineError('invalid-input', `cluster.stack: no networks: name a profile or write 'networks' with their conflists`);
  return {
    name: base?.name ?? 'inline',
    description: base?.description ?? `the stack written in ${scenarioFile}`,
    references: base?.references ?? [],
    cni: sel.cni ?? base?.cni ?? '',
    runtime: sel.runtime ?? base?.runtime ?? '',
    substitutions: sel.substitutions ?? base?.substitutions ?? [],
    networks,
    stageFiles: sel.stageFiles ?? base?.stageFiles ?? [],
    file: base?.file ?? scenarioFile,
    origin: { kind: base?.origin?.kind ?? 'inline', inline: [...inline] },
  };
}

/**
 * A stack selection that names a profile file beside its scenario (./my-stack.yaml), with that file's
 * content written inline instead, so it holds wherever the scenario is written (a shrunk scenario
 * goes to another directory). Fields the scenario wrote itself keep precedence. Other selections are
 * returned as they are.
 */
export function withProfileFileInlined(sel: StackSelection, scenarioFile: string): StackSelection {
  if (sel.profile === undefined || !isProfileFileRef(sel.profile)) return sel;
  const file = profileFilePath(sel.profile, scenarioFile);
  const p = parseStackProfileFile(readProfileTextSync(file, 'stack profile'), file);
  const { profile: _written, ...rest } = sel;
  return {
    cni: p.cni,
    runtime: p.runtime,
    networks: p.networks.map((n) => ({ file: n.file, secondary: n.secondary === true, ...(n.segment ? { segment: n.segment } : {}), conflist: structuredClone(n.conflist) as NonNullable<StackSelection['networks']>[number]['conflist'] })),
    stageFiles: p.stageFiles.map((f) => ({ ...f })),
    substitutions: p.substitutions.map((x) => ({ ...x })),
    ...Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)),
  };
}
