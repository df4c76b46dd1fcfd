import { localReaper } from '../backends/local/reaper.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { homedir } from 'node:os';
import { FaultlineError } from '../errors.ts';
import { RUN_ID_RE, activeRun, cellDirName, createRun, gcRuns, newRunId, stateRoot, type LedgerEntry, type LedgerFile } from './ledger.ts';
import { readStartTime } from '../util/procfs.ts';
import { deadProcess, pidAlive, sleeper, useTempStateDir, writeFakeRun } from '../../testing/host.ts';

let state: Awaited<ReturnType<typeof useTempStateDir>>;
beforeAll(async () => {
  state = await useTempStateDir();
});
afterAll(async () => {
  await state.restore();
});

const readLedger = (dir: string) => JSON.parse(readFileSync(join(dir, 'ledger.json'), 'utf8')) as LedgerFile;
const holder = (id: string, pid: number, startTime: number): LedgerEntry => ({
  id,
  recordedAt: new Date().toISOString(),
  kind: 'holder',
  cellId: 'c',
  node: 'node-1',
  nodeDir: '/nonexistent',
  tag: 'faultline.x.c.node-1',
  state: 'running',
  pid,
  startTime,
});

describe('run ids and the state root', () => {
  it('makes run ids fl-<yyyymmdd-hhmmss>-<6 hex> in UTC', () => {
    const id = newRunId(new Date(Date.UTC(2025, 0, 2, 3, 4, 5)));
    expect(id).toMatch(/^fl-20250102-030405-[0-9a-f]{6}$/);
    expect(RUN_ID_RE.test(id)).toBe(true);
    expect(newRunId()).not.toBe(newRunId());
  });

  it('takes FAULTLINE_STATE_DIR, then XDG_STATE_HOME, then ~/.local/state', () => {
    expect(stateRoot({ FAULTLINE_STATE_DIR: '/a/b', XDG_STATE_HOME: '/x' })).toBe('/a/b');
    expect(stateRoot({ XDG_STATE_HOME: '/x' })).toBe('/x/faultline');
    expect(stateRoot({})).toBe(join(homedir(), '.local/state/faultline'));
  });

  it('names cell dirs safely and without collisions', () => {
    expect(cellDirName('cni=1.1.1,harvester=v1.4.2')).toMatch(/^cni=1\.1\.1_harvester=v1\.4\.2-[0-9a-f]{6}$/);
    expect(cellDirName('a/b')).not.toBe(cellDirName('a_b'));
    expect(cellDirName('../..')).not.toContain('/');
  });
});

describe('createRun', () => {
  it('writes the ledger with its owner before anything else, and every record before returning', async () => {
    const t0 = Date.now();
    const run = await createRun();
    expect(run.runId).toMatch(RUN_ID_RE);
    expect(run.workDir).toBe(join(state.dir, 'runs', run.runId));
    expect(activeRun(run.runId)).toBe(run);
    const ledger = readLedger(run.workDir);
    expect(ledger.owner).toMatchObject({ pid: process.pid, startTime: readStartTime(process.pid) });
    expect(ledger.owner.host).toBeTruthy();
    expect(Date.parse(ledger.createdAt)).toBeGreaterThanOrEqual(t0);
    expect(Date.parse(ledger.createdAt)).toBeLessThanOrEqual(Date.now());
    const id = run.record({ kind: 'work-dir', path: run.cellDir('c1'), cellId: 'c1' });
    expect(readLedger(run.workDir).resources).toEqual([expect.objectContaining({ id, kind: 'work-dir', cellId: 'c1' })]);
    run.update(id, { path: '/changed' });
    expect(readLedger(run.workDir).resources[0]).toMatchObject({ path: '/changed' });
    expect(() => run.update('nope', {})).toThrow(FaultlineError);
    expect(run.cellDir('c1').startsWith(run.workDir + '/')).toBe(true);

    await mkdir(run.cellDir('c1'), { recursive: true });
    await run.release([localReaper]);
    expect(existsSync(run.workDir)).toBe(false);
    expect(activeRun(run.runId)).toBeUndefined();
    await run.release([localReaper]); // twice: fine
  });

  it('rejects malformed and duplicate run ids', async () => {
    await expect(createRun({ runId: 'run-1' })).rejects.toMatchObject({ code: 'usage' });
    const run = await createRun({ runId: 'fl-20250101-000000-aaaaaa' });
    await expect(createRun({ runId: 'fl-20250101-000000-aaaaaa' })).rejects.toThrow(/already exists/);
    await run.release([localReaper]);
  });

  it('release kills what is left of its nodes (verified) and removes the dir', async () => {
    const run = await createRun();
    const left = await sleeper();
    run.record(holder('ignored', left.id.pid, left.id.startTime));
    await run.release([localReaper]);
    expect(pidAlive(left.id.pid)).toBe(false);
    await left.stop();
  });
});

