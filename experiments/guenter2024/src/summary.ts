/**
 * `summary.md`, `summary.json` and the plots of a reproduction: every run's
 * figures, means over seeds, the accuracy-vs-FLOPs fronts per gate kind with
 * their 2-D hypervolumes, the headline point chosen on validation, the
 * per-layer survival chart and the step time per epoch next to the FLOPs.
 */
import { join } from 'node:path';
import { formatIssues, type Issue } from '@moprune/core';
import {
  barPlotSpec,
  frontsPlotSpec,
  linePlotSpec,
  machineDescription,
  machinesOf,
  markdownTable,
  renderSvg,
  writeTextAtomic,
} from '@moprune/report';
import { hypervolume, nonDominatedIndices } from '@moprune/solvers';
import { Guenter2024Error, type Net, type Sites, type UserParameters } from './configs.js';
import type { ReproduceSummary, RunResult } from './reproduce.js';

/** The runs of one setting (gate kind and user parameters) over seeds, averaged. */
export interface SettingFigures {
  readonly sites: Sites;
  readonly params: UserParameters;
  readonly seeds: readonly number[];
  readonly testAccuracy: { readonly mean: number; readonly sd: number };
  readonly validationAccuracy: { readonly mean: number; readonly sd: number };
  readonly flopsRemoved: { readonly mean: number; readonly sd: number };
  readonly paramsRemoved: { readonly mean: number; readonly sd: number };
  /** Mean blocks removed; null without blocks. */
  readonly blocksRemoved: number | null;
  readonly stepTimeRatio: number;
  /** Mean inference speed-up over the dense network (null when not timed). */
  readonly speedup: number | null;
}

/** A gate kind's front over its settings: (FLOPs kept fraction, error), non-dominated, with its hypervolume. */
export interface Front {
  readonly sites: Sites;
  /** Indices into `settings` of the points, and of the non-dominated ones. */
  readonly points: readonly number[];
  readonly front: readonly number[];
  /** 2-D hypervolume of (FLOPs kept fraction, test error) against (1, 1); and of the validation error. */
  readonly hypervolume: { readonly test: number; readonly validation: number };
}

/** The derived figures of a summary. */
export interface Analysis {
  readonly settings: readonly SettingFigures[];
  /** Index into `settings` of the dense baseline; null without one. */
  readonly dense: number | null;
  readonly fronts: readonly Front[];
  /**
   * The headline setting, chosen on validation only: of the combined (or the study's) settings whose
   * mean validation accuracy is within 1 point of the dense baseline's, the one removing the most
   * FLOPs; null when none qualifies (or there is no baseline).
   */
  readonly headline: number | null;
}

const stats = (xs: readonly number[]) => {
  const mean = xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  const sd = xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1)) : 0;
  return { mean, sd };
};

const key = (r: { sites: Sites; params: UserParameters }) =>
  r.sites === 'none' ? 'none' : `${r.sites}|${r.params.gamma}|${r.params.alpha}|${r.params.beta}`;

