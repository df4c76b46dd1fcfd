// Adapts a node to the runtime's needs: plugins execute inside the node's namespaces, the result
// cache lives on the node's own disk.
import type { Node } from '../../backends/types.ts';
import type { CacheFs, Invoker } from './types.ts';
import type { NetworkConfigList } from '../../model/cni.ts';
import { parseNetworkConfigFile } from './cni-runtime.ts';

export function nodeRuntimeIo(node: Node): { invoker: Invoker; cacheFs: CacheFs } {
  const invoker: Invoker = async (req) => {
    const r = await node.exec([req.pluginPath], { env: req.env, stdin: req.stdin });
    return { exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr, durationMs: r.durationMs };
  };
  const cacheFs: CacheFs = {
    readFile: (p) => node.readFile(p),
    writeFile: (p, d, mode) => node.writeFile(p, d, mode),
    removeFile: (p) => node.removeFile(p),
    list: (d) => node.list(d),
    mkdir: (p, mode) => node.mkdir(p, mode),
  };
  return { invoker, cacheFs };
}

/** A network config file of the node (/etc/cni/net.d/...), loaded as libcni loads it. */
export async function readNetworkConfig(node: Node, file: string): Promise<NetworkConfigList> {
  return parseNetworkConfigFile((await node.readFile(file)).toString('utf8'), file);
}
