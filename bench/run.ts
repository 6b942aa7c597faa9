// `npm run bench`: runs every suite on this machine, prints the headline figures and writes
// bench/results.json. Suites: api, replay, startup, traces, errors, study, queue, memory
// (`--only=api,replay` picks some and keeps the other suites' last figures in the file;
// `ranAt` says when each ran).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { benchApi } from './api.bench.js';

type Suite = () => Promise<Record<string, unknown>>;

async function suites(): Promise<Record<string, Suite>> {
  const all: Record<string, Suite> = { api: benchApi };
  const optional: [string, string, string][] = [
    ['replay', './replay.bench.js', 'benchReplay'],
    ['startup', './startup.bench.js', 'benchStartup'],
    ['traces', './traces.bench.js', 'benchTraces'],
    ['errors', './errors.bench.js', 'benchErrors'],
    ['study', './study.bench.js', 'benchStudy'],
    ['queue', './queue.bench.js', 'benchQueue'],
    ['memory', './memory.bench.js', 'benchMemory'],
  ];
  for (const [name, file, fn] of optional) {
    const mod = (await import(file)) as Record<string, Suite>;
    all[name] = mod[fn]!;
  }
  return all;
}

const only = process.argv.find((a) => a.startsWith('--only='))?.slice(7).split(',');
const file = new URL('./results.json', import.meta.url);
const previous = only && existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>) : {};
const results: Record<string, unknown> = {
  ...previous,
  machine: { cpu: cpus()[0]?.model, cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version },
  date: new Date().toISOString(),
};
const ranAt = { ...(previous.ranAt as Record<string, string> | undefined) };
results.ranAt = ranAt;
for (const [name, run] of Object.entries(await suites())) {
  if (only && !only.includes(name)) continue;
  process.stderr.write(`bench: ${name} ...\n`);
  const t = performance.now();
  results[name] = await run();
  ranAt[name] = new Date().toISOString();
  process.stderr.write(`bench: ${name} done in ${((performance.now() - t) / 1000).toFixed(1)} s\n`);
  process.stdout.write(`${name}: ${JSON.stringify(results[name], null, 2)}\n`);
}
writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
process.stderr.write(`bench: wrote ${file.pathname}\n`);
