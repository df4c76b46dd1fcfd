// `faultline gc`: removes what killed runs left (their nodes' processes, mounts and dirs), never a
// live run's.
import { EXIT, FaultlineError } from '../../errors.ts';
import type { Command } from '../command.ts';
import { gcRuns, stateRoot } from '../../ledger/ledger.ts';
import { allReapers } from '../../backends/index.ts';

export const gcCommand: Command = {
  name: 'gc',
  summary: 'remove what killed runs left behind (processes, mounts, work dirs); live runs are never touched',
  usage: 'faultline gc [--dry-run]',
  optionHelp: { 'dry-run': 'say what would be removed, remove nothing' },
  options: {
    'dry-run': { type: 'boolean' },
  },
  async run(values, _positionals, io) {
    const dryRun = values['dry-run'] === true;
    const root = stateRoot();
    const result = await gcRuns(allReapers(), { dryRun });
    io.out(`state dir: ${root}`);
    for (const id of result.removed) io.out(`${dryRun ? 'would remove' : 'removed'} ${id}`);
    for (const id of result.skippedLive) io.out(`skipped ${id}: ${result.reasons[id] ?? 'live'}`);
    for (const f of result.failed) io.err(`failed ${f.runId}: ${f.error}`);
    if (result.removed.length + result.skippedLive.length + result.failed.length === 0) io.out('nothing to clean up');
    if (result.failed.length) {
      throw new FaultlineError('environment', `${result.failed.length} run(s) could not be cleaned up`, {
        hint: 'fix the cause above (e.g. run as root) and run faultline gc again',
      });
    }
    return EXIT.ok;
  },
};
