// Debian's containernetworking-plugins packages, fetched through a private apt configuration that
// never touches the system's apt setup: its own sources list, lists, cache and (empty) dpkg status
// under the faultline cache, with the system's update hooks switched off. `apt-get download` checks
// the package against the suite's signed index; `dpkg-deb -x` unpacks it; usr/lib/cni/* are the plugins.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FaultlineError } from '../errors.ts';
import { throwIfAborted, withLock } from './cache.ts';
import { runTool } from './run.ts';

export const DEBIAN_PACKAGE = 'containernetworking-plugins';
export const DEBIAN_KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';
export const DEFAULT_MIRROR = 'http://deb.debian.org/debian';

/** Plugin versions with a fixed home in a Debian release. */
export const DEBIAN_RELEASES: Readonly<Record<string, { suite: string; note: string }>> = {
  '0.9.0': { suite: 'bullseye', note: 'Debian 11 (0.9.0-1+b*)' },
  '1.1.1': { suite: 'bookworm', note: 'Debian 12, the default install' },
};

/** Names that mean "whatever Debian unstable carries now", resolved to an exact version at install. */
export const MOVING_NAMES: Readonly<Record<string, string>> = { sid: 'sid', latest: 'sid' };

const DEBIAN_SUITES = /^(oldoldstable|oldstable|stable|testing|unstable|sid|buster|bullseye|bookworm|trixie|forky|duke)(-updates|-backports)?$/;

export interface AptProgress {
  signal?: AbortSignal | undefined;
  onProgress?: ((message: string) => void) | undefined;
}

/** "1:1.9.1+ds1-1" -> "1.9.1"; "0.9.0-1+b6" -> "0.9.0". */
export function upstreamVersion(debVersion: string): string {
  const noEpoch = debVersion.replace(/^\d+:/, '');
  const noRevision = noEpoch.includes('-') ? noEpoch.slice(0, noEpoch.lastIndexOf('-')) : noEpoch;
  return noRevision.replace(/[+~](ds|dfsg)\d*.*$/, '').replace(/~/g, '-');
}

/**
 * The Debian mirror the system already uses (first non-security Debian suite in
 * /etc/apt/sources.list and sources.list.d, one-line or deb822 format); $FAULTLINE_DEBIAN_MIRROR wins.
 */
export function debianMirror(env: NodeJS.ProcessEnv = process.env, etc = '/etc/apt'): string {
  if (env.FAULTLINE_DEBIAN_MIRROR) return env.FAULTLINE_DEBIAN_MIRROR.replace(/\/+$/, '');
  const files: string[] = [];
  if (existsSync(join(etc, 'sources.list'))) files.push(join(etc, 'sources.list'));
  try {
    for (const f of readdirSync(join(etc, 'sources.list.d')).sort()) {
      if (f.endsWith('.list') || f.endsWith('.sources')) files.push(join(etc, 'sources.list.d', f));
    }
  } catch {
    /* no sources.list.d */
  }
  for (const f of files) {
    let text: string;
    try {
      text = readFileSync(f, 'utf8');
    } catch {
      continue;
    }
    const found = f.endsWith('.sources') ? fromDeb822(text) : fromOneLine(text);
    if (found) return found.replace(/\/+$/, '');
  }
  return DEFAULT_MIRROR;
}

function usable(uri: string, suites: string[]): boolean {
  return /^https?:\/\//.test(uri) && !/security/.test(uri) && suites.some((s) => DEBIAN_SUITES.test(s));
}

function fromOneLine(text: string): string | undefined {
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*$/, '').trim();
    const m = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)/.exec(line);
    if (m && usable(m[1]!, [m[2]!])) return m[1]!;
  }
  return undefined;
}

