// One backend's run of tfjs-core's specs (spawned by run.mjs): node child.cjs <bundle> <backend> <plan.json> <out.json> [stock]
const { readFileSync, writeFileSync } = require('node:fs');
const Jasmine = require('jasmine');

const [bundlePath, backend, planPath, outPath, mode] = process.argv.slice(2);
const plan = JSON.parse(readFileSync(planPath, 'utf8'));
const runner = new Jasmine();
runner.exitOnCompletion = false;
runner.env.configure({ random: false, stopOnSpecFailure: false });
const specs = require(bundlePath);
specs.setTestEnvs([{ name: backend, backendName: backend, isDataSync: true }]);
const include = plan.include === null ? null : plan.include.map((s) => new RegExp(s));
const exclude = plan.exclude.map((s) => new RegExp(s));
specs.setupTestFilters(
  [],
  (name) => (include === null || include.some((r) => r.test(name))) && !exclude.some((r) => r.test(name)),
);
const results = [];
let started = 0;
runner.env.addReporter({
  specStarted() {
    started = performance.now();
  },
  specDone(r) {
    if (r.status === 'excluded') return;
    results.push({
      name: r.fullName,
      status: r.status,
      ms: Math.round(performance.now() - started),
      failures: r.failedExpectations.slice(0, 3).map((f) => f.message.slice(0, 400)),
    });
  },
});
(async () => {
  const t0 = performance.now();
  const selection = mode === 'stock' ? await specs.initStock(backend) : await specs.init(backend);
  if (selection.backend !== backend) throw new Error(`asked for ${backend}, got ${selection.backend}`);
  const evidence = [];
  if (mode !== 'stock') {
    for (const d of require('./deviations.cjs').filter((d) => d.backends.includes(backend))) {
      try {
        evidence.push({ spec: d.spec(backend), ok: true, finding: await d.evidence(specs.tf, backend) });
      } catch (e) {
        evidence.push({ spec: d.spec(backend), ok: false, finding: String(e?.stack ?? e) });
      }
    }
  }
  await specs.loadSpecs();
  await runner.execute();
  writeFileSync(
    outPath,
    JSON.stringify({
      backend,
      mode: mode ?? 'moprune',
      seconds: (performance.now() - t0) / 1000,
      results,
      evidence,
    }),
  );
  process.exit(0);
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
