// Multus's 00-multus.conf (or .conflist) has exactly one level of `type: multus`, and its delegate is the master
// config: the first file of /etc/cni/net.d in sorted order that is not 00-multus*
// (multus-cni#1130, #1162: a thin plugin of v4.0.x took its own stale 00-multus.conf as the master
// after a restart and nested itself; fixed by PR #1142 in v4.1.0).
import * as s from '../schema/dsl.ts';
import { defineAssertion, fail, pass, unknown } from './registry.ts';
import { nodeParam, selectNodes } from './node-filter.ts';
import type { Evidence } from '../model/verdict.ts';

export const configNotNested = defineAssertion({
  name: 'config-not-nested',
  description: '00-multus.conf (or .conflist) nests type: multus exactly once and delegates to the first non-00-multus config file.',
  runsOn: 'any',
  params: s.object({ node: nodeParam }),
  evaluate(_ctx, snapshot, p) {
    const bad: Evidence[] = [];
    const good: Evidence[] = [];
    for (const n of selectNodes(snapshot, p.node)) {
      const m = n.multusConfig;
      if (!m?.present) continue;
      const base = { node: n.node, file: m.file };
      if (m.error) {
        bad.push({ summary: `${n.node}: ${m.error}`, ...base, error: m.error });
        continue;
      }
      const depth = m.multusDepth ?? 0;
      if (depth !== 1) {
        bad.push({ summary: `${n.node}: ${m.file} nests type: multus ${depth} level(s) deep (expected exactly 1: Multus delegates to itself)`, ...base, multusDepth: depth, ...(m.text ? { content: m.text } : {}) });
        continue;
      }
      const master = m.expectedMaster;
      if (!master) {
        bad.push({ summary: `${n.node}: ${m.file} has no master config to delegate to (net.d holds only ${m.files.join(', ')})`, ...base });
        continue;
      }
      const name = m.delegate?.name;
      if (!name || name !== master.name) {
        bad.push({ summary: `${n.node}: ${m.file} delegates to ${name ? `network ${name}` : 'a delegate without a name'}, but the master config is ${master.file} (network ${master.name ?? '?'}), the first file in sorted order that is not 00-multus*`, ...base, delegate: name, expectedMaster: master.file });
        continue;
      }
      good.push({ summary: `${n.node}: ${m.file} has one level of multus, delegating to ${name} (${master.file})`, ...base });
    }
    if (!bad.length && !good.length) return unknown(`no node has /etc/cni/net.d/00-multus.conf or 00-multus.conflist${p.node ? ` (${p.node})` : ''}`);
    return bad.length ? fail(bad) : pass(good);
  },
});
