// A Kernel that makes no system call and writes each call down: the launch's order, calls and
// arguments can then be read back without root (youki's recording syscall, in TypeScript).
// Descriptors it hands out are numbered from 1000 up, filesystems (st_dev) from 1; stat answers
// from a given map of paths; clone answers childPid (default 4242).
import path from 'node:path';
import type { CallName, Kernel, KernelCalls } from './kernel.js';

export interface RecordedCall {
  call: CallName;
  args: Record<string, unknown>;
}

export interface RecordingKernelOptions {
  /** What stat reports per path; anything else is missing. */
  files?: Readonly<Record<string, 'dir' | 'non-dir'>>;
  /** What resolve_in_root answers per container path (null: some part missing); otherwise the path under root. */
  resolved?: Readonly<Record<string, string | null>>;
  /** The pid clone answers. */
  childPid?: number;
}

export interface RecordingKernel extends Kernel {
  readonly calls: RecordedCall[];
}

export function recordingKernel(options: RecordingKernelOptions = {}): RecordingKernel {
  const calls: RecordedCall[] = [];
  let nextFd = 1000;
  let nextDev = 1;
  const results: Partial<{ [K in CallName]: (args: KernelCalls[K]['args']) => KernelCalls[K]['result'] }> = {
    open_tree: () => nextFd++,
    open: () => nextFd++,
    open_pty_master: () => nextFd++,
    open_pty_peer: () => nextFd++,
    clone: () => options.childPid ?? 4242,
    stat: (a) => options.files?.[a.path] ?? 'missing',
    // Unless told otherwise, as if no component were a symlink: the path under root.
    resolve_in_root: (a) => (options.resolved && a.path in options.resolved ? options.resolved[a.path] ?? null : path.join(a.root, a.path)),
    stat_dev: () => nextDev++,
    // The container's passwd is not read here: HOME is shown as the value for a uid it does not list.
    env_with_home_from_passwd: (a) => [...a.env, 'HOME=/'],
    find_executable: (a) => (a.name.includes('/') ? a.name : `${a.pathVar.split(':')[0]}/${a.name}`),
  };
  return new Proxy({ calls } as RecordingKernel, {
    get(target, name) {
      if (name === 'calls') return target.calls;
      if (typeof name !== 'string') return undefined;
      return (args: Record<string, unknown>) => {
        calls.push({ call: name as CallName, args });
        const answer = results[name as CallName] as ((a: unknown) => unknown) | undefined;
        return answer?.(args);
      };
    },
  });
}