/** Means over seeds per setting, the fronts per gate kind, the headline. */
export function analyse(s: ReproduceSummary): Analysis {
  const groups = new Map<string, RunResult[]>();
  for (const r of s.results) groups.set(key(r), [...(groups.get(key(r)) ?? []), r]);
  const settings: SettingFigures[] = [...groups.values()].map((rs) => {
    const blocks = rs.map((r) => (r.blocks === null ? null : r.blocks.total - r.blocks.kept));
    const timed = rs.filter((r) => r.inference !== null).map((r) => r.inference!.speedup);
    return {
      sites: rs[0]!.sites,
      params: rs[0]!.params,
      seeds: rs.map((r) => r.seed),
      testAccuracy: stats(rs.map((r) => r.testAccuracy)),
      validationAccuracy: stats(rs.map((r) => r.validationAccuracy)),
      flopsRemoved: stats(rs.map((r) => r.flopsRemoved)),
      paramsRemoved: stats(rs.map((r) => r.paramsRemoved)),
      blocksRemoved: blocks.includes(null) ? null : stats(blocks as number[]).mean,
      stepTimeRatio: stats(rs.map((r) => r.stepTimeRatio)).mean,
      speedup: timed.length === 0 ? null : stats(timed).mean,
    };
  });
  const denseAt = settings.findIndex((x) => x.sites === 'none');
  const fronts: Front[] = (['units', 'layers', 'all'] as const).flatMap((sites) => {
    const points = settings.flatMap((x, i) => (x.sites === sites ? [i] : []));
    if (points.length === 0) return [];
    const xy = (err: (x: SettingFigures) => number) =>
      points.map((i) => [1 - settings[i]!.flopsRemoved.mean, err(settings[i]!)]);
    const test = xy((x) => 1 - x.testAccuracy.mean);
    const val = xy((x) => 1 - x.validationAccuracy.mean);
    const hv = (p: number[][]) => {
      const ok = p.filter((q) => q.every((v) => Number.isFinite(v) && v <= 1));
      return ok.length === 0 ? 0 : hypervolume(ok, [1, 1]);
    };
    return [
      {
        sites,
        points,
        front: nonDominatedIndices(test).map((j) => points[j]!),
        hypervolume: { test: hv(test), validation: hv(val) },
      },
    ];
  });
  let headline: number | null = null;
  if (denseAt >= 0) {
    const floor = settings[denseAt]!.validationAccuracy.mean - 0.01;
    const kind: Sites = settings.some((x) => x.sites === 'all') ? 'all' : 'units';
    settings.forEach((x, i) => {
      if (x.sites !== kind || !(x.validationAccuracy.mean >= floor)) return;
      if (headline === null || x.flopsRemoved.mean > settings[headline]!.flopsRemoved.mean) headline = i;
    });
  }
  return { settings, dense: denseAt >= 0 ? denseAt : null, fronts, headline };
}

/**
 * One summary of the runs of several: the fronts, means over seeds and the headline over runs that were
 * trained into different output directories (a γ grid run in parts, the `sites` study beside the `gamma`
 * study, seeds added later). A run found in more than one part (same name) is taken from the part with the
 * latest date (of parts with the same date, the one listed last). The merged summary's date is the latest
 * part's, its wall time the parts' sum, its study the first part's, its machine the parts' machines;
 * `sources` names the parts (pass their paths), and the Markdown report lists them.
 * @throws Guenter2024Error `INCOMPATIBLE_SUMMARIES` when there are no parts, a part is not a summary of
 * this reproduction, or the parts differ in network, data or mode (their figures are not comparable)
 */
export function mergeSummaries(
  parts: readonly ReproduceSummary[],
  sources?: readonly string[],
): ReproduceSummary {
  const where = (i: number) => sources?.[i] ?? `part ${i + 1}`;
  if (parts.length === 0) throw new Guenter2024Error('INCOMPATIBLE_SUMMARIES', 'no summaries to merge');
  if (sources !== undefined && sources.length !== parts.length)
    throw new Guenter2024Error(
      'INCOMPATIBLE_SUMMARIES',
      `${sources.length} sources named for ${parts.length} summaries`,
    );
  const issues: Issue[] = [];
  parts.forEach((p, i) => {
    if (p?.experiment !== 'guenter2024' || !Array.isArray(p.results))
      issues.push({
        path: where(i),
        message: 'is not a guenter2024 summary (summary.json of a reproduction)',
      });
  });
  if (issues.length === 0) {
    const first = parts[0]!;
    for (const field of ['net', 'data', 'mode'] as const) {
      parts.forEach((p, i) => {
        if (p[field] !== first[field])
          issues.push({
            path: `${where(i)}.${field}`,
            message: `is ${JSON.stringify(p[field])}, but ${where(0)} has ${JSON.stringify(first[field])}`,
          });
      });
    }
  }
  if (issues.length > 0)
    throw new Guenter2024Error(
      'INCOMPATIBLE_SUMMARIES',
      `cannot merge the summaries:\n${formatIssues(issues)}`,
      {
        issues,
      },
    );
  const order = parts.map((_, i) => i).sort((a, b) => parts[a]!.date.localeCompare(parts[b]!.date) || a - b);
  const byName = new Map<string, RunResult>();
  for (const i of order) for (const r of parts[i]!.results) byName.set(r.name, r);
  // Each chosen run once, in the order the parts list them (delete is true only the first time).
  const chosen = new Set(byName.values());
  const results = parts.flatMap((p) => p.results).filter((r) => chosen.delete(r));
  const latest = parts[order[order.length - 1]!]!;
  const recorded = parts.flatMap((p) => (p.machine === undefined ? [] : [p.machine]));
  return {
    experiment: 'guenter2024',
    mode: parts[0]!.mode,
    study: parts[0]!.study,
    net: parts[0]!.net,
    data: parts[0]!.data,
    seeds: [...new Set(results.map((r) => r.seed))].sort((a, b) => a - b),
    date: latest.date,
    results,
    interrupted: parts.some((p) => p.interrupted),
    wallMs: parts.reduce((t, p) => t + p.wallMs, 0),
    ...(recorded.length === 0 ? {} : { machine: machinesOf(recorded) }),
    sources: parts.map((_, i) => where(i)),
  };
}

