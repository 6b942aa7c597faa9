// Inputs for the fuzz targets: seeds from the committed corpus, changed by a few random edits
// (bytes flipped, set, inserted, deleted, duplicated, cut; tokens of the format inserted;
// another seed spliced in), or purely random bytes; for JSON loaders, edits of the parsed
// document (a value replaced by an odd one, a key deleted or added). Everything is drawn by
// fast-check, so a run is reproduced by its seed and a failure is shrunk.
import fc from 'fast-check';

type Edit =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'set'; at: number; value: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'token'; at: number; token: number }
  | { kind: 'delete'; at: number; length: number }
  | { kind: 'duplicate'; at: number; length: number; to: number }
  | { kind: 'cut'; at: number }
  | { kind: 'splice'; seed: number; from: number; length: number; at: number };

const position = fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true });

const edit: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: position, bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('set' as const), at: position, value: fc.constantFrom(0, 0x0a, 0x20, 0x2c, 0x30, 0x7f, 0x80, 0xff) }),
  fc.record({ kind: fc.constant('insert' as const), at: position, bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
  fc.record({ kind: fc.constant('token' as const), at: position, token: fc.nat() }),
  fc.record({ kind: fc.constant('delete' as const), at: position, length: fc.integer({ min: 1, max: 64 }) }),
  fc.record({ kind: fc.constant('duplicate' as const), at: position, length: fc.integer({ min: 1, max: 256 }), to: position }),
  fc.record({ kind: fc.constant('cut' as const), at: position }),
  fc.record({ kind: fc.constant('splice' as const), seed: fc.nat(), from: position, length: fc.integer({ min: 1, max: 512 }), at: position }),
);

function applyEdit(input: Uint8Array, e: Edit, seeds: readonly Uint8Array[], tokens: readonly Uint8Array[]): Uint8Array {
  const n = input.length;
  const at = (f: number, len = n) => Math.floor(f * (len + 1));
  const join = (...parts: Uint8Array[]) => Buffer.concat(parts);
  switch (e.kind) {
    case 'flip':
    case 'set': {
      if (n === 0) return input;
      const out = Uint8Array.from(input);
      const i = Math.min(n - 1, at(e.at, n - 1));
      out[i] = e.kind === 'flip' ? out[i]! ^ (1 << e.bit) : e.value;
      return out;
    }
    case 'insert':
      return join(input.subarray(0, at(e.at)), e.bytes, input.subarray(at(e.at)));
    case 'token':
      return tokens.length === 0 ? input : join(input.subarray(0, at(e.at)), tokens[e.token % tokens.length]!, input.subarray(at(e.at)));
    case 'delete':
      return join(input.subarray(0, at(e.at)), input.subarray(at(e.at) + e.length));
    case 'duplicate': {
      const from = at(e.at);
      const part = input.subarray(from, from + e.length);
      return join(input.subarray(0, at(e.to)), part, input.subarray(at(e.to)));
    }
    case 'cut':
      return input.subarray(0, at(e.at));
    case 'splice': {
      const other = seeds[e.seed % seeds.length]!;
      const from = at(e.from, other.length);
      return join(input.subarray(0, at(e.at)), other.subarray(from, from + e.length), input.subarray(at(e.at)));
    }
  }
}

/** Bytes: a seed with one to eight edits, or random bytes. */
export function bytesInput(seeds: readonly Uint8Array[], tokens: readonly string[]): fc.Arbitrary<Uint8Array> {
  const tokenBytes = tokens.map((t) => Buffer.from(t, 'latin1'));
  const edited = fc
    .tuple(fc.nat(), fc.array(edit, { minLength: 1, maxLength: 8 }))
    .map(([i, edits]) => edits.reduce((b, e) => applyEdit(b, e, seeds, tokenBytes), seeds[i % seeds.length]!));
  return seeds.length === 0
    ? fc.uint8Array({ maxLength: 1024 })
    : fc.oneof({ weight: 1, arbitrary: fc.uint8Array({ maxLength: 1024 }) }, { weight: 6, arbitrary: edited });
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Values that break careless validation: negative, fractional, huge, unsafe, wrong types. */
const oddValue: fc.Arbitrary<Json> = fc.oneof(
  fc.constantFrom<Json>(-1, 0, 0.5, 1e308, -1e308, 2 ** 53 + 1, 2 ** 32, 4294967296.5, '', 'x', '0x', '2M', '1G', '-1', null, true, [], {}),
  fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>,
);

type JsonEdit = { kind: 'replace'; node: number; value: Json } | { kind: 'delete'; node: number } | { kind: 'add'; node: number; key: string; value: Json };

const jsonEdit: fc.Arbitrary<JsonEdit> = fc.oneof(
  fc.record({ kind: fc.constant('replace' as const), node: fc.nat(), value: oddValue }),
  fc.record({ kind: fc.constant('delete' as const), node: fc.nat() }),
  fc.record({ kind: fc.constant('add' as const), node: fc.nat(), key: fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('poisson', 'hostz', '__proto__', 'constructor')), value: oddValue }),
);

/** Every container and value of a document with its parent and key, in document order. */
function nodes(doc: Json): { parent: Json[] | { [key: string]: Json } | null; key: string | number; value: Json }[] {
  const out: { parent: Json[] | { [key: string]: Json } | null; key: string | number; value: Json }[] = [{ parent: null, key: '', value: doc }];
  for (let i = 0; i < out.length; i++) {
    const v = out[i]!.value;
    if (Array.isArray(v)) v.forEach((x, k) => out.push({ parent: v, key: k, value: x }));
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) out.push({ parent: v, key: k, value: x });
  }
  return out;
}

function applyJsonEdit(doc: Json, e: JsonEdit): Json {
  const copy = structuredClone(doc);
  const all = nodes(copy);
  const target = all[e.node % all.length]!;
  if (e.kind === 'add') {
    const v = target.value;
    if (Array.isArray(v)) v.push(e.value);
    else if (v && typeof v === 'object') Object.defineProperty(v, e.key, { value: e.value, enumerable: true, writable: true, configurable: true });
    return copy;
  }
  if (target.parent === null) return e.kind === 'replace' ? e.value : copy;
  if (e.kind === 'replace') (target.parent as Record<string | number, Json>)[target.key] = e.value;
  else if (Array.isArray(target.parent)) target.parent.splice(target.key as number, 1);
  else delete target.parent[target.key as string];
  return copy;
}

/** JSON documents: a seed with one to four edits, or any JSON value. */
export function jsonInput(seeds: readonly Json[]): fc.Arbitrary<Json> {
  const edited = fc
    .tuple(fc.nat(), fc.array(jsonEdit, { minLength: 1, maxLength: 4 }))
    .map(([i, edits]) => edits.reduce(applyJsonEdit, seeds[i % seeds.length]!));
  return fc.oneof({ weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json> }, { weight: 6, arbitrary: edited });
}

export type { Json };
