import { describe, expect, it } from 'vitest';
import { planStages } from './yip-stages.ts';
import { loadStackProfile } from '../profiles/stack-profile.ts';

describe('yip stage semantics', () => {
  it('runs commands of v1.4.3 and ignores v1.4.2 command: with a warning', async () => {
    const fixed = planStages((await loadStackProfile('harvester/v1.4.3')).stageFiles);
    expect(fixed.warnings).toEqual([]);
    expect(fixed.steps).toEqual([{ stage: 'initramfs', name: 'reset container dhcp leases', commands: ['rm -rf /var/lib/cni/networks/k8s-pod-network'] }]);

    const broken = planStages((await loadStackProfile('harvester/v1.4.2')).stageFiles);
    expect(broken.steps).toEqual([{ stage: 'initramfs', name: 'reset container dhcp leases', commands: [] }]);
    expect(broken.warnings).toEqual(["stage 'reset container dhcp leases': key 'command' is not a yip key and was ignored"]);

    expect(planStages((await loadStackProfile('harvester/v1.4.1')).stageFiles)).toEqual({ steps: [], warnings: [] });
  });

  it('orders stages as a boot does and tells known yip keys from unknown ones', () => {
    const plan = planStages([{ path: '/x.yaml', source: 't', content: 'name: t\nstages:\n  boot:\n    - name: late\n      commands: [echo b]\n      files: []\n  initramfs:\n    - name: early\n      if: "[ -e /x ]"\n      commands: [echo a]\n' }]);
    expect(plan.steps.map((s) => s.name)).toEqual(['early', 'late']);
    expect(plan.steps[0]!.if).toBe('[ -e /x ]');
    expect(plan.warnings).toEqual(["stage 'late': yip key 'files' is not interpreted by faultline and was not run"]);
  });

  it('skips a file yip could not parse, with a warning', () => {
    const plan = planStages([{ path: '/bad.yaml', source: 't', content: 'stages: [\n' }]);
    expect(plan.steps).toEqual([]);
    expect(plan.warnings[0]).toMatch(/not valid YAML/);
  });
});

describe('releases added as profile files only', () => {
  it.each([
    ['harvester/v1.5.0', [], ["stage 'reset container dhcp leases': key 'command' is not a yip key and was ignored"]],
    ['harvester/v1.5.1', ['rm -rf /var/lib/cni/networks/k8s-pod-network'], []],
  ])('%s boots with the stage file it shipped', async (name, commands, warnings) => {
    const plan = planStages((await loadStackProfile(name)).stageFiles);
    expect(plan.steps.flatMap((s) => s.commands)).toEqual(commands);
    expect(plan.warnings).toEqual(warnings);
  });
});
