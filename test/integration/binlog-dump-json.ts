/**
 * MySQL JSON columns as `mysqlbinlog -vv` prints them, against our decoded value.
 *
 * mysqlbinlog prints a JSON document as MySQL's JSON text (`{"a": [1, 2.5]}`: `": "` and `", "`
 * separators, keys in storage order — by length, then bytes; a scalar string unquoted) inside SQL
 * quotes (log_event.cc `json_wrapper_to_string`, `my_b_write_quoted`), and a partial update (PARTIAL_UPDATE_ROWS) as
 * nested `JSON_REPLACE(@N, 'path', value)` / `JSON_INSERT` / `JSON_ARRAY_INSERT` / `JSON_REMOVE` calls
 * (`print_json_diff`), one call per line.
 *
 * Our decoder returns JS values (rows/values.ts), which keep less than the text: an integer-valued
 * DOUBLE is the same JS number as an INT (MySQL prints `2.0` and `2`), and a DECIMAL inside JSON is
 * its exact text as a string (MySQL prints it unquoted, `1.50`). So the comparison is by meaning, as
 * precisely as the JS value allows: the tool's text is parsed, numbers must be equal as numbers (as
 * bigints past 2^53), a DECIMAL token must equal our string character for character, strings and
 * keys byte for byte, keys in the same order.
 */
import type { JsonDiff, JsonValue } from '../../src/binlog/rows/values.js';

/** One value of MySQL's JSON text; numbers keep their text. */
type Parsed =
  | { t: 'literal'; v: null | boolean }
  | { t: 'number'; text: string }
  | { t: 'string'; v: string }
  | { t: 'array'; items: Parsed[] }
  | { t: 'object'; entries: [string, Parsed][] };

/** The bytes inside a `'…'` that mysqlbinlog printed (its quote table: \b \f \n \r \t \\ \' \xNN). */
export function unquoteMysql(latin1: string): Buffer | undefined {
  if (latin1.length < 2 || !latin1.startsWith("'") || !latin1.endsWith("'")) return undefined;
  const out: number[] = [];
  const s = latin1.slice(1, -1);
  const escapes: Record<string, number> = { b: 8, f: 12, n: 10, r: 13, t: 9, '\\': 92, "'": 39 };
  for (let i = 0; i < s.length; i++) {
    const ch = s.charCodeAt(i);
    if (ch !== 0x5c) {
      out.push(ch);
      continue;
    }
    const next = s[i + 1] ?? '';
    if (next === 'x') {
      out.push(parseInt(s.slice(i + 2, i + 4), 16));
      i += 3;
    } else if (next in escapes) {
      out.push(escapes[next]);
      i += 1;
    } else return undefined;
  }
  return Buffer.from(out);
}

class Reader {
  pos = 0;
  constructor(readonly s: string) {}
  ws(): void {
    while (this.s[this.pos] === ' ') this.pos++;
  }
  fail(what: string): never {
    throw new Error(`JSON text at ${this.pos}: ${what} in ${JSON.stringify(this.s.slice(0, 200))}`);
  }
  value(): Parsed {
    this.ws();
    const c = this.s[this.pos];
    if (c === '{') {
      this.pos++;
      const entries: [string, Parsed][] = [];
      this.ws();
      if (this.s[this.pos] === '}') {
        this.pos++;
        return { t: 'object', entries };
      }
      for (;;) {
        this.ws();
        const key = this.string();
        this.ws();
        if (this.s[this.pos++] !== ':') this.fail('expected :');
        entries.push([key, this.value()]);
        this.ws();
        const sep = this.s[this.pos++];
        if (sep === '}') return { t: 'object', entries };
        if (sep !== ',') this.fail('expected , or }');
      }
    }
    if (c === '[') {
      this.pos++;
      const items: Parsed[] = [];
      this.ws();
      if (this.s[this.pos] === ']') {
        this.pos++;
        return { t: 'array', items };
      }
      for (;;) {
        items.push(this.value());
        this.ws();
        const sep = this.s[this.pos++];
        if (sep === ']') return { t: 'array', items };
        if (sep !== ',') this.fail('expected , or ]');
      }
    }
    if (c === '"') return { t: 'string', v: this.string() };
    for (const [word, v] of [
      ['null', null],
      ['true', true],
      ['false', false],
    ] as const) {
      if (this.s.startsWith(word, this.pos)) {
        this.pos += word.length;
        return { t: 'literal', v };
      }
    }
    const m = /^-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?/.exec(this.s.slice(this.pos));
    if (!m) this.fail('expected a value');
    this.pos += m[0].length;
    return { t: 'number', text: m[0] };
  }
  string(): string {
    const m = /^"(?:[^"\\]|\\.)*"/.exec(this.s.slice(this.pos));
    if (!m) this.fail('expected a string');
    this.pos += m[0].length;
    return JSON.parse(m[0]) as string;
  }
}

