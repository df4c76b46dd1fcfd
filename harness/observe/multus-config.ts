// Multus's generated config, /etc/cni/net.d/00-multus.conf (00-multus.conflist when the master config's
// cniVersion is 1.0.0), as found on a node: how many levels of
// `type: multus` it nests, what its innermost delegate is, and which file Multus should have taken as
// its master (the first config file in sorted order that is not 00-multus*). A thin plugin of v4.0.x
// took the first file of the sorted directory, which after a restart was its own 00-multus.conf, and
// so delegated to itself (multus-cni#1130, #1162; fixed by PR #1142 in v4.1.0).
import type { Node } from '../backends/types.ts';
import type { MultusConfigObservation } from '../model/snapshot.ts';

export const NET_D = '/etc/cni/net.d';
export const MULTUS_CONF = '00-multus.conf';
const MULTUS_FILES = [MULTUS_CONF, '00-multus.conflist'];
const CONFIG_FILE = /\.(conf|conflist|json)$/;
/** How much of the file an observation keeps as evidence. */
const TEXT_LIMIT = 16 * 1024;

/** Reads the node's net.d and judges its 00-multus.conf or .conflist (absent: present false). */
export async function observeMultusConfig(node: Node, dir = NET_D): Promise<MultusConfigObservation> {
  const files = (await node.list(dir)).filter((f) => CONFIG_FILE.test(f)).sort(byteOrder);
  const name = files.find((f) => MULTUS_FILES.includes(f));
  if (!name) return { file: `${dir}/${MULTUS_CONF}`, files, present: false };
  const read = async (n: string) => (await node.readFile(`${dir}/${n}`)).toString('utf8');
  return analyseMultusConfig(`${dir}/${name}`, files, read);
}

/** The analysis on file contents (`read` gets a file name of `files`). */
export async function analyseMultusConfig(file: string, files: readonly string[], read: (name: string) => Promise<string>): Promise<MultusConfigObservation> {
  const out: MultusConfigObservation = { file, files: [...files], present: true };
  const master = files.find((f) => !f.startsWith('00-multus'));
  if (master) {
    out.expectedMaster = { file: master };
    try {
      const name = (JSON.parse(await read(master)) as { name?: unknown }).name;
      if (typeof name === 'string') out.expectedMaster.name = name;
    } catch {
      // an unreadable master is reported by the assertion as a missing name
    }
  }
  let doc: unknown;
  try {
    const text = await read(file.split('/').pop()!);
    out.text = text.length > TEXT_LIMIT ? `${text.slice(0, TEXT_LIMIT)}\n... (${text.length} bytes in all)` : text;
    if (!text.trim()) throw new Error('the file is empty');
    doc = JSON.parse(text);
  } catch (e) {
    out.error = `cannot parse ${file}: ${(e as Error).message}`;
    return out;
  }
  // Walk down the first delegate while it is multus again (in a .conflist, its first plugin).
  let depth = 0;
  let cur: unknown = multusLevel(doc);
  while (isMultus(cur)) {
    depth++;
    const delegates = (cur as { delegates?: unknown }).delegates;
    cur = multusLevel(Array.isArray(delegates) ? delegates[0] : undefined);
    if (depth > 64) break;
  }
  out.multusDepth = depth;
  if (cur && typeof cur === 'object') {
    const d = cur as { name?: unknown; type?: unknown; plugins?: unknown };
    const types = Array.isArray(d.plugins) ? d.plugins.map((p) => (p as { type?: unknown })?.type).filter((t): t is string => typeof t === 'string') : typeof d.type === 'string' ? [d.type] : [];
    out.delegate = { ...(typeof d.name === 'string' ? { name: d.name } : {}), types };
  }
  return out;
}

/** A conflist whose first plugin is multus stands for that plugin; anything else for itself. */
function multusLevel(v: unknown): unknown {
  const plugins = (v as { plugins?: unknown } | undefined)?.plugins;
  return Array.isArray(plugins) && isMultus(plugins[0]) ? plugins[0] : v;
}

function isMultus(v: unknown): boolean {
  return !!v && typeof v === 'object' && (v as { type?: unknown }).type === 'multus';
}

/** Go's sort.Strings order (bytes), which is what CNI's config loading uses. */
function byteOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
