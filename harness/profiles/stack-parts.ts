// The parts of a stack (networks with their conflists, boot stage files, substitutions), as a stack
// profile file and a scenario's inline `cluster.stack` both write them: one schema, so that both are
// validated, located and completed the same way.
import * as s from '../schema/dsl.ts';

export const conflistSchema = s.object(
  {
    name: s.req(s.string({ minLength: 1, description: 'Network name (host-local keeps its state in /var/lib/cni/networks/<name>).' })),
    cniVersion: s.req(s.string({ pattern: /^\d+\.\d+\.\d+$/, description: 'CNI spec version of the list (libcni reads the cached result on DEL from 0.4.0).' })),
    disableCheck: s.opt(s.boolean()),
    disableGC: s.opt(s.boolean()),
    plugins: s.req(s.array(s.record(s.json()), { minItems: 1, description: 'The plugin chain, each a mapping with its `type` (bridge, host-local in ipam, portmap, bandwidth, ...). `subnet: usePodCidr` takes the node subnet.' })),
  },
  { description: 'The conflist as /etc/cni/net.d holds it (JSON written as YAML).' },
);

export const networkSchema = s.object(
  {
    file: s.req(s.string({ pattern: /^[A-Za-z0-9._-]+\.(conflist|conf)$/, expected: 'a file name like 10-mynet.conflist', description: 'File name in /etc/cni/net.d (the first in sorted order is the default network).' })),
    secondary: s.opt(s.boolean('A secondary network, attached by name (Multus style) instead of written to /etc/cni/net.d.'), false),
    segment: s.opt(s.string({ pattern: /^[a-z][a-z0-9-]{0,9}$/, description: 'External segment joined by a link of this name in every node (the macvlan parent).' })),
    conflist: s.req(conflistSchema),
  },
  { description: 'One network: its file and its conflist.' },
);

export const networksSchema = s.array(networkSchema, { minItems: 1, description: 'The networks of the stack, each with its conflist.' });

export const stageFilesSchema = s.array(
  s.object({
    path: s.req(s.string({ description: 'Where the release puts the file (informative).' })),
    source: s.req(s.string({ description: 'Where the content comes from (a PR, a tag).' })),
    content: s.req(s.string({ description: "The file's real content, run at boot with yip's semantics (stages, `commands`)." })),
  }),
  { description: 'Boot stage files (yip semantics), run at every boot before the CNI configs are written.' },
);

export const substitutionsSchema = s.array(
  s.object({ plugin: s.req(s.string()), standIn: s.req(s.string()), why: s.req(s.string()) }),
  { description: 'Plugins of the real stack replaced by a stand-in here, and why (shown in the report).' },
);