const pct = (x: number, digits = 2) => (Number.isFinite(x) ? `${(100 * x).toFixed(digits)}%` : '—');
const pm = (s: { mean: number; sd: number }, n: number, digits = 2) =>
  n > 1 ? `${pct(s.mean, digits)} ± ${(100 * s.sd).toFixed(digits)}` : pct(s.mean, digits);
const SITE_NAMES: Readonly<Record<Sites, string>> = {
  all: 'combined (units + blocks)',
  units: 'unit-only',
  layers: 'layer-only',
  none: 'dense baseline',
};
/** A gate kind's name; LeNet-300-100's gated runs gate its input features and hidden units. */
const siteName = (sites: Sites, net: Net) =>
  net === 'lenet300' && sites === 'units' ? 'input + unit gates' : SITE_NAMES[sites];
const settingLabel = (x: { sites: Sites; params: UserParameters }, net: Net) =>
  x.sites === 'none'
    ? SITE_NAMES.none
    : `${siteName(x.sites, net)}, γ = ${x.params.gamma}, α = ${x.params.alpha}, β = ${x.params.beta}`;

/**
 * The load the inference timings ran at: one line under the settings table, and a warning when the
 * load exceeded the cores (other work shared them, so the speed-ups are not measurements).
 */
function inferenceLoad(s: ReproduceSummary): string[] {
  const timed = s.results.filter((r) => r.inference?.load !== undefined).map((r) => r.inference!.load);
  if (timed.length === 0) return [];
  const loads = timed.map((l) => l.average);
  const [lo, hi] = [Math.min(...loads), Math.max(...loads)];
  const cores = timed[0]!.cores;
  const range = lo === hi ? lo.toFixed(2) : `${lo.toFixed(2)}–${hi.toFixed(2)}`;
  const shared =
    hi > cores
      ? ` **Above the ${cores} cores: other work shared them, so these speed-ups are not measurements** — re-time the finished runs on quiet cores with \`npx tsx scripts/time-kept.ts <run dir>…\`.`
      : '';
  return [`Inference timed at a 1-minute load average of ${range} on ${cores} cores.${shared}`, ''];
}

