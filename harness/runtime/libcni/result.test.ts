import { describe, expect, it } from 'vitest';
import { convertResult } from './result.ts';

const v1 = {
  cniVersion: '1.0.0',
  interfaces: [{ name: 'eth0', mac: '02:00:00:00:00:01', sandbox: '/run/netns/p' }],
  ips: [
    { address: '10.52.1.2/24', gateway: '10.52.1.1', interface: 0 },
    { address: 'fd00::2/64', interface: 0 },
  ],
  dns: {},
};

describe('result conversion', () => {
  it('adds the ip version field for 0.3.x/0.4.0 and drops it for 1.x', () => {
    const old = convertResult(v1, '0.4.0');
    expect(old.cniVersion).toBe('0.4.0');
    expect(old.ips).toEqual([
      { version: '4', address: '10.52.1.2/24', gateway: '10.52.1.1', interface: 0 },
      { version: '6', address: 'fd00::2/64', interface: 0 },
    ]);
    const back = convertResult(old, '1.1.0');
    expect(back.cniVersion).toBe('1.1.0');
    expect(back.ips).toEqual(v1.ips);
    expect(back.interfaces).toEqual(v1.interfaces);
  });

  it('converts a 0.2.0 result upwards and refuses to go down to it', () => {
    const legacy = { cniVersion: '0.2.0', ip4: { ip: '10.1.2.3/24', gateway: '10.1.2.1', routes: [{ dst: '0.0.0.0/0' }] } };
    expect(convertResult(legacy, '0.3.1')).toEqual({ cniVersion: '0.3.1', ips: [{ version: '4', address: '10.1.2.3/24', gateway: '10.1.2.1' }], routes: [{ dst: '0.0.0.0/0' }] });
    expect(() => convertResult(v1, '0.2.0')).toThrow(/cannot convert version "1.0.0" to 0.2.0/);
  });

  it('does not modify its input', () => {
    const copy = structuredClone(v1);
    convertResult(v1, '0.3.1');
    expect(v1).toEqual(copy);
  });
});
