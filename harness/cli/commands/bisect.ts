// faultline bisect <scenario> --dim <dimension> (--values v1,v2,... | --between <ref> <ref>): the
// first value of an ordered list whose outcome differs from the first value's, by binary search, with
// each probe and both neighbours' evidence printed.
import path from 'node:path';
import type { Command } from '../command.ts';
import { EXIT, FaultlineError } from '../../errors.ts';
import { parseOnly } from '../../scenario/matrix.ts';
import { allReapers, getBackend } from '../../backends/index.ts';
import { REPO_ROOT } from '../../version.ts';
import { randomSeed } from '../../util/rng.ts';
import { findFirstDifferent, maxProbes } from '../../bisect/search.ts';
import { bareRef, prepareBisect, runProbe, sourceDimension, type ProbeOutcome } from '../../bisect/bisect.ts';
import { versionsBetween } from '../../bisect/versions.ts';
import { goToolchain, listModuleVersions } from '../../components/go-build.ts';
import { loadScenario } from '../../scenario/load.ts';

const USAGE = 'faultline bisect <scenario> --dim <dimension> (--values <v1,v2,...> | --between <ref> <ref>) [--only dim=value]... [--seed N] [--out DIR] [--fresh]';

/** A fixed seed by default: probes of one bisect must differ only in the bisected value. */
const DEFAULT_SEED = 1;