/** The Markdown report of a summary. */
export function summaryMarkdown(s: ReproduceSummary, a: Analysis = analyse(s)): string {
  const md = [
    `# Guenter & Sideris (2024) — ${s.study} study, ${s.net} on ${s.data}`,
    '',
    `Date ${s.date}; ${s.mode} mode; seeds ${s.seeds.join(', ')}; machine: ${s.machine ?? machineDescription()}; wall time ${(s.wallMs / 60000).toFixed(1)} min${
      s.interrupted ? ' (interrupted: rerun with --resume)' : ''
    }.`,
    '',
    ...(s.sources === undefined
      ? []
      : [`Merged from ${s.sources.length} summaries: ${s.sources.map((x) => `\`${x}\``).join(', ')}.`, '']),
    'FLOPs are multiply–accumulates per sample; "kept" is the deterministic network of the end (θ > ½) compacted — what inference runs. Accuracies are of that network (BatchNorm statistics recomputed for it). Means ± sample standard deviation over seeds.',
    '',
    '## Settings',
    '',
    markdownTable(
      [
        'setting',
        'seeds',
        'test accuracy',
        'validation accuracy',
        'FLOPs removed',
        'params removed',
        'blocks removed',
        'last/first epoch step time',
        'inference speed-up (batch 128)',
      ],
      a.settings.map((x) => [
        settingLabel(x, s.net),
        String(x.seeds.length),
        pm(x.testAccuracy, x.seeds.length),
        pm(x.validationAccuracy, x.seeds.length),
        pm(x.flopsRemoved, x.seeds.length, 1),
        pm(x.paramsRemoved, x.seeds.length, 1),
        x.blocksRemoved === null ? '—' : x.blocksRemoved.toFixed(1),
        Number.isFinite(x.stepTimeRatio) ? `${x.stepTimeRatio.toFixed(2)}×` : '—',
        x.speedup === null ? '—' : `${x.speedup.toFixed(2)}×`,
      ]),
    ),
    '',
    ...inferenceLoad(s),
  ];
  if (a.fronts.length > 0) {
    md.push(
      '## Fronts (FLOPs kept vs error, reference point (1, 1))',
      '',
      markdownTable(
        ['gates', 'settings', 'non-dominated', 'hypervolume (test error)', 'hypervolume (validation error)'],
        a.fronts.map((f) => [
          siteName(f.sites, s.net),
          String(f.points.length),
          String(f.front.length),
          f.hypervolume.test.toFixed(4),
          f.hypervolume.validation.toFixed(4),
        ]),
      ),
      '',
    );
  }
  if (a.dense !== null) {
    const d = a.settings[a.dense]!;
    if (a.headline === null) {
      md.push(
        '## Headline',
        '',
        "No gated setting came within 1 point of the dense baseline's validation accuracy.",
        '',
      );
    } else {
      const h = a.settings[a.headline]!;
      md.push(
        '## Headline (chosen on validation: the most FLOPs removed within 1 point of the dense validation accuracy)',
        '',
        markdownTable(
          [
            '',
            'test accuracy',
            'drop vs dense (points)',
            'FLOPs removed',
            'blocks removed',
            'last/first epoch step time',
          ],
          [
            [
              settingLabel(h, s.net),
              pm(h.testAccuracy, h.seeds.length),
              (100 * (d.testAccuracy.mean - h.testAccuracy.mean)).toFixed(2),
              pm(h.flopsRemoved, h.seeds.length, 1),
              h.blocksRemoved === null ? '—' : h.blocksRemoved.toFixed(1),
              `${h.stepTimeRatio.toFixed(2)}×`,
            ],
            [
              settingLabel(d, s.net),
              pm(d.testAccuracy, d.seeds.length),
              '0',
              '0%',
              '0',
              `${d.stepTimeRatio.toFixed(2)}×`,
            ],
          ],
        ),
        '',
      );
    }
  }
  md.push(
    '## Runs',
    '',
    markdownTable(
      [
        'run',
        'test',
        'validation',
        'MACs built → kept',
        'params built → kept',
        'blocks kept',
        'epoch step time first → last (MACs trained)',
        'wall',
      ],
      s.results.map((r) => {
        const e0 = r.epochs[0];
        const e1 = r.epochs[r.epochs.length - 1];
        return [
          r.name,
          pct(r.testAccuracy),
          pct(r.validationAccuracy),
          `${(r.built.macs / 1e6).toFixed(2)}M → ${(r.kept.macs / 1e6).toFixed(2)}M`,
          `${r.built.params.toLocaleString('en')} → ${r.kept.params.toLocaleString('en')}`,
          r.blocks === null ? '—' : `${r.blocks.kept} / ${r.blocks.total}`,
          e0 && e1
            ? `${e0.medianStepMs.toFixed(0)} ms (${(e0.macs / 1e6).toFixed(1)}M) → ${e1.medianStepMs.toFixed(0)} ms (${(e1.macs / 1e6).toFixed(1)}M)`
            : '—',
          `${(r.wallMs / 60000).toFixed(1)} min${r.reused ? ' (reused)' : ''}`,
        ];
      }),
    ),
    '',
  );
  return `${md.join('\n')}\n`;
}

/** The run whose layers the survival chart shows: the headline setting's first seed, else the most pruned run. */
function showcase(s: ReproduceSummary, a: Analysis): RunResult | undefined {
  const gated = s.results.filter((r) => r.sites !== 'none');
  if (a.headline !== null) {
    const h = a.settings[a.headline]!;
    const r = gated.find((x) => key(x) === key(h));
    if (r) return r;
  }
  return [...gated].sort((x, y) => y.flopsRemoved - x.flopsRemoved)[0];
}

/**
 * Writes `summary.json`, `summary.md`, `front.svg` (test accuracy vs FLOPs kept, one series per gate
 * kind, the dense baseline as a reference point), `layers.svg` (filters per layer built and kept, of
 * the headline run) and `step-time.svg` (per epoch, step time and FLOPs trained relative to the first).
 * @returns the paths written
 */
export async function writeSummary(outDir: string, s: ReproduceSummary): Promise<string[]> {
  const a = analyse(s);
  const files: string[] = [];
  const write = (name: string, text: string) => {
    const p = join(outDir, name);
    writeTextAtomic(p, text);
    files.push(p);
  };
  write('summary.md', summaryMarkdown(s, a));
  write('summary.json', `${JSON.stringify({ ...s, analysis: a }, null, 2)}\n`);
  if (a.fronts.length > 0) {
    const dense = a.dense === null ? undefined : a.settings[a.dense]!;
    write(
      'front.svg',
      await renderSvg(
        frontsPlotSpec(
          a.fronts.map((f) => {
            const pts = [...f.points].sort(
              (i, j) => a.settings[j]!.flopsRemoved.mean - a.settings[i]!.flopsRemoved.mean,
            );
            return {
              name: `${siteName(f.sites, s.net)} (γ ${pts.map((i) => a.settings[i]!.params.gamma).join(', ')})`,
              x: pts.map((i) => 1 - a.settings[i]!.flopsRemoved.mean),
              y: pts.map((i) => a.settings[i]!.testAccuracy.mean),
            };
          }),
          {
            title: `Test accuracy vs FLOPs kept — ${s.net} on ${s.data}, ${s.mode} mode`,
            xTitle: 'FLOPs kept (fraction of the dense network)',
            yTitle: 'test accuracy',
            xFormat: '.0%',
            yFormat: '.1%',
            ...(dense === undefined
              ? {}
              : { references: [{ x: 1, y: dense.testAccuracy.mean, label: 'dense' }] }),
          },
        ),
      ),
    );
  }
  const show = showcase(s, a);
  if (show !== undefined && show.layers.length > 0) {
    write(
      'layers.svg',
      await renderSvg(
        barPlotSpec(
          show.layers.flatMap((l) => [
            { category: l.node, series: 'built', value: l.built },
            { category: l.node, series: 'kept', value: l.kept },
          ]),
          { title: `Units/filters per layer — ${show.name}`, xTitle: 'layer', yTitle: 'units / filters' },
        ),
      ),
    );
    if (show.epochs.length > 0) {
      const e0 = show.epochs[0]!;
      write(
        'step-time.svg',
        await renderSvg(
          linePlotSpec(
            [
              {
                name: 'median step time',
                x: show.epochs.map((e) => e.epoch + 1),
                y: show.epochs.map((e) => e.medianStepMs / e0.medianStepMs),
              },
              {
                name: 'FLOPs trained',
                x: show.epochs.map((e) => e.epoch + 1),
                y: show.epochs.map((e) => e.macs / e0.macs),
              },
            ],
            {
              title: `Training gets cheaper — ${show.name}`,
              xTitle: 'epoch',
              yTitle: 'relative to the first epoch',
              points: true,
              yFormat: '.0%',
            },
          ),
        ),
      );
    }
  }
  return files;
}
