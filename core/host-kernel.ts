// The kernel calls the harness, its probes and the host checks make, as core exports them: nothing
// outside core/ imports core/native/. Each is a typed wrapper that throws SyscallError or, for a
// probe, returns the errno as data.
export { interfaceFlags } from './native/system.js';
export { sysvGet, sysvRemove, mqueueOpen, mqueueRemove, type SysvKind } from './native/ipc.js';
export { rawSyscall, seccompActionAvailable, type RawSyscallResult } from './native/seccomp.js';
export { PTRACE } from './native/ptrace.js';
export {
  addPossessorOnlyKey, describeKeyErrno, invalidateKey, joinNewSessionKeyring, searchSessionKeyringErrno, sessionKeyringSerial,
} from './native/keyring.js';
export { mount, setPropagation, unmountDetached } from './native/mount.js';
export { assertCloneExecSupported, cloneExec, closeFd, waitForExit } from './native/process.js';
export * as bpf from './native/bpf.js';
