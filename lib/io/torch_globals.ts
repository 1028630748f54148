/**
 * The allow-list of Python globals a PyTorch state-dict checkpoint may reference, each
 * re-implemented in JavaScript (nothing is executed).
 *
 * @module
 */
import { PickleDict, PickleError, PickleObject, type SafeGlobal } from "./pickle.ts";
import { checkTensorView, type TorchDType, TorchStorage, TorchTensor } from "./torch_tensor.ts";

/** A storage class global (`torch.FloatStorage`, …): a marker carrying its element type. */
export interface StorageTypeGlobal extends SafeGlobal {
  /** Element type of storages of this class. */
  readonly storageDtype: TorchDType;
}

/** Element type of each `torch.*Storage` class a checkpoint may name (the writer's inverse too). */
export const TORCH_STORAGE_TYPES: Readonly<Record<string, TorchDType>> = {
  FloatStorage: "float32",
  DoubleStorage: "float64",
  HalfStorage: "float16",
  BFloat16Storage: "bfloat16",
  LongStorage: "int64",
  IntStorage: "int32",
  ShortStorage: "int16",
  CharStorage: "int8",
  ByteStorage: "uint8",
  BoolStorage: "bool",
  UntypedStorage: "uint8",
};

function g(qualifiedName: string, call: (args: unknown[]) => unknown): SafeGlobal {
  return { qualifiedName, call };
}

function intArray(v: unknown, what: string): number[] {
  if (!Array.isArray(v) || v.some((x) => typeof x !== "number" || !Number.isInteger(x))) {
    throw new PickleError(`${what} is not a tuple of integers`);
  }
  return v as number[];
}

function rebuildTensor(args: unknown[], name: string): TorchTensor {
  const [storage, offset, size, stride, requiresGrad] = args;
  if (!(storage instanceof TorchStorage)) {
    throw new PickleError(`${name}: first argument is not a storage`);
  }
  if (typeof offset !== "number") throw new PickleError(`${name}: bad storage offset`);
  const shape = intArray(size, `${name} size`);
  const strides = intArray(stride, `${name} stride`);
  checkTensorView(storage, offset, shape, strides); // before anything is allocated
  return new TorchTensor(storage, offset, shape, strides, requiresGrad === true);
}

function numpyScalar(args: unknown[]): number | boolean {
  const [dtype, raw] = args;
  if (!(dtype instanceof PickleObject) || typeof dtype.state !== "string") {
    throw new PickleError("numpy scalar without a dtype");
  }
  const b = raw instanceof Uint8Array
    ? raw
    : typeof raw === "string"
    ? Uint8Array.from(raw, (c) => c.charCodeAt(0))
    : null;
  if (!b) throw new PickleError("numpy scalar without data");
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const t = dtype.state;
  const need = Number(t.slice(1)) || 1;
  if (b.length < need) throw new PickleError(`numpy scalar ${t}: ${b.length} bytes`);
  switch (t) {
    case "f8":
      return dv.getFloat64(0, true);
    case "f4":
      return dv.getFloat32(0, true);
    case "i8":
      return Number(dv.getBigInt64(0, true));
    case "i4":
      return dv.getInt32(0, true);
    case "u1":
      return dv.getUint8(0);
    case "b1":
      return dv.getUint8(0) !== 0;
  }
  throw new PickleError(`numpy scalar of dtype ${t} is not supported`);
}

/** Build the allow-list: storage classes, tensor/parameter rebuilders, OrderedDict, … */
export function torchSafeGlobals(): Map<string, SafeGlobal> {
  const m = new Map<string, SafeGlobal>();
  const add = (s: SafeGlobal) => m.set(s.qualifiedName, s);
  for (const [cls, dtype] of Object.entries(TORCH_STORAGE_TYPES)) {
    for (const mod of cls === "UntypedStorage" ? ["torch", "torch.storage"] : ["torch"]) {
      const st: StorageTypeGlobal = {
        qualifiedName: `${mod}.${cls}`,
        storageDtype: dtype,
        call: () => {
          throw new PickleError(`${mod}.${cls} may only appear in a storage persistent id`);
        },
      };
      add(st);
    }
  }
  add(g("collections.OrderedDict", (args) => {
    const d = new PickleDict("collections.OrderedDict");
    const items = args[0];
    if (Array.isArray(items)) {
      for (const kv of items) d.set((kv as unknown[])[0], (kv as unknown[])[1]);
    }
    return d;
  }));
  add(g("builtins.dict", () => new PickleDict()));
  add(g("torch._utils._rebuild_tensor_v2", (a) => rebuildTensor(a, "_rebuild_tensor_v2")));
  add(g("torch._utils._rebuild_tensor", (a) => rebuildTensor(a, "_rebuild_tensor")));
  add(g("torch._utils._rebuild_parameter", (a) => a[0]));
  add(g("torch._utils._rebuild_parameter_with_state", (a) => a[0]));
  add(g("torch._tensor._rebuild_from_type_v2", (a) => {
    const [func, , args] = a;
    const f = func as SafeGlobal;
    if (!f || typeof f.call !== "function" || !Array.isArray(args)) {
      throw new PickleError("_rebuild_from_type_v2: bad arguments");
    }
    return f.call(args);
  }));
  add(g("torch.Tensor", () => {
    throw new PickleError("torch.Tensor may only appear as a rebuild type");
  }));
  add(g("torch.nn.parameter.Parameter", () => {
    throw new PickleError("Parameter may only appear as a rebuild type");
  }));
  add(g("torch.Size", (a) => intArray(a[0], "torch.Size")));
  add(g("torch.device", (a) => a.map(String).join(":")));
  add(g("_codecs.encode", (a) => {
    const s = String(a[0]);
    return Uint8Array.from(s, (c) => c.charCodeAt(0) & 0xff); // latin1
  }));
  add(g("argparse.Namespace", () => new PickleObject("argparse.Namespace")));
  for (const mod of ["numpy.core.multiarray", "numpy._core.multiarray"]) {
    add(g(`${mod}.scalar`, numpyScalar));
  }
  add(g("numpy.dtype", (a) => {
    const o = new PickleObject("numpy.dtype", String(a[0]));
    // BUILD sets (version, endian, …): keep the type string only, reject big-endian data
    (o as unknown as { setState(s: unknown): void }).setState = (s: unknown) => {
      if (Array.isArray(s) && s[1] === ">") throw new PickleError("big-endian numpy data");
    };
    return o;
  }));
  return m;
}
