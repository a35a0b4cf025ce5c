// Probe output can hold anything a container printed: terminal escapes, NUL bytes, half a
// UTF-16 pair. XML 1.0 forbids most control characters outright (an escaped &#1; is still
// ill-formed), and in HTML they are invisible. Both renderers replace them with a visible
// escape, so the reader sees that they were there and the document stays well-formed.

// Char ::= #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF] (XML 1.0 §2.2).
// DEL and the C1 range are allowed there but print as nothing, so they are shown too.
const INVISIBLE =
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

function visible(char: string): string {
  const code = char.charCodeAt(0);
  const hex = code.toString(16).toUpperCase();
  return code <= 0xff ? `\\x${hex.padStart(2, '0')}` : `\\u${hex.padStart(4, '0')}`;
}

/** Replaces characters XML 1.0 forbids (and invisible C0/C1 controls) with `\xNN` / `\uNNNN`. */
export function showControlCharacters(text: string): string {
  return text.replace(INVISIBLE, visible);
}
