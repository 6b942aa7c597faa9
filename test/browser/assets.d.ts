// The kernel's wasm as the browser test bundles it: esbuild's file loader gives its URL.
declare module '*.wasm' {
  const url: string;
  export default url;
}

interface Window {
  /** The playground's state (web/src/main.ts), as the browser test reads it. */
  playground?: {
    ready: boolean;
    error?: string;
    selftest?: { report: unknown };
    study?: { outcome: { report: unknown; html: string } | null; error: string | null; running: boolean };
  };
}
