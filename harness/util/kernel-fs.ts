// Filesystems the kernel makes up (procfs, sysfs, cgroupfs...): nothing there is a plain file a
// report, a plugin directory or a fault could use, and some reads there never end.

/** statfs f_type magic numbers (linux/magic.h) of the filesystems the kernel makes up. */
const KERNEL_FILESYSTEMS = new Map<number, string>([
  [0x9fa0, 'proc'],
  [0x62656572, 'sysfs'],
  [0x27e0eb, 'cgroup'],
  [0x63677270, 'cgroup2'],
  [0x64626720, 'debugfs'],
  [0x74726163, 'tracefs'],
  [0x73636673, 'securityfs'],
  [0x6165676c, 'pstore'],
  [0xcafe4a11, 'bpf'],
  [0x62656570, 'configfs'],
  [0xde5e81e4, 'efivarfs'],
  [0x65735543, 'fusectl'],
  [0x42494e4d, 'binfmt_misc'],
  [0x1cd1, 'devpts'],
  [0x19800202, 'mqueue'],
  [0x6e736673, 'nsfs'],
  [0xf97cff8c, 'selinuxfs'],
]);

/** The name of the kernel-made filesystem with this statfs type, or undefined for a real one. */
export function kernelFilesystem(type: number): string | undefined {
  return KERNEL_FILESYSTEMS.get(type);
}

/** Where the kernel's filesystems are mounted on every Linux host (known without looking). */
export const KERNEL_MOUNTS = ['/proc', '/sys'] as const;

/** The kernel mount a path is at or below, if any ('/proc/1' -> '/proc'). */
export function underKernelMount(p: string): string | undefined {
  const norm = `/${p.split('/').filter((s) => s && s !== '.').join('/')}`;
  return KERNEL_MOUNTS.find((m) => norm === m || norm.startsWith(`${m}/`));
}