export const bisectCommand: Command = {
  name: 'bisect',
  summary: "Find the first value of a dimension (e.g. upstream tags) whose outcome differs from the first value's, by binary search.",
  usage: USAGE,
  optionHelp: {
    dim: 'the matrix dimension to search (e.g. cni)',
    values: 'the ordered values, oldest first (comma-separated or repeated), e.g. go:v1.0.0,go:v1.4.0,go:v1.9.1',
    between: 'two refs (e.g. v1.0.0 v1.9.1): every tag the Go module proxy lists between them, plus those known to exist',
    only: 'fix another dimension to one value (default: its first value)',
    seed: `seed of every probe (default ${DEFAULT_SEED})`,
    out: 'report directory (default reports/bisect-<time>); each probe writes its report below it',
    fresh: 'run every probe again instead of using results of earlier bisects',
  },
  options: {
    dim: { type: 'string' },
    values: { type: 'string', multiple: true },
    between: { type: 'string', multiple: true },
    only: { type: 'string', multiple: true },
    seed: { type: 'string' },
    out: { type: 'string' },
    fresh: { type: 'boolean' },
  },
  async run(values, positionals, io) {
    const dim = values.dim;
    if (typeof dim !== 'string' || !dim) throw new FaultlineError('usage', `--dim is required: the matrix dimension to search\nusage: ${USAGE}`);
    const given = (values.values as string[] | undefined)?.flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
    let between = values.between as string[] | undefined;
    let rest = [...positionals];
    if (between?.length === 1) {
      // `--between a b`: the second ref arrives as a positional (or as a..b in one).
      if (between[0]!.includes('..')) between = between[0]!.split('..');
      else {
        const second = rest.filter((p) => !/\.ya?ml$/.test(p));
        if (second.length !== 1) throw new FaultlineError('usage', `--between takes two refs, e.g. --between v1.0.0 v1.9.1\nusage: ${USAGE}`);
        between = [between[0]!, second[0]!];
        rest = rest.filter((p) => p !== second[0]);
      }
    }
    if (!!given === !!between) throw new FaultlineError('usage', `give exactly one of --values and --between\nusage: ${USAGE}`);
    if (between && between.length !== 2) throw new FaultlineError('usage', `--between takes two refs, found ${between.length}\nusage: ${USAGE}`);
    if (rest.length !== 1) throw new FaultlineError('usage', `name exactly one scenario file${rest.length ? `, found ${rest.join(', ')}` : ''}\nusage: ${USAGE}`);
    const file = path.resolve(rest[0]!);
    const seed = values.seed === undefined ? DEFAULT_SEED : Number(values.seed);
    if (!Number.isInteger(seed) || seed < 0) throw new FaultlineError('usage', `Expected the \`--seed\` option to be an integer >= 0, got \`${String(values.seed)}\``);
    const only = parseOnly(values.only as string[] | undefined);

    let list = given ?? [];
    if (between) {
      const scenario = await loadScenario(file);
      if (!(dim in scenario.matrix)) throw new FaultlineError('usage', `--dim ${dim}: scenario '${scenario.name}' has no matrix dimension '${dim}'`);
      const source = sourceDimension(scenario, dim);
      const [from, to] = between.map(bareRef) as [string, string];
      const tc = await goToolchain({ signal: io.signal });
      const listed = { versions: [] as string[], errors: [] as string[] };
      for (const m of source.modules(from, to)) {
        const r = await listModuleVersions(tc, m, { signal: io.signal });
        listed.versions.push(...r.versions);
        if (r.error) listed.errors.push(`${m}: ${r.error}`);
      }
      const known = [...scenario.matrix[dim]!.map(bareRef), ...(await source.cachedVersions())];
      const range = versionsBetween(from, to, { versions: listed.versions, ...(listed.errors.length ? { error: listed.errors.join('; ') } : {}) }, known);
      io.out(`versions from ${from} to ${to}: ${range.versions.length} (${range.listed.length} listed by the Go module proxy ${tc.proxy}${range.unlisted.length ? `; not in its list but known to exist: ${range.unlisted.join(', ')}` : ''})`);
      if (range.listError) io.out(`  the proxy's version list could not be read: ${range.listError}`);
      io.out("  a proxy's list can be incomplete; to include a tag it leaves out, give the values with --values");
      list = range.versions.map(source.valueFor);
    }

    const plan = await prepareBisect(file, dim, list, only);
    const fixed = Object.entries(plan.fixed).map(([d, v]) => `${d}=${v}`);
    io.out(`bisect ${plan.scenario.name} over ${dim}: ${list.length} values (${list.join(', ')})${fixed.length ? `; fixed: ${fixed.join(', ')}` : ''}; seed ${seed}`);
    io.out(`assumption: the outcome changes once along this order (monotone), so a binary search finds the first value whose outcome differs from ${list[0]}'s; at most ${maxProbes(list.length)} probes`);
    const outDir = path.resolve(typeof values.out === 'string' ? values.out : path.join(REPO_ROOT, 'reports', `bisect-${new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '')}-${randomSeed().toString(16).slice(0, 6)}`));
    let n = 0;
    const result = await findFirstDifferent(
      list.length,
      async (i) => {
        n++;
        io.out(`probe ${n}: ${dim}=${list[i]} ...`);
        const r = await runProbe(plan, list[i]!, i, { seed, outDir, signal: io.signal, backends: getBackend, reapers: allReapers(), fresh: values.fresh === true, onProgress: (m) => io.err(`    ${m}`) });
        io.out(`probe ${n}: ${dim}=${list[i]} -> ${r.key}${r.cachedFrom ? ` (cached result of ${r.cachedFrom})` : ` (${(r.durationMs / 1000).toFixed(1)} s)`}`);
        return r;
      },
      (r) => r.key,
    );
    const show = (label: string, r: ProbeOutcome) => {
      io.out(`  ${label} ${dim}=${r.value}: ${r.key}`);
      io.out(`    ${r.component}`);
      for (const e of r.evidence.slice(0, 4)) io.out(`    - ${e.replace(/\s*\n\s*/g, ' ')}`);
      if (r.reportDir) io.out(`    report: ${r.reportDir}`);
    };
    io.out('');
    if (!result.firstDifferent) {
      io.out(`no change: every probe behaved as ${dim}=${list[0]} (${result.base.result.key}), up to and including ${list[result.lastSame.index]} (${result.probes.length} probes)`);
      show('first', result.base.result);
      if (result.lastSame.index !== 0) show('last', result.lastSame.result);
      return EXIT.ok;
    }
    io.out(`first value whose outcome differs from ${list[0]}'s: ${dim}=${result.firstDifferent.result.value} (${result.probes.length} probes)`);
    show('before:', result.lastSame.result);
    show('from:  ', result.firstDifferent.result);
    const probed = new Set(result.probes.map((p) => p.index));
    const assumed = list.slice(1, result.lastSame.index).filter((_, i) => !probed.has(i + 1));
    if (assumed.length) io.out(`(under the monotone assumption, ${assumed.join(', ')} ${assumed.length === 1 ? 'was' : 'were'} not probed and ${assumed.length === 1 ? 'is' : 'are'} taken to behave as ${list[0]})`);
    return EXIT.ok;
  },
};
