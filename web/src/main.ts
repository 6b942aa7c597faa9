// The playground page: the selftest step by step and a small study, both computed in the
// browser by mfrsim's wasm kernel (inlined into this script, so the page works from file://).
import { loadKernel } from 'mfrsim';
import wasm from 'mfrsim/kernel.wasm';
import { setUpSelftest, type SelftestPanel } from './selftest-view.js';
import { setUpStudy, type StudyPanel } from './study-view.js';

declare global {
  interface Window {
    /** The panels' state: what scripts and tests read back. */
    playground?: { ready: boolean; selftest?: SelftestPanel; study?: StudyPanel; error?: string };
  }
}

async function main(): Promise<void> {
  window.playground = { ready: false };
  try {
    await loadKernel(wasm);
    window.playground.selftest = setUpSelftest();
    window.playground.study = setUpStudy();
    window.playground.ready = true;
  } catch (err) {
    window.playground.error = err instanceof Error ? err.message : String(err);
    throw err;
  }
}

void main();
