import fc from 'fast-check';

/** Capabilities a generated container may keep; none of them lets it reach the host. */
const POOL = ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID', 'CAP_SETUID',
  'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_NET_RAW', 'CAP_SYS_CHROOT', 'CAP_MKNOD', 'CAP_AUDIT_WRITE', 'CAP_SETFCAP'];

/**
 * The five sets, coherent as runtimes configure them: effective = permitted ⊆ bounding,
 * ambient ⊆ permitted ∩ inheritable.
 */
export const capabilitySets = fc.subarray(POOL).chain((bounding) =>
  fc.subarray(bounding).chain((permitted) =>
    fc.subarray(permitted).chain((inheritable) =>
      fc.subarray(inheritable).map((ambient) => ({ bounding, effective: permitted, permitted, inheritable, ambient })))));
