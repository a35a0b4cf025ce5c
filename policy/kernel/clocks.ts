// clockid_t values (include/uapi/linux/time.h) of the two clocks a time namespace offsets
// (time_namespaces(7)).
export const CLOCK = { MONOTONIC: 1, BOOTTIME: 7 } as const;
