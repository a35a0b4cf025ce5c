// The file a broken double of the engine runs an exec's stage 2 from: a copy of Node in a host
// temporary directory that any uid may write, executed as it is. Its joining process is dumpable
// (the file is readable) with its mm owned by the container's user namespace, and its
// /proc/PID/exe names a host file nothing keeps busy once stage 2 has exec'd the program: the
// CVE-2019-5736 and CVE-2016-9962 windows both open. One copy per nsrig process, removed at exit.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

let copy: { path: string; fd: number } | undefined;

export function writableNodeCopy(): { path: string; fd: number } {
  if (copy) return copy;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsrig-double-node-'));
  process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'node');
  fs.copyFileSync(process.execPath, file);
  fs.chmodSync(dir, 0o755);
  fs.chmodSync(file, 0o777);
  copy = { path: file, fd: fs.openSync(file, 'r') };
  return copy;
}
