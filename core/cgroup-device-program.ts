// The device allow-list on cgroup v2: the program policy/ebpf/device-program.ts builds, loaded and
// attached to the container's cgroup2 directory. The attachment holds the program for as long as
// the directory exists, so removing the cgroup (at teardown, or the next run's sweep) is its cleanup.
import fs from 'node:fs';
import type { DeviceRule } from '../policy/profile/types.js';
import { deviceProgram } from '../policy/ebpf/device-program.js';
import { encode } from '../policy/ebpf/isa.js';
import { ATTACH_TYPE, attachToCgroup, loadProgram } from './native/bpf.js';
import { closeFd } from './native/process.js';

export function attachDeviceProgram(cgroupDir: string, rules: readonly DeviceRule[]): void {
  const programFd = loadProgram({
    type: 'cgroup_device', name: 'nsrig_devices', instructions: encode(deviceProgram(rules)), expectedAttachType: ATTACH_TYPE.cgroup_device,
  });
  try {
    const dirFd = fs.openSync(cgroupDir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
    try {
      attachToCgroup(programFd, dirFd, ATTACH_TYPE.cgroup_device);
    } finally {
      fs.closeSync(dirFd);
    }
  } finally {
    closeFd(programFd);
  }
}
