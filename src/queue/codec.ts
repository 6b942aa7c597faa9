// Shard tasks and results as JSON text for Redis, losslessly: what structured cloning keeps
// between threads (typed arrays, bigints, NaN, infinities, -0) survives the trip, so a
// result merged from the queue is the one a worker thread would have returned.
const TAG = '$mfrsim';

type Typed = Uint8Array | Uint16Array | Uint32Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array | BigInt64Array | BigUint64Array;
const TYPED = { Uint8Array, Uint16Array, Uint32Array, Int8Array, Int16Array, Int32Array, Float32Array, Float64Array, BigInt64Array, BigUint64Array } as const;
type TypedName = keyof typeof TYPED;

function replacer(this: Record<string, unknown>, key: string, value: unknown): unknown {
  // `this[key]` is the value before any toJSON (Buffer has one).
  const raw = this[key];
  if (ArrayBuffer.isView(raw) && !(raw instanceof DataView)) {
    const bytes = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
    return { [TAG]: raw.constructor.name, b64: bytes.toString('base64') };
  }
  if (typeof value === 'bigint') return { [TAG]: 'bigint', v: value.toString() };
  if (typeof value === 'number' && (!Number.isFinite(value) || Object.is(value, -0))) return { [TAG]: 'number', v: String(Object.is(value, -0) ? '-0' : value) };
  return value;
}

function reviver(_key: string, value: unknown): unknown {
  if (value === null || typeof value !== 'object' || !(TAG in value)) return value;
  const tagged = value as { [TAG]: string; v?: string; b64?: string };
  const kind = tagged[TAG];
  if (kind === 'bigint') return BigInt(tagged.v!);
  if (kind === 'number') return tagged.v === '-0' ? -0 : Number(tagged.v);
  const Ctor = TYPED[kind as TypedName];
  if (Ctor === undefined) throw new Error(`cannot decode a value tagged ${kind}`);
  const bytes = Buffer.from(tagged.b64!, 'base64');
  // Copy into a fresh, aligned buffer of the array's own.
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return new Ctor(copy.buffer, 0, bytes.byteLength / Ctor.BYTES_PER_ELEMENT) as Typed;
}

export function encode(value: unknown): string {
  return JSON.stringify(value, replacer);
}

export function decode<T>(text: string): T {
  return JSON.parse(text, reviver) as T;
}
