/**
 * A restricted Python unpickler (protocols 0-5): it builds plain JavaScript values and refuses
 * every global that is not on an explicit allow-list, so a crafted file (e.g. `os.system` +
 * `REDUCE`) raises an error naming the global and nothing is ever executed. Python code is never
 * run in any case: allowed globals are re-implemented here.
 *
 * @module
 */

/** A Python dict (or OrderedDict); `attrs` holds state set by `BUILD` (e.g. `_metadata`). */
export class PickleDict extends Map<unknown, unknown> {
  /** Attributes set on the object (`__dict__` state), if any. */
  attrs: Record<string, unknown> = {};
  /** The Python class, e.g. `collections.OrderedDict` (plain `dict` when built by opcodes). */
  constructor(readonly pyClass = "builtins.dict") {
    super();
  }
}

/** An inert instance of an allow-listed plain-data class (e.g. `argparse.Namespace`). */
export class PickleObject {
  /** Python class name and the state `BUILD` set on it. */
  constructor(readonly pyClass: string, public state: unknown = undefined) {}
}

/** A callable the unpickler may invoke: a JavaScript re-implementation of a safe global. */
export interface SafeGlobal {
  /** `module.name` of the Python global. */
  readonly qualifiedName: string;
  /** Called for `REDUCE` (args tuple) and `NEWOBJ` (class, args). */
  call(args: unknown[]): unknown;
}

/** Options of {@link unpickle}. */
export interface UnpickleOptions {
  /** Allowed globals by `module.name` (anything else is refused). */
  globals: ReadonlyMap<string, SafeGlobal>;
  /** Resolves persistent ids (`PERSID`/`BINPERSID`); absent = refuse them. */
  persistentLoad?: (pid: unknown) => unknown;
  /** Name of the source (file, archive member) for error messages. */
  source?: string;
}

/** Result of {@link unpickle}. */
export interface UnpickleResult {
  /** The unpickled value. */
  value: unknown;
  /** Offset just after the `STOP` opcode (several pickles may follow each other). */
  end: number;
}

/** Error raised for malformed, truncated or refused pickles. */
export class PickleError extends Error {
  /** Create the error (name shows in stack traces). */
  constructor(message: string) {
    super(message);
    this.name = "PickleError";
  }
}

/**
 * Unpickle one pickle from `bytes` starting at `offset` with the restricted global allow-list of
 * `options.globals`.
 */
