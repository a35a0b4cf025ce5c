// JSON whose integers stay exact. Seccomp argument values are unsigned 64-bit, and JSON.parse
// rounds anything above 2^53 (0xffffffffffffffff would become 18446744073709552000). This reader
// returns such integers as bigint and everything else exactly as JSON.parse would; the writer
// prints bigints back as plain JSON numbers, so a profile round-trips unchanged.

export class JsonSyntaxError extends Error {
  constructor(readonly offset: number, message: string) {
    super(`${message} at offset ${offset}`);
    this.name = 'JsonSyntaxError';
  }
}

export function parseExactJson(text: string): unknown {
  const reader = new Reader(text);
  reader.space();
  const value = reader.value();
  reader.space();
  if (reader.pos !== text.length) reader.fail('unexpected text after the JSON value');
  return value;
}

// Sticky (y) patterns match exactly at lastIndex, so the reader never copies the rest of the text.
const STRING = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;
const NUMBER = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;

class Reader {
  pos = 0;
  constructor(private readonly text: string) {}

  fail(message: string): never {
    throw new JsonSyntaxError(this.pos, message);
  }

  space(): void {
    while (this.pos < this.text.length && ' \t\r\n'.includes(this.text[this.pos]!)) this.pos++;
  }

  expect(ch: string): void {
    if (this.text[this.pos] !== ch) this.fail(`expected "${ch}"`);
    this.pos++;
  }

  value(): unknown {
    const ch = this.text[this.pos];
    if (ch === '{') return this.object();
    if (ch === '[') return this.array();
    if (ch === '"') return this.string();
    if (ch === '-' || (ch !== undefined && ch >= '0' && ch <= '9')) return this.number();
    for (const [word, v] of [['true', true], ['false', false], ['null', null]] as const) {
      if (this.text.startsWith(word, this.pos)) {
        this.pos += word.length;
        return v;
      }
    }
    return this.fail('expected a JSON value');
  }

  object(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    this.expect('{');
    this.space();
    if (this.text[this.pos] === '}') {
      this.pos++;
      return out;
    }
    for (;;) {
      this.space();
      const key = this.string();
      this.space();
      this.expect(':');
      this.space();
      // defineProperty keeps a key named "__proto__" an ordinary field, as JSON.parse does.
      Object.defineProperty(out, key, { value: this.value(), enumerable: true, writable: true, configurable: true });
      this.space();
      if (this.text[this.pos] === ',') {
        this.pos++;
        continue;
      }
      this.expect('}');
      return out;
    }
  }

  array(): unknown[] {
    const out: unknown[] = [];
    this.expect('[');
    this.space();
    if (this.text[this.pos] === ']') {
      this.pos++;
      return out;
    }
    for (;;) {
      this.space();
      out.push(this.value());
      this.space();
      if (this.text[this.pos] === ',') {
        this.pos++;
        continue;
      }
      this.expect(']');
      return out;
    }
  }

  string(): string {
    STRING.lastIndex = this.pos;
    const m = STRING.exec(this.text);
    if (m === null) this.fail('expected a JSON string');
    this.pos += m[0].length;
    return JSON.parse(m[0]) as string;
  }

  number(): number | bigint {
    NUMBER.lastIndex = this.pos;
    const m = NUMBER.exec(this.text);
    if (m === null) this.fail('expected a JSON number');
    this.pos += m[0].length;
    const asNumber = Number(m[0]);
    const isInteger = m[1] === undefined && m[2] === undefined;
    return isInteger && !Number.isSafeInteger(asNumber) ? BigInt(m[0]) : asNumber;
  }
}

/** JSON.stringify that writes bigint values as bare JSON numbers. */
export function stringifyExactJson(value: unknown, indent = 2): string {
  const marks: string[] = [];
  const text = JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v !== 'bigint') return v;
    marks.push(v.toString());
    return `\u0000bigint${marks.length - 1}\u0000`;
  }, indent);
  return text.replace(/"\\u0000bigint(\d+)\\u0000"/g, (_m, i: string) => marks[Number(i)]!);
}
