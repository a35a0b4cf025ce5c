// What a host needs before any container can be built here, each with what to do about it.
import fs from 'node:fs';

export function hostPrerequisites(): string[] {
  const missing: string[] = [];
  if (process.platform !== 'linux') missing.push(`Linux is required (this is ${process.platform})`);
  if (process.arch !== 'x64') missing.push(`x86_64 is required by the launcher (this is ${process.arch})`);
  if (process.getuid?.() !== 0) missing.push('run as root: creating namespaces with arbitrary id maps and mounts needs it');
  const maxUserNs = readNumber('/proc/sys/user/max_user_namespaces');
  if (maxUserNs === 0) missing.push('user namespaces are disabled: sysctl user.max_user_namespaces=15000');
  if (!fs.existsSync('/proc/self/ns/time')) missing.push('the kernel lacks time namespaces (Linux 5.6+)');
  return missing;
}

function readNumber(path: string): number | undefined {
  try {
    return Number(fs.readFileSync(path, 'utf8').trim());
  } catch {
    return undefined;
  }
}