/** MySQL's JSON text (no SQL quoting) as a tree. */
export function parseMysqlJsonText(text: string): Parsed {
  const r = new Reader(text);
  const v = r.value();
  r.ws();
  if (r.pos !== text.length) r.fail('trailing text');
  return v;
}

const show = (v: JsonValue): string =>
  JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? String(x) : x));

/** Why `ours` does not mean what the tool printed, or undefined when it does. */
function mismatch(ours: JsonValue, tool: Parsed, path: string): string | undefined {
  const at = (what: string): string => `${path}: ${what}`;
  switch (tool.t) {
    case 'literal':
      return ours === tool.v ? undefined : at(`${show(ours)} vs ${String(tool.v)}`);
    case 'number': {
      if (typeof ours === 'bigint')
        return /^-?\d+$/.test(tool.text) && BigInt(tool.text) === ours
          ? undefined
          : at(`${ours} vs ${tool.text}`);
      if (typeof ours === 'number')
        return Object.is(Number(tool.text), ours) ? undefined : at(`${ours} vs ${tool.text}`);
      // A DECIMAL inside JSON: our decoder gives its exact text (json-binary.ts opaque values).
      if (typeof ours === 'string') return ours === tool.text ? undefined : at(`"${ours}" vs ${tool.text}`);
      return at(`${JSON.stringify(ours)} vs number ${tool.text}`);
    }
    case 'string':
      return ours === tool.v ? undefined : at(`${JSON.stringify(ours)} vs ${JSON.stringify(tool.v)}`);
    case 'array': {
      if (!Array.isArray(ours)) return at(`${typeof ours} vs array`);
      if (ours.length !== tool.items.length) return at(`${ours.length} vs ${tool.items.length} items`);
      for (let i = 0; i < ours.length; i++) {
        const m = mismatch(ours[i] ?? null, tool.items[i], `${path}[${i}]`);
        if (m) return m;
      }
      return undefined;
    }
    case 'object': {
      if (ours === null || typeof ours !== 'object' || Array.isArray(ours))
        return at(`${JSON.stringify(ours)} vs object`);
      const keys = Object.keys(ours);
      const toolKeys = tool.entries.map(([k]) => k);
      if (JSON.stringify(keys) !== JSON.stringify(toolKeys))
        return at(`keys ${JSON.stringify(keys)} vs ${JSON.stringify(toolKeys)}`);
      for (const [k, v] of tool.entries) {
        const m = mismatch(ours[k] ?? null, v, `${path}.${k}`);
        if (m) return m;
      }
      return undefined;
    }
  }
}

/** A JSON column value mysqlbinlog printed (`'…'`) against our decoded document. */
export function jsonDocumentMismatch(ours: JsonValue, printed: string): string | undefined {
  const bytes = unquoteMysql(printed);
  if (!bytes) return `not a quoted JSON text: ${printed.slice(0, 100)}`;
  // A document that is a scalar string (or an opaque value: a date, a DECIMAL) is printed without
  // the JSON quotes (Json_wrapper::to_string with json_quoted false).
  if (typeof ours === 'string') {
    const text = bytes.toString('utf8');
    return text === ours ? undefined : `$: ${JSON.stringify(ours)} vs ${JSON.stringify(text)}`;
  }
  let tree: Parsed;
  try {
    tree = parseMysqlJsonText(bytes.toString('utf8'));
  } catch (err) {
    return String(err);
  }
  return mismatch(ours, tree, '$');
}

