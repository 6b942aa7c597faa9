// The API reference: TypeDoc over the five entry points with warnings as errors
// (typedoc.json), so every exported class, function, method, type and constant carries its
// documentation and every type a signature names is in the reference.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

test('TypeDoc documents every export without a warning', async () => {
  const result = await new Promise<{ code: number; output: string }>((resolve) => {
    execFile(process.execPath, [`${ROOT}node_modules/typedoc/bin/typedoc`, '--emit', 'none'], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' } }, (err, stdout, stderr) =>
      resolve({ code: err ? 1 : 0, output: stdout + stderr }));
  });
  assert.is(result.code, 0, result.output);
  assert.not.match(result.output, /warning/i);
});

test.run();
