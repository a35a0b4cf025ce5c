// The invariant catalogue. Adding one: a file in its area's folder and one line here.
import type { Invariant } from '../invariant.js';
import { initIsPid1 } from './pid/init-is-pid1.js';
import { hostProcessesInvisible } from './pid/host-processes-invisible.js';
import { hostSignalRefused } from './pid/host-signal-refused.js';
import { killInitEndsContainer } from './pid/kill-init-ends-container.js';
import { hostnameIsolated } from './uts/hostname-isolated.js';
import { pairHostnamesSeparate } from './uts/pair-hostnames-separate.js';
import { onlyLoopback } from './net/only-loopback.js';
import { pairSamePort } from './net/pair-same-port.js';
import { hostListenerUnreachable } from './net/host-listener-unreachable.js';
import { hostBindingsUnaffected } from './net/host-bindings-unaffected.js';
import { mapsEqualProfile } from './user/maps-equal-profile.js';
import { idsEqualProfile } from './user/ids-equal-profile.js';
import { bindFileOwnerMapped } from './user/bind-file-owner-mapped.js';
import { unmappedShowsOverflow } from './user/unmapped-shows-overflow.js';
import { setgroupsAsDeclared } from './user/setgroups-as-declared.js';
import { noMountLeak } from './mnt/no-mount-leak.js';
import { readonlyRefusesWrites } from './mnt/readonly-refuses-writes.js';
import { tmpfsModeApplied } from './mnt/tmpfs-mode-applied.js';
import { noHostMountAfterStart } from './mnt/no-host-mount-after-start.js';
import { noWritableHostFs } from './mnt/no-writable-host-fs.js';
import { rootNotShared } from './mnt/root-not-shared.js';
import { hostObjectsInvisible } from './ipc/host-objects-invisible.js';
import { pairObjectsSeparate } from './ipc/pair-objects-separate.js';
import { unsharedTypesDiffer } from './ns/unshared-types-differ.js';
import { joinedAsDeclared } from './ns/joined-as-declared.js';
import { childrenShareNamespaces } from './ns/children-share-namespaces.js';
import { onlyStdioInherited } from './fd/only-stdio-inherited.js';
import { noHostDirectory } from './fd/no-host-directory.js';
import { maskedUnreadable } from './proc/masked-unreadable.js';
import { readonlyPathsUnwritable } from './proc/readonly-paths-unwritable.js';
import { setsAsDeclared } from './caps/sets-as-declared.js';
import { nnpAsDeclared } from './nnp/as-declared.js';
import { modeFilterWhenDeclared } from './seccomp/mode-filter-when-declared.js';
import { deniedReturnsErrno } from './seccomp/denied-returns-errno.js';
import { envExact } from './env/exact.js';
import { devOnlyDeclared } from './dev/only-declared.js';
import { devNoBlockDevice } from './dev/no-block-device.js';
import { cgroupNamespaceRoot } from './cgroup/namespace-root.js';
import { offsetsApplied } from './time/offsets-applied.js';
import { hostKeyInvisible } from './keyring/host-key-invisible.js';
import { hostProcessUnreachable } from './ptrace/host-process-unreachable.js';
import { argumentFilterApplies } from './seccomp/argument-filter-applies.js';
import { joinsInitNamespaces } from './exec/joins-init-namespaces.js';
import { joinsInitCgroup } from './exec/joins-init-cgroup.js';
import { execCapsAsDeclared } from './exec/caps-as-declared.js';
import { execNnpAsDeclared } from './exec/nnp-as-declared.js';
import { execSeccompOfInit } from './exec/seccomp-of-init.js';
import { execOnlyStdioFds } from './exec/only-stdio-fds.js';
import { execCwdInside } from './exec/cwd-inside.js';
import { execEnvAsGiven } from './exec/env-as-given.js';
import { execUserAsGiven } from './exec/user-as-given.js';
import { execRuntimeBinaryNotWritable } from './exec/runtime-binary-not-writable.js';
import { execJoiningProcessUnreachable } from './exec/joining-process-unreachable.js';
import { pidsLimitHolds } from './resources/pids-limit-holds.js';
import { noexecRefusesExec } from './mnt/noexec-refuses-exec.js';
import { runInLifecycleOrder } from './hooks/run-in-lifecycle-order.js';
import { stateOnStdin } from './hooks/state-on-stdin.js';
import { runInSpecifiedNamespaces } from './hooks/run-in-specified-namespaces.js';
import { failingPrestartStopsStart } from './hooks/failing-prestart-stops-start.js';
import { limitsAsDeclared } from './process/limits-as-declared.js';
import { valuesApplied } from './sysctl/values-applied.js';
import { sharedNamespaceRefused } from './sysctl/shared-namespace-refused.js';
import { editAfterCreateIgnored } from './lifecycle/edit-after-create-ignored.js';
import { cgroupFilesystemReadonly } from './cgroup/filesystem-readonly.js';
import { memoryLimitOomKills } from './resources/memory-limit-oom-kills.js';
import { cpuAsDeclared } from './resources/cpu-as-declared.js';
import { blockIOWeightAsDeclared } from './resources/blockio-weight-as-declared.js';
import { nosuidIgnoresSetuid } from './mnt/nosuid-ignores-setuid.js';
import { nodevRefusesDevices } from './mnt/nodev-refuses-devices.js';
import { actionsAsDeclared } from './seccomp/actions-as-declared.js';
import { recursiveReadonlySubmounts } from './mnt/recursive-readonly-submounts.js';
import { nestedMapWithinParent } from './user/nested-map-within-parent.js';
import { foreignNamespaceJoinRefused } from './user/foreign-namespace-join-refused.js';
import { stateAsSpecified } from './lifecycle/state-as-specified.js';
import { killDeliversSignal } from './lifecycle/kill-delivers-signal.js';
import { deleteLeavesNothing } from './lifecycle/delete-leaves-nothing.js';
import { bindPropagationAsDeclared } from './mnt/bind-propagation-as-declared.js';
import { deleteSparesForeignResources } from './lifecycle/delete-spares-foreign-resources.js';
import { deleteRefusedWhileRunning } from './lifecycle/delete-refused-while-running.js';
import { killRefusedOnceStopped } from './lifecycle/kill-refused-once-stopped.js';
import { startRefusedUnlessCreated } from './lifecycle/start-refused-unless-created.js';
import { hostileRootfsContained } from './mnt/hostile-rootfs-contained.js';

