import fc from 'fast-check';

/**
 * Kernel parameters a container may set in namespaces of its own, with the values generated for
 * each: net.* in its network namespace, kernel.msg* and kernel.shm* in its IPC namespace. None
 * weakens the container's own view of the host; the host's copies are compared before and after.
 */
export const GENERATED_SYSCTLS: Readonly<Record<string, fc.Arbitrary<string>>> = {
  'net.ipv4.ip_forward': fc.constantFrom('0', '1'),
  'net.ipv4.tcp_keepalive_time': fc.integer({ min: 60, max: 7200 }).map(String),
  'kernel.msgmax': fc.integer({ min: 1024, max: 65536 }).map(String),
  'kernel.shmmni': fc.integer({ min: 256, max: 4096 }).map(String),
};

function someOf(names: string[]): fc.Arbitrary<Record<string, string>> {
  return fc.subarray(names, { minLength: 1 })
    .chain((keys) => fc.tuple(...keys.map((k) => GENERATED_SYSCTLS[k]!.map((v) => [k, v] as const))))
    .map((pairs) => Object.fromEntries(pairs));
}

/** One to four of them, each with a value. */
export const sysctl: fc.Arbitrary<Record<string, string>> = someOf(Object.keys(GENERATED_SYSCTLS));

/**
 * The ones a broken target could write into the host's namespaces without opening the host up
 * (a keepalive interval, IPC sizes): not net.ipv4.ip_forward, which would make the host a router.
 * For invariants that hand a target a kernel parameter of a namespace it shares with the host.
 */
export const HOST_HARMLESS_SYSCTLS: readonly string[] = Object.keys(GENERATED_SYSCTLS).filter((k) => k !== 'net.ipv4.ip_forward');

export const hostHarmlessSysctl: fc.Arbitrary<Record<string, string>> = someOf([...HOST_HARMLESS_SYSCTLS]);
