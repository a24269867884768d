// Inference of finished runs' kept networks against the dense network as built, at batch 128
// (alternating rounds, medians) — the reproduction's own figure, re-measured when the cores are
// quiet (the run measures it at its end, beside whatever else the machine is doing).
//
//   npx tsx scripts/time-kept.ts <runDir> [<runDir> …]      (from experiments/guenter2024)
//
// A run directory is one of `reproduce`'s (config.json + final/); ResNet runs on 32×32×1 inputs.
// MOPRUNE_NATIVE_THREADS sets the native backend's threads. One JSON line per run.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { initBackend } from '@moprune/backend';
import {
  createNetwork,
  type GateValues,
  type JsonObject,
  loadNetworkSnapshot,
  registries,
} from '@moprune/core/node';
import { measureKept, timeInference } from '../src/index.js';

const dirs = process.argv.slice(2);
if (dirs.length === 0) {
  console.error('usage: npx tsx scripts/time-kept.ts <runDir> [<runDir> …]');
  process.exit(2);
}
await initBackend({ backend: 'native' });
for (const dir of dirs) {
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as JsonObject;
  const snap = loadNetworkSnapshot(join(dir, 'final'));
  if (snap === undefined) throw new Error(`${dir}: no final/ network (the run has not completed)`);
  const lenet = (config.model as JsonObject).type === 'lenet-300-100';
  const spec = registries().models.create(config.model as JsonObject, {
    inputShape: lenet ? [28, 28, 1] : [32, 32, 1],
    classes: [10],
  });
  const built = createNetwork(spec, { seed: 0 });
  const gates = (snap.extra.gates ?? {}) as unknown as Record<string, GateValues>;
  const kept = measureKept(snap.net, built, gates);
  const t = timeInference(built, kept.net, 11);
  const flopsRatio = kept.built.macs / kept.kept.macs;
  console.log(
    JSON.stringify({ run: config.name, flopsRatio, ...t, speedupOverFlopsRatio: t.speedup / flopsRatio }),
  );
  for (const n of [snap.net, built, kept.net]) n.dispose();
}
