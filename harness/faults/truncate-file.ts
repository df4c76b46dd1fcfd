// Cut files on a node's disk to `size` bytes (0 by default): what a power cut does to a file whose
// create/truncate reached the disk but whose content did not (libcni writes its result cache with a
// plain create+write, cni#1055/#1149).
import * as s from '../schema/dsl.ts';
import { defineFault } from './registry.ts';
import { checkFileTarget, fileTargetFields, resolveFileTarget } from './node-files.ts';

/**
 * The largest size a file may be cut (or extended) to: CNI state files are a few KiB, and every byte
 * beyond is read by each observation and copied into the report.
 */
export const MAX_TRUNCATE_BYTES = 1024 * 1024;

export const truncateFile = defineFault({
  name: 'truncate-file',
  description: 'Truncate a file (`path`) or every file matching `glob` on a node to `size` bytes.',
  params: s.object({
    ...fileTargetFields,
    size: s.opt(s.integer({ min: 0, max: MAX_TRUNCATE_BYTES, description: 'New size in bytes (0 empties the file); at most 1 MiB, as CNI state files are a few KiB.' }), 0),
  }),
  validate: (p) => checkFileTarget(p),
  async run(ctx, p) {
    const node = ctx.cluster.node(p.node);
    const files = await resolveFileTarget(node, p, 'truncate-file', ctx.agent(p.node));
    const done: string[] = [];
    for (const file of files) {
      const before = (await node.stat(file))?.size ?? 0;
      await node.truncateFile(file, p.size!);
      done.push(`${file} (${before} -> ${p.size} bytes)`);
    }
    ctx.progress(`truncate-file ${p.node}: ${files.length} file(s)`);
    return `${p.node}: truncated ${done.join(', ')}`;
  },
});
