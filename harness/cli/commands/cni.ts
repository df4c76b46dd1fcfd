// `faultline cni install <version...>` and `faultline cni list`: the CNI plugin versions cache.
import { EXIT, FaultlineError } from '../../errors.ts';
import {
  SOURCE_CHOICES,
  type SourceChoice,
  cniCacheDir,
  knownVersions,
  listInstalled,
  resolvePlugins,
} from '../../cni-versions/index.ts';
import type { Command } from '../command.ts';

const USAGE = [
  'faultline cni install [--source auto|debian|tarball|dir|go] [--from-dir PATH] [--force] <version...>',
  '       faultline cni list [--json]',
].join('\n');

export const cniCommand: Command = {
  name: 'cni',
  summary: 'install and list CNI plugin versions (real binaries, cached per user)',
  usage: USAGE,
  optionHelp: {
    source: 'install: auto (Debian when it has the version, else the release tarball), debian, tarball, dir, system, go (built from upstream source; also: go:vX.Y.Z)',
    'from-dir': 'install: take the binaries from this directory (with --source dir)',
    force: 'install again even when cached',
    json: 'list: machine-readable output',
  },
  options: {
    source: { type: 'string' },
    'from-dir': { type: 'string' },
    force: { type: 'boolean' },
    json: { type: 'boolean' },
  },
  async run(values, positionals, io) {
    const [sub, ...args] = positionals;
    const cacheDir = cniCacheDir();
    if (sub === 'list') {
      if (args.length) throw new FaultlineError('usage', `cni list takes no arguments\nusage: ${USAGE}`);
      const entries = await listInstalled(cacheDir);
      if (values.json) {
        io.out(JSON.stringify({ cacheDir, installed: entries, known: knownVersions() }, null, 2));
        return EXIT.ok;
      }
      io.out(`cache: ${cacheDir}`);
      if (entries.length === 0) io.out('installed: none');
      else {
        io.out('installed:');
        const nameOf = (m: (typeof entries)[number]) => (m.kind === 'system' ? 'system' : m.kind === 'go' ? `go:${m.version}` : m.version);
        const w = Math.max(...entries.map((m) => nameOf(m).length));
        for (const m of entries) {
          const name = nameOf(m);
          io.out(`  ${name.padEnd(w)}  ${m.source}  ${Object.keys(m.sha256).length} binaries  ${m.installedAt}${m.kind === 'system' ? `  (plugins ${m.version})` : ''}`);
        }
      }
      io.out('versions faultline can install:');
      for (const k of knownVersions()) io.out(`  ${k}`);
      return EXIT.ok;
    }
    if (sub !== 'install') {
      throw new FaultlineError('usage', `${sub ? `unknown subcommand '${sub}'` : 'missing subcommand'}\nusage: ${USAGE}`);
    }
    if (args.length === 0) throw new FaultlineError('usage', `cni install needs at least one version\nusage: ${USAGE}`);
    const source = (values.source as string | undefined) ?? (values['from-dir'] ? 'dir' : 'auto');
    if (!SOURCE_CHOICES.includes(source as SourceChoice)) {
      throw new FaultlineError('usage', `--source must be one of ${SOURCE_CHOICES.join(', ')}, not '${source}'`);
    }
    const fromDir = values['from-dir'] as string | undefined;
    if (source === 'dir' && !fromDir) throw new FaultlineError('usage', '--source dir needs --from-dir PATH');
    if (fromDir && source !== 'dir') throw new FaultlineError('usage', `--from-dir goes with --source dir, not --source ${source}`);
    if (fromDir && args.length !== 1) throw new FaultlineError('usage', '--from-dir installs one version: give exactly one version name');
    for (const spec of args) {
      const r = await resolvePlugins(spec, {
        cacheDir,
        source: source as SourceChoice,
        fromDir,
        force: values.force === true,
        movingMaxAgeMs: 0, // an explicit install asks Debian what `sid` is now
        signal: io.signal,
        onProgress: (m) => io.err(`  ${m}`),
      });
      io.out(`ok  ${spec === r.version ? spec : `${spec} = ${r.version}`}  ${r.source}  ${r.dir}`);
    }
    return EXIT.ok;
  },
};