export function unpickle(bytes: Uint8Array, options: UnpickleOptions, offset = 0): UnpickleResult {
  const src = options.source ?? "<pickle>";
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = offset;
  const stack: unknown[] = [];
  const marks: number[] = [];
  const memo = new Map<number, unknown>();
  const err = (why: string) => new PickleError(`${src}: ${why} (byte ${pos})`);
  const need = (n: number) => {
    if (pos + n > bytes.length) {
      throw err(`pickle data ends unexpectedly (needed ${n} more bytes; truncated file?)`);
    }
  };
  const u8 = () => {
    need(1);
    return bytes[pos++];
  };
  const u16 = () => {
    need(2);
    const v = dv.getUint16(pos, true);
    pos += 2;
    return v;
  };
  const u32 = () => {
    need(4);
    const v = dv.getUint32(pos, true);
    pos += 4;
    return v;
  };
  const i32 = () => {
    need(4);
    const v = dv.getInt32(pos, true);
    pos += 4;
    return v;
  };
  const u64 = () => {
    need(8);
    const v = dv.getBigUint64(pos, true);
    pos += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw err(`length ${v} too large`);
    return Number(v);
  };
  const take = (n: number) => {
    need(n);
    const b = bytes.subarray(pos, pos + n);
    pos += n;
    return b;
  };
  const line = () => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0) throw err("pickle data ends unexpectedly inside a text line");
    const s = new TextDecoder("latin1").decode(bytes.subarray(pos, end));
    pos = end + 1;
    return s;
  };
  const utf8 = (b: Uint8Array) => new TextDecoder("utf-8").decode(b);
  const pop = () => {
    if (stack.length === 0 || (marks.length && stack.length <= marks[marks.length - 1])) {
      throw err("stack underflow");
    }
    return stack.pop();
  };
  const top = () => {
    if (stack.length === 0) throw err("stack underflow");
    return stack[stack.length - 1];
  };
  const popMark = () => {
    const m = marks.pop();
    if (m === undefined) throw err("MARK expected");
    return stack.splice(m);
  };
  const findGlobal = (module: string, name: string): SafeGlobal => {
    const q = `${module}.${name}`;
    const g = options.globals.get(q);
    if (!g) {
      throw new PickleError(
        `${src}: refusing to unpickle global '${q}' (byte ${pos}): only the globals a state ` +
          `dict needs are allowed; this file may be malicious and was not executed`,
      );
    }
    return g;
  };
  const callGlobal = (f: unknown, args: unknown): unknown => {
    if (!isSafeGlobal(f)) throw err(`REDUCE on a non-callable ${describe(f)}`);
    if (!Array.isArray(args)) throw err(`REDUCE arguments are not a tuple`);
    return f.call(args);
  };
  const longFrom = (b: Uint8Array): number | bigint => {
    if (b.length === 0) return 0;
    let v = 0n;
    for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
    if (b[b.length - 1] & 0x80) v -= 1n << BigInt(8 * b.length);
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(v)
      : v;
  };
  const setItems = (d: unknown, items: unknown[]) => {
    if (!(d instanceof Map)) throw err(`SETITEM(S) on ${describe(d)}`);
    for (let i = 0; i + 1 < items.length; i += 2) d.set(items[i], items[i + 1]);
  };

  for (;;) {
    const op = u8();
    switch (op) {
      case 0x80: // PROTO
        u8();
        break;
      case 0x95: // FRAME
        u64();
        break;
      case 0x2e: // STOP
        if (stack.length !== 1) throw err(`STOP with ${stack.length} values on the stack`);
        return { value: stack[0], end: pos };
      case 0x28: // MARK
        marks.push(stack.length);
        break;
      case 0x30: // POP
        pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x4a: // BININT
        stack.push(i32());
        break;
      case 0x4b: // BININT1
        stack.push(u8());
        break;
      case 0x4d: // BININT2
        stack.push(u16());
        break;
      case 0x8a: // LONG1
        stack.push(longFrom(take(u8())));
        break;
      case 0x8b: { // LONG4
        const n = i32();
        if (n < 0) throw err("negative LONG4 length");
        stack.push(longFrom(take(n)));
        break;
      }
      case 0x49: { // INT (text)
        const s = line();
        if (s === "00") stack.push(false);
        else if (s === "01") stack.push(true);
        else stack.push(parseIntText(s, err));
        break;
      }
      case 0x4c: // LONG (text)
        stack.push(parseIntText(line().replace(/L$/, ""), err));
        break;
      case 0x46: // FLOAT (text)
        stack.push(Number(line()));
        break;
      case 0x47: { // BINFLOAT (big-endian)
        need(8);
        stack.push(dv.getFloat64(pos, false));
        pos += 8;
        break;
      }
      case 0x58: // BINUNICODE
        stack.push(utf8(take(u32())));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(utf8(take(u8())));
        break;
      case 0x8d: // BINUNICODE8
        stack.push(utf8(take(u64())));
        break;
      case 0x56: // UNICODE (text, raw-unicode-escape)
        stack.push(
          line().replace(/\\u([0-9a-fA-F]{4})/g, (_, h) => String.fromCharCode(parseInt(h, 16))),
        );
        break;
      case 0x54: { // BINSTRING (py2 str -> str)
        const n = i32();
        if (n < 0) throw err("negative BINSTRING length");
        stack.push(new TextDecoder("latin1").decode(take(n)));
        break;
      }
      case 0x55: // SHORT_BINSTRING
        stack.push(new TextDecoder("latin1").decode(take(u8())));
        break;
      case 0x53: { // STRING (text, quoted)
        const s = line();
        const q = s[0];
        if ((q !== "'" && q !== '"') || s[s.length - 1] !== q) throw err("bad STRING literal");
        stack.push(s.slice(1, -1));
        break;
      }
      case 0x42: // BINBYTES
        stack.push(take(u32()).slice());
        break;
      case 0x43: // SHORT_BINBYTES
        stack.push(take(u8()).slice());
        break;
      case 0x8e: // BINBYTES8
        stack.push(take(u64()).slice());
        break;
      case 0x96: // BYTEARRAY8
        stack.push(take(u64()).slice());
        break;
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x6c: // LIST
        stack.push(popMark());
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push([]);
        break;
      case 0x74: // TUPLE
        stack.push(popMark());
        break;
      case 0x85: // TUPLE1
        stack.push([pop()]);
        break;
      case 0x86: { // TUPLE2
        const b = pop();
        const a = pop();
        stack.push([a, b]);
        break;
      }
      case 0x87: { // TUPLE3
        const c = pop();
        const b = pop();
        const a = pop();
        stack.push([a, b, c]);
        break;
      }
      case 0x61: { // APPEND
        const v = pop();
        const l = top();
        if (!Array.isArray(l)) throw err(`APPEND to ${describe(l)}`);
        l.push(v);
        break;
      }
      case 0x65: { // APPENDS
        const items = popMark();
        const l = top();
        if (!Array.isArray(l)) throw err(`APPENDS to ${describe(l)}`);
        l.push(...items);
        break;
      }
      case 0x7d: // EMPTY_DICT
        stack.push(new PickleDict());
        break;
      case 0x64: { // DICT
        const items = popMark();
        const d = new PickleDict();
        setItems(d, items);
        stack.push(d);
        break;
      }
      case 0x73: { // SETITEM
        const v = pop();
        const k = pop();
        setItems(top(), [k, v]);
        break;
      }
      case 0x75: { // SETITEMS
        const items = popMark();
        setItems(top(), items);
        break;
      }
      case 0x8f: // EMPTY_SET
        stack.push(new Set());
        break;
      case 0x90: { // ADDITEMS
        const items = popMark();
        const s = top();
        if (!(s instanceof Set)) throw err(`ADDITEMS to ${describe(s)}`);
        for (const it of items) s.add(it);
        break;
      }
      case 0x91: // FROZENSET
        stack.push(new Set(popMark()));
        break;
      case 0x70: // PUT (text)
        memo.set(parseInt(line(), 10), top());
        break;
      case 0x71: // BINPUT
        memo.set(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(u32(), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x67: // GET (text)
      case 0x68: // BINGET
      case 0x6a: { // LONG_BINGET
        const k = op === 0x67 ? parseInt(line(), 10) : op === 0x68 ? u8() : u32();
        if (!memo.has(k)) throw err(`memo key ${k} missing`);
        stack.push(memo.get(k));
        break;
      }
      case 0x63: { // GLOBAL (text "module\nname\n")
        const module = line();
        const name = line();
        stack.push(findGlobal(module, name));
        break;
      }
      case 0x93: { // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== "string" || typeof name !== "string") {
          throw err("STACK_GLOBAL needs two strings");
        }
        stack.push(findGlobal(module, name));
        break;
      }
      case 0x52: { // REDUCE
        const args = pop();
        const f = pop();
        stack.push(callGlobal(f, args));
        break;
      }
      case 0x81: { // NEWOBJ
        const args = pop();
        const cls = pop();
        stack.push(callGlobal(cls, args));
        break;
      }
      case 0x92: { // NEWOBJ_EX
        const kwargs = pop();
        const args = pop();
        const cls = pop();
        if (kwargs instanceof Map && kwargs.size) throw err("NEWOBJ_EX with keyword arguments");
        stack.push(callGlobal(cls, args));
        break;
      }
      case 0x62: { // BUILD
        const state = pop();
        const obj = top();
        build(obj, state, err);
        break;
      }
      case 0x50: // PERSID (text)
      case 0x51: { // BINPERSID
        const pid = op === 0x50 ? line() : pop();
        if (!options.persistentLoad) throw err("persistent id found but no loader given");
        stack.push(options.persistentLoad(pid));
        break;
      }
      case 0x69: // INST
      case 0x6f: // OBJ
      case 0x82: // EXT1
      case 0x83: // EXT2
      case 0x84: // EXT4
      case 0x97: // NEXT_BUFFER
      case 0x98: // READONLY_BUFFER
        throw err(`refusing pickle opcode 0x${op.toString(16)} (not used by state dicts)`);
      default:
        throw err(`unknown pickle opcode 0x${op.toString(16)} (corrupt file?)`);
    }
  }
}

