// The one shape of a bad value in a file nsrig reads: the file, the field path inside it, what was
// expected there and what was found. Profiles (ProfileError) and seccomp policies (PolicyError)
// both report this way, so a profile that embeds a policy passes the policy's errors on as they are.
export abstract class FieldError extends Error {
  /** "" for the document as a whole, else e.g. "user.uidMappings[1].size" or "syscalls[3].args[0].op". */
  readonly fieldPath: string;

  constructor(message: string, readonly file: string, fieldPath: string, readonly expected: string, readonly got: string) {
    super(message);
    this.fieldPath = fieldPath;
  }
}
