/**
 * Where and why a config file is not valid JSON, as `line:column` an editor can jump to. JSON.parse
 * still does the parsing; this runs only after it failed, because its messages give a character offset,
 * change wording between Node versions, and for an unexpected token quote the text around it — which in
 * a config file may be a password.
 *
 * The grammar is RFC 8259's: value = object | array | string | number | true | false | null, with
 * whitespace (space, tab, CR, LF) between tokens and nothing after the top-level value.
 */

export interface JsonSyntaxError {
  /** 1-based, as editors count. */
  line: number;
  /** 1-based, in UTF-16 code units (a tab is one column). */
  column: number;
  reason: string;
}

class Located extends Error {
  constructor(
    readonly offset: number,
    readonly reason: string,
  ) {
    super(reason);
  }
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const ESCAPE = /\\(?:["\\/bfnrt]|u[0-9A-Fa-f]{4})/y;
const LITERALS = ['true', 'false', 'null'];

/** One character as the message shows it: printable ASCII quoted, anything else as U+XXXX. */
function shown(c: string): string {
  return /^[\x21-\x7e]$/.test(c)
    ? `'${c}'`
    : `U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
}

class Scanner {
  private i = 0;

  constructor(private readonly text: string) {}

  document(): void {
    this.value();
    this.skipWhitespace();
    if (this.i < this.text.length) this.fail(`unexpected ${shown(this.text[this.i])} after the JSON value`);
  }

  private fail(reason: string, at = this.i): never {
    throw new Located(at, reason);
  }

  private skipWhitespace(): void {
    while (' \t\r\n'.includes(this.text[this.i] ?? 'x')) this.i++;
  }

  private value(): void {
    this.skipWhitespace();
    const c = this.text[this.i];
    if (c === undefined) this.fail('unexpected end of file, expected a value');
    if (c === '{') return this.object();
    if (c === '[') return this.array();
    if (c === '"') return this.string();
    if (c === '-' || (c >= '0' && c <= '9')) return this.number();
    const literal = LITERALS.find((w) => this.text.startsWith(w, this.i));
    if (literal === undefined) this.fail(`unexpected ${shown(c)}, expected a value`);
    this.i += literal.length;
  }

  private object(): void {
    this.i++;
    this.skipWhitespace();
    if (this.text[this.i] === '}') {
      this.i++;
      return;
    }
    for (;;) {
      this.skipWhitespace();
      if (this.text[this.i] !== '"') this.fail('expected a property name in double quotes');
      this.string();
      this.skipWhitespace();
      if (this.text[this.i] !== ':') this.fail("expected ':' after the property name");
      this.i++;
      this.value();
      if (this.endOfList('}', 'a property value')) return;
    }
  }

  private array(): void {
    this.i++;
    this.skipWhitespace();
    if (this.text[this.i] === ']') {
      this.i++;
      return;
    }
    for (;;) {
      this.value();
      if (this.endOfList(']', 'an array element')) return;
    }
  }

  /** After a member: true at the closing bracket, false after a comma that another member follows. */
  private endOfList(close: '}' | ']', member: string): boolean {
    this.skipWhitespace();
    const c = this.text[this.i];
    if (c === close) {
      this.i++;
      return true;
    }
    if (c !== ',') this.fail(`expected ',' or '${close}' after ${member}`);
    const comma = this.i++;
    this.skipWhitespace();
    if (this.text[this.i] === close) this.fail(`trailing comma before '${close}' (JSON allows none)`, comma);
    return false;
  }

  private string(): void {
    const start = this.i++;
    for (;;) {
      const c = this.text[this.i];
      if (c === undefined) this.fail('unterminated string', start);
      if (c === '"') {
        this.i++;
        return;
      }
      if (c === '\\') {
        ESCAPE.lastIndex = this.i;
        if (!ESCAPE.test(this.text)) this.fail('invalid escape in a string');
        this.i = ESCAPE.lastIndex;
      } else if (c < ' ') {
        this.fail('unescaped control character in a string (a line break or tab must be written \\n or \\t)');
      } else {
        this.i++;
      }
    }
  }

  private number(): void {
    NUMBER.lastIndex = this.i;
    if (!NUMBER.test(this.text)) this.fail('invalid number');
    this.i = NUMBER.lastIndex;
  }
}

function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const lineStart = before.lastIndexOf('\n') + 1;
  return { line: before.split('\n').length, column: offset - lineStart + 1 };
}

/**
 * The first syntax error of `text`, or undefined when it is valid JSON. A text JSON.parse rejects always
 * has one: both follow the same grammar.
 */
export function jsonSyntaxError(text: string): JsonSyntaxError | undefined {
  try {
    new Scanner(text).document();
    return undefined;
  } catch (err) {
    if (!(err instanceof Located)) throw err;
    return { ...lineAndColumn(text, err.offset), reason: err.reason };
  }
}
