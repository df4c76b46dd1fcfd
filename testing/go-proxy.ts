// A Go module proxy on disk (GOPROXY=file://...), so tests of go: sources run without the network:
// modules written here are served exactly as a proxy serves them (@v/list, .info, .mod, .zip), and
// their go.sum lines (h1: of the zip and of go.mod, golang.org/x/mod/sumdb/dirhash Hash1) are computed
// here, independently of the go command.
import { createHash } from 'node:crypto';
import { mkdir, writeFile, appendFile } from 'node:fs/promises';
import path from 'node:path';
import zlib from 'node:zlib';
import { findBinary } from '../harness/util/which.ts';

/** dirhash Hash1: base64(sha256 of "sha256hex  name\n" lines, sorted by name). */
export function h1(files: readonly (readonly [string, string | Buffer])[]): string {
  const lines = [...files]
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([name, data]) => `${createHash('sha256').update(data).digest('hex')}  ${name}\n`)
    .join('');
  return `h1:${createHash('sha256').update(lines).digest('base64')}`;
}

/** A zip archive with stored (uncompressed) entries: what a module zip needs. */
export function storedZip(entries: readonly (readonly [string, Buffer])[]): Buffer {
  const locals: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const [name, data] of entries) {
    const n = Buffer.from(name, 'utf8');
    const crc = zlib.crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4); // version needed
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt16LE(0, 8); // stored
    local.writeUInt32LE(0, 10); // time, date
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(n.length, 26);
    local.writeUInt16LE(0, 28);
    const cd = Buffer.alloc(46);
    cd.writeUInt32LE(0x02014b50, 0);
    cd.writeUInt16LE(20, 4);
    cd.writeUInt16LE(20, 6);
    cd.writeUInt16LE(0x0800, 8);
    cd.writeUInt16LE(0, 10);
    cd.writeUInt32LE(0, 12);
    cd.writeUInt32LE(crc, 16);
    cd.writeUInt32LE(data.length, 20);
    cd.writeUInt32LE(data.length, 24);
    cd.writeUInt16LE(n.length, 28);
    cd.writeUInt32LE(offset, 42);
    locals.push(local, n, data);
    central.push(cd, n);
    offset += 30 + n.length + data.length;
  }
  const cdSize = central.reduce((s, b) => s + b.length, 0);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cdSize, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, ...central, end]);
}

export interface ModuleVersion {
  path: string;
  version: string;
  /** go.sum's two lines' hashes. */
  sum: string;
  goModSum: string;
}

/** A file:// GOPROXY under `dir`. */
export class FileProxy {
  constructor(readonly dir: string) {}

  get url(): string {
    return `file://${this.dir}`;
  }

  /** Serves `module@version` with these files (relative paths; go.mod among them). */
  async add(module: string, version: string, files: Record<string, string>, info: { time?: string; commit?: string } = {}): Promise<ModuleVersion> {
    if (!files['go.mod']) throw new Error('a module needs a go.mod');
    const base = path.join(this.dir, module, '@v');
    await mkdir(base, { recursive: true });
    const prefix = `${module}@${version}/`;
    const entries = Object.entries(files).map(([name, text]) => [prefix + name, Buffer.from(text)] as const);
    await writeFile(path.join(base, `${version}.zip`), storedZip(entries));
    await writeFile(path.join(base, `${version}.mod`), files['go.mod']);
    await writeFile(path.join(base, `${version}.info`), JSON.stringify({ Version: version, Time: info.time ?? '2024-01-02T03:04:05Z', ...(info.commit ? { Origin: { VCS: 'git', Hash: info.commit } } : {}) }));
    await appendFile(path.join(base, 'list'), `${version}\n`);
    return { path: module, version, sum: h1(entries), goModSum: h1([['go.mod', files['go.mod']]]) };
  }

  /** The environment a go command needs to use only this proxy (no checksum database). */
  env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
    return { ...process.env, GOPROXY: this.url, GOSUMDB: 'off', GONOSUMDB: '', GOPRIVATE: '', GOFLAGS: '', ...extra };
  }
}

/** go.sum lines for module versions a main module requires. */
export function goSum(mods: readonly ModuleVersion[]): string {
  return mods.map((m) => `${m.path} ${m.version} ${m.sum}\n${m.path} ${m.version}/go.mod ${m.goModSum}\n`).join('');
}

/** Why Go tests cannot run here (no go command), or undefined. */
export function goMissing(): string | undefined {
  if (process.env.FAULTLINE_GO || findBinary('go', process.env, ['/usr/local/go/bin'])) return undefined;
  const reason = 'needs the go command (not on PATH nor in /usr/local/go/bin)';
  process.stderr.write(`skipping Go build tests: ${reason}\n`);
  return reason;
}