function fromDeb822(text: string): string | undefined {
  for (const stanza of text.split(/\n\s*\n/)) {
    const fields: Record<string, string> = {};
    for (const raw of stanza.split('\n')) {
      const line = raw.replace(/^#.*$/, '');
      const m = /^([A-Za-z-]+):\s*(.*)$/.exec(line);
      if (m) fields[m[1]!.toLowerCase()] = m[2]!.trim();
    }
    if (fields.enabled === 'no' || !(fields.types ?? '').split(/\s+/).includes('deb')) continue;
    const suites = (fields.suites ?? '').split(/\s+/);
    for (const uri of (fields.uris ?? '').split(/\s+/)) if (usable(uri, suites)) return uri;
  }
  return undefined;
}

/** The private apt state for one suite: <cache>/.apt/<suite>/. */
export class PrivateApt {
  readonly root: string;
  constructor(
    readonly cache: string,
    readonly suite: string,
    readonly mirror: string = debianMirror(),
  ) {
    if (!/^[a-z][a-z0-9-]*$/.test(suite)) throw new FaultlineError('internal', `bad suite name ${suite}`);
    this.root = join(cache, '.apt', suite);
  }

  /** apt options that confine it to this state (-o for the directories, -c for the rest). */
  options(): string[] {
    const o: Record<string, string> = {
      'Dir::Etc::SourceList': join(this.root, 'sources.list'),
      'Dir::Etc::SourceParts': '/dev/null',
      'Dir::Etc::Preferences': '/dev/null',
      'Dir::Etc::PreferencesParts': '/dev/null',
      'Dir::State::Lists': join(this.root, 'lists'),
      'Dir::State::Status': join(this.root, 'status'),
      'Dir::State::extended_states': join(this.root, 'extended_states'),
      'Dir::Cache': join(this.root, 'cache'),
    };
    const args = ['-c', join(this.root, 'apt.conf')];
    for (const [k, v] of Object.entries(o)) args.push('-o', `${k}=${v}`);
    if (process.getuid?.() === 0) args.push('-o', 'APT::Sandbox::User=root'); // _apt cannot enter ~/.cache
    return args;
  }

  async prepare(): Promise<void> {
    if (!existsSync(DEBIAN_KEYRING)) {
      throw new FaultlineError('prerequisite', `${DEBIAN_KEYRING} is missing: cannot verify Debian's package indexes`, {
        hint: 'apt-get install debian-archive-keyring (or use --source tarball)',
      });
    }
    for (const d of ['lists/partial', 'cache/archives/partial']) await mkdir(join(this.root, d), { recursive: true });
    if (!existsSync(join(this.root, 'status'))) await writeFile(join(this.root, 'status'), '');
    const sources = `deb [signed-by=${DEBIAN_KEYRING}] ${this.mirror} ${this.suite} main\n`;
    const current = await readFile(join(this.root, 'sources.list'), 'utf8').catch(() => '');
    if (current !== sources) {
      await writeFile(join(this.root, 'sources.list'), sources);
      await rm(join(this.root, 'updated'), { force: true }); // another mirror: lists must be refetched
    }
    // Config read after the system's: drop its update hooks and the index targets we do not use.
    await writeFile(
      join(this.root, 'apt.conf'),
      [
        '#clear APT::Update::Pre-Invoke;',
        '#clear APT::Update::Post-Invoke;',
        '#clear APT::Update::Post-Invoke-Success;',
        'Acquire::Languages "none";',
        'Acquire::Retries "1";',
        'Acquire::IndexTargets::deb::Contents-deb::DefaultEnabled "false";',
        'Acquire::IndexTargets::deb::DEP-11::DefaultEnabled "false";',
        'Acquire::IndexTargets::deb::DEP-11-icons::DefaultEnabled "false";',
        'Acquire::IndexTargets::deb::DEP-11-icons-small::DefaultEnabled "false";',
        'APT::Get::List-Cleanup "true";',
        '',
      ].join('\n'),
    );
  }

  /** Age of the lists in ms (Infinity when never fetched). */
  async listsAge(): Promise<number> {
    try {
      return Date.now() - (await stat(join(this.root, 'updated'))).mtimeMs;
    } catch {
      return Infinity;
    }
  }

  async update(p: AptProgress): Promise<void> {
    p.onProgress?.(`fetching the Debian ${this.suite} package index from ${this.mirror}`);
    const r = await runTool('apt-get', [...this.options(), '-q', '--error-on=any', 'update'], {
      signal: p.signal,
      providedBy: 'apt',
    });
    if (r.code !== 0) throw this.networkError(`${this.mirror}/dists/${this.suite}/InRelease`, r.stdout + r.stderr);
    await writeFile(join(this.root, 'updated'), new Date().toISOString() + '\n');
  }

  /** Package versions the suite offers, best first. */
  async versions(p: AptProgress): Promise<string[]> {
    const r = await runTool('apt-cache', [...this.options(), 'madison', DEBIAN_PACKAGE], { signal: p.signal, providedBy: 'apt' });
    if (r.code !== 0) return [];
    return r.stdout
      .split('\n')
      .map((l) => l.split('|').map((s) => s.trim()))
      .filter((f) => f[0] === DEBIAN_PACKAGE && f[1])
      .map((f) => f[1]!);
  }

  /**
   * Package versions, fetching the index first when it is older than maxAgeMs (or missing).
   * Serialised with other processes using the same suite state.
   */
  async lookup(maxAgeMs: number, p: AptProgress): Promise<string[]> {
    return withLock(this.cache, `apt-${this.suite}`, p.signal, async () => {
      await this.prepare();
      if ((await this.listsAge()) > maxAgeMs) await this.update(p);
      let v = await this.versions(p);
      if (v.length === 0 && (await this.listsAge()) > 0) {
        await this.update(p);
        v = await this.versions(p);
      }
      return v;
    });
  }

  /**
   * Downloads DEBIAN_PACKAGE=<pkgVersion> and unpacks its plugins (usr/lib/cni/*) into `dest`.
   * Returns the package's URL, size and sha256 from the signed index.
   */
  async fetchPlugins(pkgVersion: string, dest: string, p: AptProgress): Promise<{ url: string; size: number; debSha256: string }> {
    return withLock(this.cache, `apt-${this.suite}`, p.signal, async () => {
      await this.prepare();
      const want = `${DEBIAN_PACKAGE}=${pkgVersion}`;
      let uri = await this.printUri(want, p);
      if (!uri) {
        await this.update(p);
        uri = await this.printUri(want, p);
      }
      if (!uri) throw new FaultlineError('environment', `Debian ${this.suite} no longer offers ${want}`);
      const work = join(dest, '.deb');
      await mkdir(work, { recursive: true });
      p.onProgress?.(`downloading ${uri.url} (${(uri.size / 1e6).toFixed(1)} MB)`);
      let r = await runTool('apt-get', [...this.options(), '-q', 'download', want], { cwd: work, signal: p.signal });
      if (r.code !== 0 && /404|Hash Sum mismatch|File has unexpected size/.test(r.stdout + r.stderr)) {
        // The index moved on (a rebuild replaced the file): refresh once and retry.
        await this.update(p);
        r = await runTool('apt-get', [...this.options(), '-q', 'download', want], { cwd: work, signal: p.signal });
      }
      if (r.code !== 0) throw this.networkError(uri.url, r.stdout + r.stderr);
      const deb = (await readdir(work)).find((f) => f.endsWith('.deb'));
      if (!deb) throw new FaultlineError('environment', `apt-get download ${want} produced no .deb`);
      throwIfAborted(p.signal);
      p.onProgress?.(`unpacking ${deb}`);
      const root = join(work, 'root');
      const x = await runTool('dpkg-deb', ['-x', join(work, deb), root], { signal: p.signal, providedBy: 'dpkg' });
      if (x.code !== 0) throw new FaultlineError('environment', `dpkg-deb -x ${deb} failed: ${x.stderr.trim()}`);
      const libdir = join(root, 'usr', 'lib', 'cni');
      const names = await readdir(libdir).catch(() => [] as string[]);
      if (names.length === 0) throw new FaultlineError('environment', `${deb} has no usr/lib/cni plugins`);
      for (const n of names) {
        const st = await stat(join(libdir, n));
        if (st.isFile()) await rename(join(libdir, n), join(dest, n));
      }
      await rm(work, { recursive: true, force: true });
      return uri;
    });
  }

  /**
   * Downloads any package of the suite at a version (the newest when undefined) and unpacks it into
   * `dest` (the package's file tree), with its control fields from the signed index (Version,
   * Built-Using, Static-Built-Using...). For components other than the CNI plugins.
   */
  async fetchPackage(pkg: string, pkgVersion: string | undefined, dest: string, p: AptProgress): Promise<{ url: string; size: number; debSha256: string; fields: Record<string, string> }> {
    if (!/^[a-z0-9][a-z0-9+.-]*$/.test(pkg)) throw new FaultlineError('internal', `bad package name ${pkg}`);
    return withLock(this.cache, `apt-${this.suite}`, p.signal, async () => {
      await this.prepare();
      if ((await this.listsAge()) === Infinity) await this.update(p);
      const want = pkgVersion ? `${pkg}=${pkgVersion}` : pkg;
      let uri = await this.printUri(want, p);
      if (!uri) {
        await this.update(p);
        uri = await this.printUri(want, p);
      }
      if (!uri) throw new FaultlineError('environment', `Debian ${this.suite} does not offer ${want}`);
      const work = join(dest, '.deb');
      await mkdir(work, { recursive: true });
      p.onProgress?.(`downloading ${uri.url} (${(uri.size / 1e6).toFixed(1)} MB)`);
      const r = await runTool('apt-get', [...this.options(), '-q', 'download', want], { cwd: work, signal: p.signal });
      if (r.code !== 0) throw this.networkError(uri.url, r.stdout + r.stderr);
      const deb = (await readdir(work)).find((f) => f.endsWith('.deb'));
      if (!deb) throw new FaultlineError('environment', `apt-get download ${want} produced no .deb`);
      throwIfAborted(p.signal);
      p.onProgress?.(`unpacking ${deb}`);
      const x = await runTool('dpkg-deb', ['-x', join(work, deb), dest], { signal: p.signal, providedBy: 'dpkg' });
      if (x.code !== 0) throw new FaultlineError('environment', `dpkg-deb -x ${deb} failed: ${x.stderr.trim()}`);
      const info = await runTool('dpkg-deb', ['-f', join(work, deb)], { signal: p.signal, providedBy: 'dpkg' });
      await rm(work, { recursive: true, force: true });
      return { ...uri, fields: parseControlFields(info.stdout) };
    });
  }

  private async printUri(want: string, p: AptProgress): Promise<{ url: string; size: number; debSha256: string } | undefined> {
    const r = await runTool('apt-get', [...this.options(), '-q', '--print-uris', 'download', want], { signal: p.signal });
    const m = /^'([^']+)'\s+\S+\s+(\d+)\s+SHA256:([0-9a-f]{64})/m.exec(r.stdout);
    if (r.code !== 0 || !m) return undefined;
    return { url: m[1]!, size: Number(m[2]), debSha256: m[3]! };
  }

  private networkError(url: string, output: string): FaultlineError {
    const detail =
      output
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => /^(E:|Err:|W:)/.test(l) || /Could not|Failed|refused|resolve|timed out|404/.test(l))
        .slice(0, 3)
        .join('; ') || output.trim().split('\n').slice(-2).join('; ');
    return new FaultlineError('environment', `could not fetch ${url}: ${detail}`, {
      hint: 'check the network and the Debian mirror (set $FAULTLINE_DEBIAN_MIRROR to use another), or use --source tarball',
    });
  }
}

/** Fields of a Debian control stanza (continuation lines joined with a space). */
export function parseControlFields(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  let key: string | undefined;
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z][A-Za-z0-9-]*):\s*(.*)$/.exec(line);
    if (m) {
      key = m[1]!;
      out[key] = m[2]!.trim();
    } else if (key && /^\s+\S/.test(line)) out[key] = `${out[key]} ${line.trim()}`.trim();
  }
  return out;
}