export const INVARIANTS: readonly Invariant[] = [
  initIsPid1,
  hostProcessesInvisible,
  hostSignalRefused,
  killInitEndsContainer,
  hostnameIsolated,
  pairHostnamesSeparate,
  onlyLoopback,
  pairSamePort,
  hostListenerUnreachable,
  hostBindingsUnaffected,
  mapsEqualProfile,
  idsEqualProfile,
  bindFileOwnerMapped,
  unmappedShowsOverflow,
  setgroupsAsDeclared,
  noMountLeak,
  readonlyRefusesWrites,
  tmpfsModeApplied,
  noHostMountAfterStart,
  noWritableHostFs,
  rootNotShared,
  hostObjectsInvisible,
  pairObjectsSeparate,
  unsharedTypesDiffer,
  joinedAsDeclared,
  childrenShareNamespaces,
  onlyStdioInherited,
  noHostDirectory,
  maskedUnreadable,
  readonlyPathsUnwritable,
  setsAsDeclared,
  nnpAsDeclared,
  modeFilterWhenDeclared,
  deniedReturnsErrno,
  envExact,
  devOnlyDeclared,
  devNoBlockDevice,
  cgroupNamespaceRoot,
  offsetsApplied,
  hostKeyInvisible,
  hostProcessUnreachable,
  argumentFilterApplies,
  joinsInitNamespaces,
  joinsInitCgroup,
  execCapsAsDeclared,
  execNnpAsDeclared,
  execSeccompOfInit,
  execOnlyStdioFds,
  execCwdInside,
  execEnvAsGiven,
  execUserAsGiven,
  execRuntimeBinaryNotWritable,
  execJoiningProcessUnreachable,
  pidsLimitHolds,
  noexecRefusesExec,
  runInLifecycleOrder,
  stateOnStdin,
  runInSpecifiedNamespaces,
  failingPrestartStopsStart,
  limitsAsDeclared,
  valuesApplied,
  sharedNamespaceRefused,
  editAfterCreateIgnored,
  cgroupFilesystemReadonly,
  memoryLimitOomKills,
  cpuAsDeclared,
  blockIOWeightAsDeclared,
  nosuidIgnoresSetuid,
  nodevRefusesDevices,
  actionsAsDeclared,
  recursiveReadonlySubmounts,
  nestedMapWithinParent,
  foreignNamespaceJoinRefused,
  stateAsSpecified,
  killDeliversSignal,
  deleteLeavesNothing,
  bindPropagationAsDeclared,
  deleteSparesForeignResources,
  deleteRefusedWhileRunning,
  killRefusedOnceStopped,
  startRefusedUnlessCreated,
  hostileRootfsContained,
];
