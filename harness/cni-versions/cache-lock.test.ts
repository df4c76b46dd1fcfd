// The cache lock under adversarial interleavings: every file-system call the lock makes is held back
// by a seeded random delay, so waiters' steps interleave in many orders, and waiters race for a lock
// whose holder died while holding it. Mutual exclusion is checked by a counter in a file that each
// holder reads, yields, and writes back (a lost update shows two holders at once), and by a count of
// holders inside. The result must not depend on which waiter wins.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import * as fsp from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { createRng, type Rng } from '../util/rng.ts';
import { REPO_ROOT } from '../version.ts';
import { withLock } from './cache.ts';

const jitter: { rng?: Rng } = {};

vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof fsp>();
  const wrapped: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(real)) {
    wrapped[k] =
      typeof v === 'function'
        ? async (...args: unknown[]) => {
            if (jitter.rng) await new Promise((r) => setTimeout(r, jitter.rng!.int(150)));
            return (v as (...a: unknown[]) => unknown)(...args);
          }
        : v;
  }
  return { ...wrapped, default: wrapped };
});

const work = mkdtempSync(join(tmpdir(), 'faultline-lock-test-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
let n = 0;
const freshCache = () => mkdtempSync(join(work, `cache${n++}-`));
const WAITERS = 6;

/** A child process takes the lock and dies inside it, leaving the lock to a dead holder. */
async function dieHoldingLock(cache: string, name: string): Promise<void> {
  const script = join(work, 'die-holding.mts');
  writeFileSync(
    script,
    `import { withLock } from ${JSON.stringify(join(REPO_ROOT, 'harness/cni-versions/cache.ts'))};\n` +
      `await withLock(process.argv[2], process.argv[3], undefined, async () => { process.exit(7); });\n`,
  );
  const child = spawn(process.execPath, ['--import', 'tsx', script, cache, name], { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise((r) => child.on('exit', r));
  expect(code, stderr).toBe(7);
}

describe('cache lock takeover', () => {
  it('many waiters racing a dead holder: one holder at a time, every waiter gets its turn', async () => {
    // The old lock (remove a dead holder's file, then create one) let two or three in at once with
    // most of these seeds.
    for (const seed of [1, 2, 3, 4]) {
      const cache = freshCache();
      await dieHoldingLock(cache, 'v');
      const counter = join(work, `counter-${seed}`);
      writeFileSync(counter, '0');
      let inside = 0;
      let most = 0;
      const entered: number[] = [];
      jitter.rng = createRng(seed);
      try {
        await Promise.all(
          Array.from({ length: WAITERS }, (_, w) =>
            withLock(cache, 'v', undefined, async () => {
              inside++;
              most = Math.max(most, inside);
              entered.push(w);
              const c = Number(await fsp.readFile(counter, 'utf8'));
              await fsp.writeFile(counter, String(c + 1));
              inside--;
            }),
          ),
        );
      } finally {
        jitter.rng = undefined;
      }
      expect(most, `seed ${seed}: holders inside at once`).toBe(1);
      expect(readFileSync(counter, 'utf8'), `seed ${seed}: counter`).toBe(String(WAITERS));
      expect([...entered].sort(), `seed ${seed}`).toEqual([...Array(WAITERS).keys()]);
    }
  }, 300_000);

  it('processes racing for a lock whose holders die inside it still hold it one at a time', async () => {
    const cache = freshCache();
    const log = join(work, 'holders.log');
    writeFileSync(log, '');
    const script = join(work, 'contend.mts');
    // Each worker takes the lock 4 times; on its second turn it dies holding it (its release never runs).
    writeFileSync(
      script,
      `import { appendFileSync } from 'node:fs';\n` +
        `import { withLock } from ${JSON.stringify(join(REPO_ROOT, 'harness/cni-versions/cache.ts'))};\n` +
        `const [cache, log, id] = process.argv.slice(2);\n` +
        `for (let i = 0; i < 4; i++) {\n` +
        `  await withLock(cache, 'p', undefined, async () => {\n` +
        `    appendFileSync(log, 'enter ' + id + '\\n');\n` +
        `    await new Promise((r) => setTimeout(r, 5));\n` +
        `    appendFileSync(log, 'leave ' + id + '\\n');\n` +
        `    if (i === 1) process.exit(0);\n` +
        `  });\n` +
        `}\n`,
    );
    const workers = Array.from({ length: 5 }, (_, i) => {
      const child = spawn(process.execPath, ['--import', 'tsx', script, cache, log, String(i)], { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      return new Promise<void>((resolve, reject) =>
        child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`worker ${i} exited ${code}: ${stderr}`)))),
      );
    });
    await Promise.all(workers);
    const lines = readFileSync(log, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(5 * 2 * 2); // two turns each, enter + leave
    for (let i = 0; i < lines.length; i += 2) {
      const id = lines[i]!.split(' ')[1];
      expect([lines[i], lines[i + 1]], `line ${i + 1}`).toEqual([`enter ${id}`, `leave ${id}`]);
    }
    // Only the last holder's slot and its release remain: nothing piles up.
    expect(readdirSync(join(cache, '.locks', 'p')).length).toBeLessThanOrEqual(2);
  });
});
