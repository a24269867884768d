import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { type Dataset, type JsonObject, MopruneError, registries } from '@moprune/core/node';
import type { HtmlImages, HtmlModel, HtmlOptions } from '@moprune/report';
import { CliError } from './errors.js';
import { type ExportManifest, exportRun } from './export.js';

/** Options of {@link htmlReportInputs}. */
export interface HtmlInputsOptions {
  /** Test images bundled with the page. @default 200 */
  readonly images?: number;
  readonly dataDir?: string;
  readonly cacheDir?: string;
}

/** TensorFlow.js's browser bundle (every backend and the layers API in one script). */
export function tfjsBrowserBundle(): string {
  return join(dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs')), 'tf.min.js');
}

/** A known failure becomes the page's "why there is no model"; anything else is a bug and propagates. */
function reason(e: unknown): string {
  if (e instanceof MopruneError) return `${e.name} ${String(e.code)}: ${e.message}`;
  throw e;
}

/** The exported network of one run, read back as the parts `tf.io.fromMemory` takes. */
async function exportedModel(runDir: string): Promise<{ model: HtmlModel; manifest: ExportManifest }> {
  const out = mkdtempSync(join(tmpdir(), 'moprune-html-'));
  try {
    // The run's selected network: the keepBest snapshot (chosen on validation) when it has one.
    const checkpoint = existsSync(join(runDir, 'best')) ? 'best' : 'last';
    const manifest = await exportRun(runDir, join(out, 'model'), checkpoint);
    const json = JSON.parse(readFileSync(join(out, 'model', 'model.json'), 'utf8')) as {
      modelTopology: unknown;
      weightsManifest: { paths: string[]; weights: unknown[] }[];
    };
    const specs = json.weightsManifest.flatMap((g) => g.weights);
    const buffers = json.weightsManifest.flatMap((g) =>
      g.paths.map((p) => readFileSync(join(out, 'model', p))),
    );
    return {
      model: {
        modelTopology: json.modelTopology,
        weightSpecs: specs,
        weightData: new Uint8Array(Buffer.concat(buffers)),
        info: {
          inputShape: manifest.inputShape,
          source: manifest.source,
          before: manifest.before,
          after: manifest.after,
          accuracy: manifest.accuracy,
        },
      },
      manifest,
    };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/** `scale·byte/255 + offset` per channel, for datasets that say how they normalize (ArrayDataset's fields). */
function pixelMap(dataset: Dataset): HtmlImages['pixels'] {
  const d = dataset as Partial<{
    normalization: string;
    stats: { mean: readonly number[]; std: readonly number[] };
  }>;
  const c = dataset.info.inputShape[2];
  if (d.normalization === 'scale') return { scale: Array(c).fill(1), offset: Array(c).fill(0) };
  if (d.normalization === 'none') return { scale: Array(c).fill(255), offset: Array(c).fill(0) };
  if (d.normalization === 'zscore' && d.stats !== undefined) {
    return {
      scale: d.stats.std.map((s) => 1 / s),
      offset: d.stats.mean.map((m, i) => -m / d.stats!.std[i]!),
    };
  }
  return undefined;
}

/** The first `n` images of the test split of a run's dataset, as the network sees them. */
async function testImages(
  config: JsonObject,
  n: number,
  classNames: readonly (readonly string[] | null)[],
  options: HtmlInputsOptions,
): Promise<HtmlImages> {
  const dataset = await registries().datasets.create(config.dataset as JsonObject, {
    ...(options.dataDir === undefined ? {} : { dataDir: options.dataDir }),
    ...(options.cacheDir === undefined ? {} : { cacheDir: options.cacheDir }),
  });
  const count = Math.min(n, dataset.info.sizes.test);
  if (count === 0) throw new CliError('NOTHING_TO_EXPORT', `${dataset.info.name} has no test images`);
  const [batch] = dataset.batches('test', {
    batchSize: count,
    limit: count,
    shuffle: false,
    layout: 'image',
  });
  try {
    const pixels = pixelMap(dataset);
    return {
      description: `the first ${count} images of the ${dataset.info.name} test split`,
      shape: [...dataset.info.inputShape],
      x: new Float32Array(batch!.x.dataSync()),
      labels: batch!.y.map((t) => Array.from(t.dataSync())),
      classNames: dataset.info.classes.map((_, t) => classNames[t] ?? null),
      ...(pixels === undefined ? {} : { pixels }),
    };
  } finally {
    batch!.dispose();
  }
}

/**
 * What report.html's model panel shows for the run or sweep in `dir`: each
 * run's compacted network (its keepBest snapshot, else its last checkpoint),
 * and the first test images of the runs' dataset. A run whose network cannot
 * be exported (no checkpoint, an op with no LayersModel layer) and a dataset
 * whose files are absent get the reason instead, which the page shows.
 * Component modules the runs used must be registered first.
 * @param runs - run keys (`.` or a sweep's subdirectories) and their directories
 */
export async function htmlReportInputs(
  runs: readonly { readonly key: string; readonly dir: string }[],
  options: HtmlInputsOptions = {},
): Promise<HtmlOptions> {
  const n = options.images ?? 200;
  const models: Record<string, HtmlModel | { error: string }> = {};
  let first: { config: JsonObject; manifest: ExportManifest } | undefined;
  for (const { key, dir } of runs) {
    try {
      const { model, manifest } = await exportedModel(dir);
      models[key] = model;
      first ??= {
        config: JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as JsonObject,
        manifest,
      };
    } catch (e) {
      models[key] = { error: reason(e) };
    }
  }
  let images: HtmlImages | { error: string } = { error: 'no run has an exported model' };
  if (first !== undefined) {
    try {
      images = await testImages(
        first.config,
        n,
        first.manifest.outputs.map((o) => o.classNames),
        options,
      );
    } catch (e) {
      images = { error: reason(e) };
    }
  }
  return { models, images, tfjsScript: tfjsBrowserBundle() };
}