function build(obj: unknown, state: unknown, err: (why: string) => Error): void {
  if (obj instanceof PickleDict) {
    if (state instanceof Map) { for (const [k, v] of state) obj.attrs[String(k)] = v; }
    else if (state !== null) throw err(`BUILD on a dict with state ${describe(state)}`);
    return;
  }
  if (obj && typeof obj === "object" && "setState" in obj) {
    (obj as { setState(s: unknown): void }).setState(state);
    return;
  }
  if (obj instanceof PickleObject) {
    obj.state = state;
    return;
  }
  throw err(`BUILD on ${describe(obj)}`);
}

function parseIntText(s: string, err: (why: string) => Error): number | bigint {
  if (!/^[+-]?\d+$/.test(s.trim())) throw err(`bad integer literal ${JSON.stringify(s)}`);
  const v = BigInt(s.trim());
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(v)
    : v;
}

/** Whether `v` is an allow-listed global. */
export function isSafeGlobal(v: unknown): v is SafeGlobal {
  return typeof v === "object" && v !== null && "qualifiedName" in v && "call" in v;
}

/** Short description of a value for error messages. */
export function describe(v: unknown): string {
  if (v === null) return "None";
  if (isSafeGlobal(v)) return `global ${v.qualifiedName}`;
  if (Array.isArray(v)) return `tuple/list of ${v.length}`;
  if (v instanceof Uint8Array) return `bytes of ${v.length}`;
  if (typeof v === "object") return (v as object).constructor?.name ?? "object";
  return `${typeof v} ${String(v).slice(0, 40)}`;
}
