// The worked example of docs/reproduce-a-bug-report.md stays valid as the schema moves on, and says
// what the document says it does.
import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { loadScenario } from './load.ts';
import { expandMatrix } from './matrix.ts';

describe('docs/examples', () => {
  it('stale-nat-chains.yaml validates: an inline stack, four cells expecting no-orphan-iptables to fail with evidence', async () => {
    const sc = await loadScenario(path.join(import.meta.dirname, '..', '..', 'docs', 'examples', 'stale-nat-chains.yaml'));
    expect(sc.cluster.stack.profile).toBeUndefined();
    expect(sc.cluster.stack.networks?.[0]?.conflist.name).toBe('containerd-net');
    expect(sc.workload[0]!.capabilities?.portMappings).toEqual([{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }]);
    const cells = expandMatrix(sc);
    expect(cells.map((c) => c.id)).toEqual([
      'stale-nat-chains[cni=1.1.1,runtime=libcni-1.1]',
      'stale-nat-chains[cni=1.1.1,runtime=containerd-2.1]',
      'stale-nat-chains[cni=sid,runtime=libcni-1.1]',
      'stale-nat-chains[cni=sid,runtime=containerd-2.1]',
    ]);
    for (const c of cells) expect(c.expectation).toMatchObject({ outcome: 'fail', failing: ['no-orphan-iptables'], evidence: { 'no-orphan-iptables': expect.stringContaining('pod web-n1-0') } });
  });
});
