// `faultline runtime install <name...>` and `faultline runtime list`: real container runtimes as
// cached components (containerd-1.6, containerd-2.1, containerd-dir:/path) and the libcni models.
import { EXIT, FaultlineError } from '../../errors.ts';
import { componentsCacheDir, containerdReleaseNames, resolveContainerd } from '../../components/containerd.ts';
import { listRuntimeProfiles } from '../../profiles/runtime-profile.ts';
import type { Command } from '../command.ts';

const USAGE = ['faultline runtime install <name...>', '       faultline runtime list'].join('\n');

export const runtimeCommand: Command = {
  name: 'runtime',
  summary: 'install and list container runtimes (real containerd versions, cached per user; libcni models)',
  usage: USAGE,
  options: {},
  async run(_values, positionals, io) {
    const [sub, ...args] = positionals;
    if (sub === 'list') {
      if (args.length) throw new FaultlineError('usage', `runtime list takes no arguments\nusage: ${USAGE}`);
      io.out(`cache: ${componentsCacheDir()}`);
      io.out('real (containerd, driven over CRI):');
      for (const name of containerdReleaseNames()) io.out(`  ${name}`);
      io.out('  containerd-go:vX.Y.Z   (built from upstream source through the Go module proxy; also containerd-go:<commit>)');
      io.out('  containerd-dir:/path   (your own build: bin/containerd, bin/containerd-shim-runc-v2, bin/ctr)');
      io.out("model (faultline's libcni model):");
      for (const name of await listRuntimeProfiles()) io.out(`  ${name}`);
      return EXIT.ok;
    }
    if (sub !== 'install') throw new FaultlineError('usage', `${sub ? `unknown subcommand '${sub}'` : 'missing subcommand'}\nusage: ${USAGE}`);
    if (!args.length) throw new FaultlineError('usage', `runtime install needs at least one name\nusage: ${USAGE}`);
    for (const name of args) {
      if (!name.startsWith('containerd-')) throw new FaultlineError('usage', `'${name}' is not a real runtime (containerd-1.6, containerd-2.1, containerd-go:vX.Y.Z, containerd-dir:/path); model runtimes need no install`);
      const r = await resolveContainerd(name, { signal: io.signal, onProgress: (m) => io.err(`  ${m}`) });
      io.out(`ok  ${name}  containerd ${r.version}, libcni ${r.libcni}  ${r.source}  ${r.dir}`);
    }
    return EXIT.ok;
  },
};
