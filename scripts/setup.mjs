#!/usr/bin/env node
// First step of `npm start` / `npm test` (prestart, pretest hooks). Plain Node, no dependencies: it
// runs before node_modules exists.
//   1. npm dependencies: `npm ci` when node_modules is missing or older than package-lock.json (a stamp
//      file in node_modules records the lock file it was installed from). Silent when nothing to do.
//   2. Debian packages the harness needs: scripts/setup-system.mjs (a zx script).
//   3. The CNI plugin and containerd versions the suites run: scripts/setup-components.ts (cached).
// FAULTLINE_SKIP_SYSTEM_SETUP=1 skips step 2 (for a machine where someone else manages packages);
// FAULTLINE_SKIP_COMPONENTS=1 skips step 3 (components are then provisioned on demand).
// node:child_process, not execa (used everywhere else): this script installs node_modules, so no
// dependency can be loaded yet.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const lockFile = join(root, 'package-lock.json');
const modules = join(root, 'node_modules');
const stamp = join(modules, '.faultline-setup-stamp');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

function say(line) {
  process.stderr.write(`setup: ${line}\n`);
}

function lockHash() {
  return createHash('sha256').update(readFileSync(lockFile)).digest('hex');
}

const mtime = (p) => statSync(p).mtimeMs;

/** True when node_modules matches package-lock.json. */
function dependenciesCurrent() {
  if (!existsSync(modules)) return false;
  if (existsSync(stamp)) {
    if (mtime(stamp) >= mtime(lockFile)) return true;
    // Lock file touched (checkout, rebase) but unchanged: refresh the stamp, no reinstall.
    if (readFileSync(stamp, 'utf8').trim() === lockHash()) {
      const now = new Date();
      utimesSync(stamp, now, now);
      return true;
    }
    return false;
  }
  // node_modules made by a plain `npm ci`/`npm install` before this script existed: npm writes its
  // hidden lock file last, so a newer one means a complete install from this lock file. Adopt it.
  const hidden = join(modules, '.package-lock.json');
  if (existsSync(hidden) && mtime(hidden) >= mtime(lockFile)) {
    writeFileSync(stamp, lockHash() + '\n');
    return true;
  }
  return false;
}

function run(args, opts = {}) {
  return spawnSync(npm, args, { cwd: root, encoding: 'utf8', ...opts });
}

function installDependencies() {
  say('installing npm dependencies (npm ci)');
  const quiet = ['--no-audit', '--no-fund', '--loglevel=error'];
  const ci = run(['ci', ...quiet], { stdio: ['ignore', 'pipe', 'pipe'] });
  if (ci.status !== 0) {
    const text = `${ci.stdout ?? ''}${ci.stderr ?? ''}`;
    if (/in sync|Missing: .* from lock file/.test(text)) {
      // Only a fallback: package-lock.json is complete, and npm ci is expected to accept it
      // (scripts/package-lock.test.ts checks every entry, scripts/npm-ci.slow.test.ts runs npm ci
      // on a clean copy). A mirror that lacks other platforms' optional packages can still make
      // npm ci refuse it; npm install then installs exactly the locked versions for this platform
      // and leaves package-lock.json untouched (--no-save), and says so.
      const first = text.split('\n').find((l) => l.includes('Missing:')) ?? '';
      say(`npm ci refused package-lock.json (${first.replace(/^npm error /, '').trim()} ...);`);
      say('installing the locked versions with `npm install --no-save` instead');
      const inst = run(['install', '--no-save', ...quiet], { stdio: 'inherit' });
      if (inst.status !== 0) fail(`npm install failed (exit ${inst.status})`);
    } else {
      process.stderr.write(text);
      fail(`npm ci failed (exit ${ci.status})`);
    }
  }
  // npm 11 does not run dependencies' install scripts unless approved; tsx needs esbuild's native
  // binary, which comes as an optional dependency package, not from a postinstall. Check it runs.
  const check = spawnSync(
    process.execPath,
    ['-e', "require('esbuild').transformSync('const a: number = 1', { loader: 'ts' })"],
    { cwd: root, encoding: 'utf8' },
  );
  if (check.status !== 0) {
    process.stderr.write(check.stderr ?? '');
    fail("esbuild (used by tsx to run the TypeScript sources) does not work after install; try 'npm rebuild esbuild'");
  }
  writeFileSync(stamp, lockHash() + '\n');
}

function fail(message, code = 3) {
  say(`error: ${message}`);
  process.exit(code);
}

if (!existsSync(lockFile)) fail('package-lock.json is missing: run setup from a complete checkout');
if (!dependenciesCurrent()) installDependencies();

if (process.env.FAULTLINE_SKIP_SYSTEM_SETUP !== '1') {
  const sys = spawnSync(process.execPath, [join(root, 'scripts', 'setup-system.mjs')], { cwd: root, stdio: 'inherit' });
  if (sys.status !== 0) process.exit(sys.status ?? 4);
}
// 3. The versioned components (CNI plugin versions, containerd versions) into the per-user cache.
if (process.env.FAULTLINE_SKIP_COMPONENTS === '1') process.exit(0);
const comp = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'scripts', 'setup-components.ts')], { cwd: root, stdio: 'inherit' });
process.exit(comp.status ?? 4);
