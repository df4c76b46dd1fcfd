// Damage files on a node so they no longer parse: `partial-json` keeps the first half of the content
// (a write cut short), `garbage` replaces it with bytes that are not JSON (a torn or foreign write).
// The garbage is derived from the run's seed, so a run replays exactly.
import * as s from '../schema/dsl.ts';
import { defineFault } from './registry.ts';
import { checkFileTarget, fileTargetFields, resolveFileTarget } from './node-files.ts';
import { createRng } from '../util/rng.ts';

export type CorruptMode = 'partial-json' | 'garbage';

export const corruptFile = defineFault({
  name: 'corrupt-file',
  description: 'Corrupt a file (`path`) or every file matching `glob` on a node: cut-off JSON or garbage bytes.',
  params: s.object({
    ...fileTargetFields,
    mode: s.opt(s.literal(['partial-json', 'garbage'] as const, 'partial-json: the first half of the content; garbage: seeded bytes that are not JSON.'), 'partial-json'),
  }),
  validate: (p) => checkFileTarget(p),
  async run(ctx, p) {
    const node = ctx.cluster.node(p.node);
    const files = await resolveFileTarget(node, p, 'corrupt-file', ctx.agent(p.node));
    const done: string[] = [];
    for (const file of files) {
      const before = await node.readFile(file);
      const after = corruptBytes(before, p.mode!, ctx.seed, `${p.node}:${file}`);
      await node.writeFile(file, after);
      done.push(`${file} (${before.length} -> ${after.length} bytes)`);
    }
    ctx.progress(`corrupt-file ${p.node}: ${files.length} file(s)`);
    return `${p.node}: ${p.mode} ${done.join(', ')}`;
  },
});

/** The damaged content; never valid JSON. */
export function corruptBytes(content: Uint8Array, mode: CorruptMode, seed: number, label: string): Buffer {
  if (mode === 'partial-json') {
    const half = Buffer.from(content.subarray(0, Math.floor(content.length / 2)));
    // Half of a JSON object never parses; half of a scalar or of nothing might: use a cut-off object.
    return isJson(half) || half.toString('utf8').trim() === '' ? Buffer.from('{"kind":"cniCacheV1","contai') : half;
  }
  const rng = createRng(seed).fork(label);
  const out = Buffer.alloc(Math.max(16, Math.min(content.length, 256)));
  for (let i = 0; i < out.length; i++) out[i] = rng.int(256);
  out[0] = 0xff; // no JSON text starts with this byte
  return out;
}

function isJson(b: Buffer): boolean {
  try {
    JSON.parse(b.toString('utf8'));
    return true;
  } catch {
    return false;
  }
}
