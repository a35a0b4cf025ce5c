// Warnings: what nsrig carries out differently from how a profile or config reads, one line each on
// stderr, so a person sees it and a script's stdout stays clean.
export function warnOnStderr(message: string): void {
  process.stderr.write(`nsrig: warning: ${message}\n`);
}
