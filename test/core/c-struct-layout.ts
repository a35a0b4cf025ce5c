// Offsets and sizes of C structs, computed from header text with the x86_64 LP64 ABI rules
// (natural alignment, padding to the largest member), so a layout the engine hard-codes can be
// compared with what glibc's own headers declare without compiling anything. It understands the
// subset the ucontext headers use: typedefs, structs, arrays with macro sizes, pointers.

export interface FieldLayout {
  offset: number;
  size: number;
  /** The field's type, `*` appended for pointers. */
  type: string;
}

interface TypeLayout {
  size: number;
  align: number;
  fields?: Map<string, FieldLayout>;
}

const LP64_PRIMITIVES: Record<string, number> = {
  char: 1, 'unsigned char': 1, 'signed char': 1,
  short: 2, 'short int': 2, 'unsigned short': 2, 'unsigned short int': 2, __uint16_t: 2, __int16_t: 2,
  int: 4, 'unsigned int': 4, unsigned: 4, __uint32_t: 4, __int32_t: 4,
  long: 8, 'long int': 8, 'unsigned long': 8, 'unsigned long int': 8,
  'long long': 8, 'long long int': 8, 'unsigned long long': 8, 'unsigned long long int': 8,
  __uint64_t: 8, __int64_t: 8, size_t: 8,
};
const POINTER_SIZE = 8;

export class CStructLayouts {
  private readonly types = new Map<string, TypeLayout>(
    Object.entries(LP64_PRIMITIVES).map(([name, size]) => [name, { size, align: size }]));
  private readonly macros = new Map<string, string>();

  /** Header texts in dependency order (a type must be declared before a struct uses it). */
  constructor(headers: string[]) {
    for (const text of headers) this.read(text);
  }

  sizeOf(type: string): number {
    return this.layoutOf(type).size;
  }

  field(type: string, name: string): FieldLayout {
    const field = this.layoutOf(type).fields?.get(name);
    if (!field) throw new Error(`${type} has no field ${name} in the headers read`);
    return field;
  }

  private layoutOf(type: string): TypeLayout {
    const normal = type.replace(/\s+/g, ' ').trim();
    if (normal.endsWith('*')) return { size: POINTER_SIZE, align: POINTER_SIZE };
    const found = this.types.get(normal);
    if (!found) throw new Error(`unknown C type "${normal}" (declare it in an earlier header)`);
    return found;
  }

  private read(text: string): void {
    const noComments = text.replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/\/\/.*$/gm, '');
    for (const m of noComments.matchAll(/^[ \t]*#[ \t]*define[ \t]+(\w+)[ \t]+(.+)$/gm)) this.macros.set(m[1]!, m[2]!.trim());
    const code = noComments.replace(/^[ \t]*#.*$/gm, '').replace(/__ctx\((\w+)\)/g, '$1').replace(/__extension__/g, ' ');
    for (const statement of topLevelStatements(code)) this.declare(statement);
  }

  private declare(statement: string): void {
    const structDef = /^(typedef\s+)?struct\s*(\w+)?\s*\{([\s\S]*)\}\s*(\w*)$/.exec(statement);
    if (structDef) {
      const [, isTypedef, tag, body, alias] = structDef;
      const layout = this.structLayout(body!);
      if (tag) this.types.set(`struct ${tag}`, layout);
      if (isTypedef && alias) this.types.set(alias, layout);
      return;
    }
    const typedef = /^typedef\s+([\s\S]+)$/.exec(statement);
    if (typedef && !typedef[1]!.includes('{')) {
      const decl = parseDeclarator(typedef[1]!);
      if (decl) this.types.set(decl.name, this.declaredLayout(decl));
    }
  }

  private structLayout(body: string): TypeLayout {
    const fields = new Map<string, FieldLayout>();
    let offset = 0;
    let align = 1;
    for (const member of body.split(';').map((s) => s.trim()).filter(Boolean)) {
      const decl = parseDeclarator(member);
      if (!decl) throw new Error(`cannot read the struct member "${member}"`);
      const layout = this.declaredLayout(decl);
      offset = roundUp(offset, layout.align);
      fields.set(decl.name, { offset, size: layout.size, type: decl.type + (decl.pointer ? ' *' : '') });
      offset += layout.size;
      align = Math.max(align, layout.align);
    }
    return { size: roundUp(offset, align), align, fields };
  }

  private declaredLayout(decl: Declarator): TypeLayout {
    const element = decl.pointer ? { size: POINTER_SIZE, align: POINTER_SIZE } : this.layoutOf(decl.type);
    const count = decl.dims.reduce((n, dim) => n * this.evaluate(dim), 1);
    return { ...element, size: element.size * count };
  }

  /** A constant expression: macros expanded, sizeof(type) replaced, then plain integer arithmetic. */
  private evaluate(expression: string, depth = 0): number {
    if (depth > 16) throw new Error(`macro expansion too deep in "${expression}"`);
    let expr = expression.replace(/sizeof\s*\(([^)]+)\)/g, (_, type: string) => String(this.sizeOf(type)));
    expr = expr.replace(/[A-Za-z_]\w*/g, (name) => {
      const value = this.macros.get(name);
      if (value === undefined) throw new Error(`unknown macro ${name} in "${expression}"`);
      return `(${this.evaluate(value, depth + 1)})`;
    });
    if (!/^[\d\s+\-*/()]+$/.test(expr)) throw new Error(`not a constant expression: "${expression}"`);
    return Math.trunc(Function(`"use strict"; return (${expr});`)() as number);
  }
}

interface Declarator {
  type: string;
  name: string;
  pointer: boolean;
  dims: string[];
}

function parseDeclarator(text: string): Declarator | undefined {
  const m = /^([\s\S]*?)(\*?)\s*(\w+)\s*((?:\[[^\]]+\]\s*)*)$/.exec(text.replace(/\s+/g, ' ').trim());
  if (!m || m[1]!.trim() === '') return undefined;
  const dims = [...m[4]!.matchAll(/\[([^\]]+)\]/g)].map((d) => d[1]!);
  return { type: m[1]!.trim(), name: m[3]!, pointer: m[2] === '*', dims };
}

/** Statements ending in `;` at brace depth 0. */
function topLevelStatements(code: string): string[] {
  const statements: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of code) {
    if (ch === '{') depth++;
    if (ch === '}') depth--;
    if (ch === ';' && depth === 0) {
      statements.push(current.replace(/\s+/g, ' ').trim());
      current = '';
    } else {
      current += ch;
    }
  }
  return statements.filter(Boolean);
}

function roundUp(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}
