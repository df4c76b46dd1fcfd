// A step's error names its step at file:line:col, and what the machine did never becomes "internal".
import { describe, expect, it } from 'vitest';
import { FaultlineError } from '../errors.ts';
import { parseScenario } from '../scenario/load.ts';
import { errorCode, errorSource, locatedError } from './cell.ts';
import { CniPluginError, CniRuntimeError } from '../runtime/libcni/errors.ts';
import { StackIncompatibleError } from '../runtime/types.ts';

const scenario = parseScenario(
  ['name: demo', 'description: d', 'cluster: {stack: {profile: lab/bridge-portmap}}', 'steps:', '  - wait: { ms: 1 }', '  - truncate-file: { node: node-1, path: /var/lib/cni/x }', ''].join('\n'),
  '/virtual/demo.yaml',
);
const at = ['steps', 1, 'truncate-file'];
const errno = (code: string) => Object.assign(new Error(`${code}: something, open '/var/lib/cni/x'`), { code, syscall: 'open' });

describe('locatedError', () => {
  it('keeps a FaultlineError code, drops the fault name the key path repeats, and locates the step', () => {
    const e = locatedError(new FaultlineError('invalid-input', 'truncate-file: /var/lib/cni/x does not exist on node-1'), scenario, at);
    expect(e.code).toBe('invalid-input');
    expect(e.location).toEqual({ file: '/virtual/demo.yaml', line: 6, column: 5 });
    expect(e.message).toBe('steps.1.truncate-file: /var/lib/cni/x does not exist on node-1');
  });

  it.each([
    ['ENOSPC', 'environment'],
    ['EROFS', 'environment'],
    ['EACCES', 'environment'],
    ['ENOENT', 'invalid-input'],
    ['EISDIR', 'invalid-input'],
  ])('an errno %s is %s, not internal', (code, want) => {
    expect(locatedError(errno(code), scenario, at).code).toBe(want);
  });

  it('anything else stays internal (a bug), still located', () => {
    const e = locatedError(new TypeError("Cannot read properties of undefined (reading 'x')"), scenario, at);
    expect(e.code).toBe('internal');
    expect(e.location?.line).toBe(6);
  });
});

describe('errorCode', () => {
  it('is a FaultlineError\'s own code', () => {
    expect(errorCode(new FaultlineError('prerequisite', 'x'))).toBe('prerequisite');
  });

  it('is environment for what the machine or the stack did', () => {
    expect(errorCode(errno('ENOSPC'))).toBe('environment');
    const plugin = new CniPluginError({ plugin: 'bridge', pluginPath: '/opt/cni/bin/bridge', command: 'ADD', code: 1, msg: 'incompatible CNI versions', stdout: '', stderr: '', exitCode: 1 });
    expect(errorCode(plugin)).toBe('environment');
    expect(errorCode(new Error('wrapped', { cause: new StackIncompatibleError('x', { cause: plugin }) }))).toBe('environment');
  });

  it('is internal only for the rest (a bug)', () => {
    expect(errorCode(new TypeError('x is undefined'))).toBe('internal');
  });
});

describe('errorSource', () => {
  const plugin = new CniPluginError({ plugin: 'bridge', pluginPath: '/opt/cni/bin/bridge', command: 'ADD', code: 1, msg: 'incompatible CNI versions', stdout: '', stderr: '', exitCode: 1 });

  it('is plugin for a CNI plugin\'s own error, also wrapped (an incompatible stack, then the agent\'s error)', () => {
    expect(errorSource(plugin)).toBe('plugin');
    expect(errorSource(new FaultlineError('environment', 'node-1: pod web-n1-0: ...', { cause: new StackIncompatibleError(plugin.message, { cause: plugin }) }))).toBe('plugin');
  });

  it('is runtime for the runtime\'s own error', () => {
    expect(errorSource(new CniRuntimeError('failed to get network "n" cached result', { kind: 'cache' }))).toBe('runtime');
  });

  it('is harness for anything else: faultline, the machine, the input', () => {
    expect(errorSource(new FaultlineError('invalid-input', 'glob matched no file'))).toBe('harness');
    expect(errorSource(errno('ENOSPC'))).toBe('harness');
    expect(errorSource(new TypeError('x'))).toBe('harness');
  });
});