/** A value of a JSON diff as print_json_diff writes it (json_wrapper_to_string with json_type false). */
function diffValueMismatch(ours: JsonValue, printed: string, where: string): string | undefined {
  const cast = /^CAST\((.*) AS JSON\)$/s.exec(printed);
  if (cast) {
    const m = jsonDocumentMismatch(ours, cast[1]);
    return m && `${where}: ${m}`;
  }
  if (printed.startsWith("'")) {
    // Strings and opaque values (dates, times) are quoted raw, not as JSON strings.
    const bytes = unquoteMysql(printed);
    const text = bytes?.toString('utf8');
    return typeof ours === 'string' && text === ours
      ? undefined
      : `${where}: ${JSON.stringify(ours)} vs ${printed}`;
  }
  let tree: Parsed;
  try {
    tree = parseMysqlJsonText(printed);
  } catch (err) {
    return `${where}: ${String(err)}`;
  }
  const m = mismatch(ours, tree, '$');
  return m && `${where}: ${m}`;
}

const LINE = '\n###      ';

function operationName(d: JsonDiff): string {
  if (d.operation === 'replace') return 'JSON_REPLACE';
  if (d.operation === 'remove') return 'JSON_REMOVE';
  return d.path.endsWith(']') ? 'JSON_ARRAY_INSERT' : 'JSON_INSERT';
}

/** MySQL's quoting of a path (my_b_write_quoted), as a latin1 string of the UTF-8 bytes. */
function quotePath(path: string): string {
  let out = "'";
  for (const b of Buffer.from(path, 'utf8')) {
    const special: Record<number, string> = {
      8: '\\b',
      12: '\\f',
      10: '\\n',
      13: '\\r',
      9: '\\t',
      92: '\\\\',
      39: "\\'",
    };
    out += special[b] ?? (b < 32 ? `\\x${b.toString(16).padStart(2, '0')}` : String.fromCharCode(b));
  }
  return `${out}'`;
}

/**
 * A partial JSON update as mysqlbinlog printed it (continuation lines joined with `\n###      `)
 * against our diffs. The call skeleton (names, nesting, paths) is exact text; each value between
 * the skeleton's pieces is compared by meaning as above.
 */
export function jsonDiffMismatch(
  diffs: readonly JsonDiff[],
  column: number,
  printed: string,
): string | undefined {
  const names = diffs.map(operationName);
  // print_json_diff: function names outermost-last-first, a run of equal names shares one call.
  let head = '';
  let printedAny = false;
  for (let i = names.length - 1; i >= 0; i--) {
    if (i === 0 || names[i - 1] !== names[i]) {
      if (printedAny) head += LINE;
      head += `${names[i]}(`;
      printedAny = true;
    }
  }
  head += `@${column}`;
  if (diffs.length === 0) return printed === head ? undefined : `skeleton ${head} vs ${printed}`;
  head += ', ';
  // Literal pieces around the values: piece[k] precedes value k (undefined for REMOVE).
  const pieces: string[] = [];
  let piece = head;
  diffs.forEach((d, i) => {
    piece += quotePath(d.path);
    if (d.operation !== 'remove') {
      pieces.push(`${piece}, `);
      piece = '';
    }
    const last = i === diffs.length - 1;
    if (last || names[i + 1] !== names[i]) piece += ')';
    if (!last) piece += `,${LINE}`;
  });
  pieces.push(piece);
  let pos = 0;
  let valueIndex = 0;
  const valued = diffs.filter((d) => d.operation !== 'remove');
  for (let k = 0; k < pieces.length; k++) {
    const p = pieces[k];
    if (!printed.startsWith(p, pos))
      return `at ${pos}: expected ${JSON.stringify(p)} in ${JSON.stringify(printed)}`;
    pos += p.length;
    if (k === pieces.length - 1) break;
    const next = pieces[k + 1];
    // A value has no raw newline (my_b_write_quoted escapes it), so the next piece — which holds one
    // unless it is the final ")" — cannot occur inside it; the final piece ends the text.
    const end = k + 1 === pieces.length - 1 ? printed.length - next.length : printed.indexOf(next, pos);
    if (end < pos) return `no ${JSON.stringify(next)} after ${pos} in ${JSON.stringify(printed)}`;
    const d = valued[valueIndex++];
    const m = diffValueMismatch(d.value ?? null, printed.slice(pos, end), `${d.operation} ${d.path}`);
    if (m) return m;
    pos = end;
  }
  return pos === printed.length ? undefined : `trailing ${JSON.stringify(printed.slice(pos))}`;
}
