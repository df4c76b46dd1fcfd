// Boot stage files interpreted with yip's semantics (elemental/cOS): a file has `name` and `stages`,
// each stage a list of steps. faultline runs a step's `commands` (each with sh -c, in order, inside the
// node) and honours `if`. yip's loader is not strict: an unknown key is dropped silently; faultline
// drops it too, and says so as a warning, which is how Harvester v1.4.2's `command:` shows up.
import { parse as parseYaml } from 'yaml';
import type { StageFile } from '../model/profile.ts';

/** Stages faultline runs at boot, in yip/elemental order. */
export const BOOT_STAGES = ['rootfs', 'initramfs', 'boot', 'network'] as const;

/** Keys yip's stage schema knows that faultline does not act on (reported, not run). */
const YIP_KEYS_NOT_RUN = new Set([
  'files', 'directories', 'dns', 'hostname', 'sysctl', 'modules', 'systemctl', 'environment', 'environment_file',
  'authorized_keys', 'users', 'ensure_entities', 'delete_entities', 'systemd_firstboot', 'timesyncd', 'datasource',
  'layout', 'node', 'only_if_os', 'only_if_os_version', 'only_if_arch', 'only_if_service_manager', 'after',
  'downloads', 'git', 'packages', 'unpack_images',
]);

export interface StageStep {
  stage: string;
  /** Step name, or the file's name when the step has none. */
  name: string;
  if?: string;
  commands: string[];
}

export interface StagePlan {
  steps: StageStep[];
  warnings: string[];
}

export function planStages(files: readonly StageFile[]): StagePlan {
  const steps: StageStep[] = [];
  const warnings: string[] = [];
  for (const file of files) {
    let doc: unknown;
    try {
      doc = parseYaml(file.content, { logLevel: 'error' }); // errors throw; warnings are not printed
    } catch (e) {
      // yip refuses a file it cannot parse; the boot goes on without it.
      warnings.push(`stage file ${file.path}: not valid YAML, skipped as yip would (${(e as Error).message.split('\n')[0]})`);
      continue;
    }
    if (!doc || typeof doc !== 'object') continue;
    const { name: fileName, stages } = doc as { name?: unknown; stages?: unknown };
    const label = typeof fileName === 'string' ? fileName : file.path;
    if (!stages || typeof stages !== 'object') continue;
    for (const [stage, list] of Object.entries(stages as Record<string, unknown>)) {
      if (!Array.isArray(list)) continue;
      if (!(BOOT_STAGES as readonly string[]).includes(stage)) {
        warnings.push(`stage file ${file.path}: stage '${stage}' is not one faultline boots through (${BOOT_STAGES.join(', ')}); not run`);
        continue;
      }
      for (const raw of list) {
        if (!raw || typeof raw !== 'object') continue;
        const step = raw as Record<string, unknown>;
        const name = typeof step.name === 'string' ? step.name : label;
        for (const key of Object.keys(step)) {
          if (key === 'name' || key === 'commands' || key === 'if') continue;
          if (YIP_KEYS_NOT_RUN.has(key)) warnings.push(`stage '${name}': yip key '${key}' is not interpreted by faultline and was not run`);
          else warnings.push(`stage '${name}': key '${key}' is not a yip key and was ignored`);
        }
        const commands = Array.isArray(step.commands) ? step.commands.filter((c): c is string => typeof c === 'string') : [];
        steps.push({ stage, name, commands, ...(typeof step.if === 'string' ? { if: step.if } : {}) });
      }
    }
  }
  // yip runs stages in boot order; files within a stage in the order given.
  steps.sort((a, b) => BOOT_STAGES.indexOf(a.stage as never) - BOOT_STAGES.indexOf(b.stage as never));
  return { steps, warnings };
}
