// crun 1.8.1 fchowns its standard streams, when they are not a terminal, to the host uid and gid of
// the container's root before it joins the user namespace (src/libcrun/container.c,
// maybe_chown_std_streams; crun#1845, fixed for device nodes by crun#1847). hyperfine gives every
// command /dev/null as stdin, and as stdout and stderr with --output null, so each `crun run` row
// would hand the host's /dev/null to uid 100000. The launchers therefore run in a mount namespace
// of their own whose /dev/null is a node made for the bench; nothing else about them changes.
/** argv, run in a private mount namespace whose /dev/null is a fresh 1:3 node at nodePath (made, or made again). */
export function withPrivateDevNull(argv: readonly string[], nodePath: string): string[] {
  const setup = 'rm -f "$0" && mknod -m 666 "$0" c 1 3 && mount --bind "$0" /dev/null && exec "$@"';
  return ['unshare', '--mount', '--propagation', 'private', 'sh', '-c', setup, nodePath, ...argv];
}
