// A container's device allow-list on cgroup v2: the program policy/ebpf/device-cgroup.ts builds,
// attached to the container's cgroup directory. The cgroup keeps the program once attached, so no
// fd stays open here, and removing the cgroup frees it: nothing to undo by hand.
import fs from 'node:fs';
import { ATTACH_TYPE, attachToCgroup, closeFd, loadProgram } from './native/bpf.js';
import { encode } from '../policy/ebpf/isa.js';
import { deviceProgram, type DeviceRule } from '../policy/ebpf/device-cgroup.js';

/**
 * Attaches the filter for `rules` to the cgroup v2 directory `cgroupDir`. Throws
 * ProgramRefusedError or SyscallError (bpf(BPF_PROG_ATTACH), e.g. EEXIST-like refusals when
 * another exclusive program is attached) and leaves nothing attached then.
 */
export function attachDeviceFilter(cgroupDir: string, rules: readonly DeviceRule[]): void {
  const instructions = encode(deviceProgram(rules));
  const program = loadProgram({ type: 'cgroup_device', name: 'nsrig_devices', instructions, expectedAttachType: ATTACH_TYPE.cgroup_device });
  try {
    const cgroup = fs.openSync(cgroupDir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
    try {
      attachToCgroup(program, cgroup, ATTACH_TYPE.cgroup_device);
    } finally {
      fs.closeSync(cgroup);
    }
  } finally {
    closeFd(program);
  }
}
