// What web/build.mjs hands the playground's code.

/** The kernel's wasm, inlined by esbuild's binary loader. */
declare module '*.wasm' {
  const bytes: Uint8Array;
  export default bytes;
}

/** The study worker's bundled source, run from a blob: URL (works from file:// too). */
declare const STUDY_WORKER_SOURCE: string;