describe('gcRuns', () => {
  it('removes runs whose owner is dead, and only those', async () => {
    const dead = await deadProcess();
    const live = await sleeper();
    const mine = await createRun();
    try {
      const deadDir = await writeFakeRun(state.dir, 'fl-20250101-000001-000001', dead);
      const liveDir = await writeFakeRun(state.dir, 'fl-20250101-000001-000002', live.id);
      const rebootDir = await writeFakeRun(state.dir, 'fl-20250101-000001-000003', { ...live.id, bootId: 'another-boot' });
      const foreignDir = await writeFakeRun(state.dir, 'fl-20250101-000001-000004', dead, [], undefined);
      const foreign = readLedger(foreignDir);
      foreign.owner.host = 'elsewhere.example';
      await writeFile(join(foreignDir, 'ledger.json'), JSON.stringify(foreign));
      const stagingDir = await writeFakeRun(state.dir, 'fl-20250101-000001-000005', dead, [], '.staging-fl-20250101-000001-000005');
      const notOurs = join(state.dir, 'runs', 'notes');
      await mkdir(notOurs);
      const corrupt = join(state.dir, 'runs', 'fl-20250101-000001-000006');
      await mkdir(corrupt);
      await writeFile(join(corrupt, 'ledger.json'), '{"version": 1, "runId": "fl-2025');

      const dry = await gcRuns([localReaper], { dryRun: true });
      expect(dry.removed).toEqual(['.staging-fl-20250101-000001-000005', 'fl-20250101-000001-000001', 'fl-20250101-000001-000003']);
      for (const d of [deadDir, rebootDir, stagingDir]) expect(existsSync(d)).toBe(true);

      const r = await gcRuns([localReaper]);
      expect(r.removed).toEqual(dry.removed);
      expect(r.skippedLive.sort()).toEqual(['fl-20250101-000001-000002', 'fl-20250101-000001-000004', mine.runId].sort());
      expect(r.reasons['fl-20250101-000001-000002']).toMatch(new RegExp(`owner pid ${live.id.pid} is still running`));
      expect(r.reasons['fl-20250101-000001-000004']).toMatch(/elsewhere\.example/);
      expect(r.reasons[mine.runId]).toMatch(/this process/);
      expect(r.failed).toEqual([{ runId: 'fl-20250101-000001-000006', error: expect.stringMatching(/no readable ledger/) }]);
      for (const d of [deadDir, rebootDir, stagingDir]) expect(existsSync(d)).toBe(false);
      for (const d of [liveDir, foreignDir, notOurs, corrupt, mine.workDir]) expect(existsSync(d)).toBe(true);

      // Once the owner dies, its run goes too.
      await live.stop();
      expect((await gcRuns([localReaper])).removed).toEqual(['fl-20250101-000001-000002']);
    } finally {
      await live.stop();
      await mine.release([localReaper]);
    }
  });

  it('kills a dead run’s holders that still run, but never a recycled pid', async () => {
    const dead = await deadProcess();
    const stillThere = await sleeper();
    const recycled = await sleeper();
    try {
      await writeFakeRun(state.dir, 'fl-20250101-000002-000001', dead, [
        holder('r1', stillThere.id.pid, stillThere.id.startTime),
        holder('r2', recycled.id.pid, recycled.id.startTime - 1), // same pid, other process
      ]);
      const dry = await gcRuns([localReaper], { dryRun: true });
      expect(dry.removed).toContain('fl-20250101-000002-000001');
      expect(pidAlive(stillThere.id.pid)).toBe(true);
      const r = await gcRuns([localReaper]);
      expect(r.removed).toContain('fl-20250101-000002-000001');
      expect(pidAlive(stillThere.id.pid)).toBe(false);
      expect(pidAlive(recycled.id.pid)).toBe(true);
    } finally {
      await stillThere.stop();
      await recycled.stop();
    }
  });

  it('finds nothing to do without a runs dir', async () => {
    expect(await gcRuns([localReaper], { stateDir: join(state.dir, 'none') })).toEqual({ removed: [], skippedLive: [], reasons: {}, failed: [] });
  });
});
