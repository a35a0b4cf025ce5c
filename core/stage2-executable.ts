// What the engine's exec runs stage 2 from. Stage 2 is Node, exec'd after the joins, so in the
// container's user namespace and with the capabilities it has not dropped yet; a plain execve of
// the host's Node would leave it dumpable, with its mm owned by the container's user namespace, for
// the whole of Node's start-up: a process of the container with the same uid or CAP_SYS_PTRACE there
// could open /proc/PID/exe (the host's binary, CVE-2019-5736), /proc/PID/fd (the host's descriptors
// stage 2 holds) or /proc/PID/mem (CVE-2016-9962). runc and crun avoid it by being exec'd before they
// join and making themselves non-dumpable; a multithreaded Node cannot join a user namespace at all.
//
// So stage 2 runs from a copy of Node in a sealed memfd whose mode is 0111: the exec'ing process
// cannot read it, and execve(2) then makes the process non-dumpable and gives its mm the nearest
// user namespace in which the file's owner (host root) is mapped (fs/exec.c would_dump): the host's.
// proc(5)'s ptrace access checks then refuse every process of the container, whatever its
// capabilities, until stage 2 execs the program, which resets both. Its /proc/PID/exe would name the
// memfd, not a host file, and the seals refuse any write to it.
import fs from 'node:fs';
import { closeFd } from './native/process.js';
import { createExecutableMemfd, sealCompletely } from './native/system.js';

/** Execute-only for everyone: no reader, so execve marks the process non-dumpable. */
const EXECUTE_ONLY = 0o111;
const COPY_CHUNK = 1 << 20;

let sealedCopy: number | undefined;

/**
 * A close-on-exec descriptor of a sealed, execute-only memfd copy of this process's Node, made once
 * per nsrig process and kept: each exec executes it with execveat(2). The copy is checked against
 * the binary it came from, byte count and identity before and after, so a binary replaced while
 * being copied is refused rather than half-copied.
 */
export function sealedNodeCopy(): number {
  if (sealedCopy !== undefined) return sealedCopy;
  const source = process.execPath;
  const memfd = createExecutableMemfd('nsrig-stage2-node');
  try {
    const input = fs.openSync(source, 'r');
    try {
      const before = fs.fstatSync(input);
      const buffer = Buffer.allocUnsafe(COPY_CHUNK);
      let copied = 0;
      for (let n = fs.readSync(input, buffer, 0, COPY_CHUNK, copied); n > 0; n = fs.readSync(input, buffer, 0, COPY_CHUNK, copied)) {
        for (let written = 0; written < n;) written += fs.writeSync(memfd, buffer, written, n - written);
        copied += n;
      }
      const after = fs.statSync(source);
      if (copied !== before.size || after.ino !== before.ino || after.size !== before.size || after.mtimeMs !== before.mtimeMs) {
        throw new Error(`${source} changed while it was copied for the engine's exec (${copied} of ${before.size} bytes)`);
      }
    } finally {
      fs.closeSync(input);
    }
    fs.fchmodSync(memfd, EXECUTE_ONLY);
    sealCompletely(memfd);
  } catch (e) {
    closeFd(memfd);
    throw e;
  }
  sealedCopy = memfd;
  return memfd;
}
