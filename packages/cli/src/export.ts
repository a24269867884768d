import { existsSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import {
  type CompactGates,
  type ComponentState,
  compact,
  evaluationGates,
  type GateValues,
  type JsonObject,
  loadLatestCheckpoint,
  loadNetworkSnapshot,
  type Network,
  networkFromState,
  networkMetrics,
  type Pruner,
  Rng,
  registries,
  saveLayersModel,
  writeJsonAtomic,
} from '@moprune/core/node';
import * as tf from '@tensorflow/tfjs-core';
import { CliError } from './errors.js';

/** Which network of a run {@link exportRun} exports. */
export type ExportCheckpoint = 'best' | 'last';

/** What {@link exportRun} writes as `export.json` beside `model.json`. */
export interface ExportManifest {
  readonly format: 'moprune-export';
  readonly version: 1;
  /** The TensorFlow.js LayersModel (`tf.loadLayersModel('<dir>/model.json')`). */
  readonly model: 'model.json';
  /** The run it came from: directory, network name, checkpoint and its step. */
  readonly source: {
    readonly runDir: string;
    readonly name: string;
    readonly checkpoint: ExportCheckpoint;
    readonly step: number;
  };
  /** Per-sample input shape the model takes (`[null, ...inputShape]` batches). */
  readonly inputShape: readonly number[];
  /** One entry per model output (task): its classes, named where the dataset's classes have names. */
  readonly outputs: readonly { readonly classes: number; readonly classNames: readonly string[] | null }[];
  /** Parameters and multiply-accumulates of the network as trained and after compaction. */
  readonly before: { readonly params: number; readonly macs: number };
  readonly after: { readonly params: number; readonly macs: number };
  /** The run's accuracy per task on the splits it evaluated (for `best`: at the kept epoch). */
  readonly accuracy: {
    readonly validation: readonly number[] | null;
    readonly test: readonly number[] | null;
  };
  readonly createdAt: string;
}

/** Class names of the datasets whose classes have names (by dataset `type`). */
const CLASS_NAMES: Readonly<Record<string, readonly (readonly string[])[]>> = {
  mnist: [['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']],
  'fashion-mnist': [
    [
      'T-shirt/top',
      'Trouser',
      'Pullover',
      'Dress',
      'Coat',
      'Sandal',
      'Shirt',
      'Sneaker',
      'Bag',
      'Ankle boot',
    ],
  ],
  cifar10: [['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck']],
};

const readJson = (file: string): JsonObject => JSON.parse(readFileSync(file, 'utf8')) as JsonObject;

const accuracyOf = (e: unknown): number[] | null => {
  const a = (e as { accuracy?: unknown } | null | undefined)?.accuracy;
  return Array.isArray(a) && a.every((x) => typeof x === 'number') ? (a as number[]) : null;
};

/** Gate values as `compact` takes them. */
const plainGates = (g: Readonly<Record<string, GateValues>>): CompactGates =>
  Object.fromEntries(Object.entries(g).map(([site, v]) => [site, [...v.values]]));

/**
 * The evaluation gates of a training checkpoint: the run's pruners rebuilt from
 * its config, their state and variables restored from the checkpoint (as a
 * resumed run restores them), asked for their deterministic gates.
 */
function checkpointGates(net: Network, state: ComponentState, config: JsonObject): CompactGates {
  const saved = (state.json.pruners ?? []) as JsonObject[];
  const pruners: Pruner[] = [];
  try {
    for (const [i, pc] of ((config.pruners ?? []) as JsonObject[]).entries()) {
      const p = registries().pruners.create(pc, undefined);
      pruners.push(p);
      p.init({ net, rng: Rng.fromSeed(0), totalSteps: 1, stepsPerEpoch: 1 });
      const prefix = `pruner/${i}/`;
      const arrays = Object.fromEntries(
        Object.entries(state.arrays)
          .filter(([k]) => k.startsWith(prefix))
          .map(([k, v]) => [k.slice(prefix.length), v]),
      );
      p.load({ json: saved[i] ?? {}, arrays });
      for (const [k, v] of (p.variables ? p.variables() : []).entries()) {
        const a = state.arrays[`prunerVar/${i}/${k}`];
        if (a !== undefined) tf.tidy(() => v.assign(tf.tensor(a.data, [...a.shape], 'float32')));
      }
    }
    return plainGates(evaluationGates(pruners));
  } finally {
    for (const p of pruners) p.dispose?.();
  }
}

/** The network and its evaluation gates of `runDir` at `checkpoint`. */
function loadRunNetwork(
  runDir: string,
  checkpoint: ExportCheckpoint,
  config: JsonObject,
): { net: Network; step: number; gates: CompactGates | undefined } {
  if (checkpoint === 'best') {
    const snap = loadNetworkSnapshot(join(runDir, 'best'));
    if (snap === undefined) {
      throw new CliError(
        'NOTHING_TO_EXPORT',
        `${runDir} has no best/ snapshot (the run did not use training.keepBest); export the last checkpoint with --checkpoint last`,
        { details: { dir: join(runDir, 'best') } },
      );
    }
    const gates = snap.extra.gates as Record<string, GateValues> | undefined;
    return { net: snap.net, step: snap.step, gates: gates === undefined ? undefined : plainGates(gates) };
  }
  const ckpt = loadLatestCheckpoint(join(runDir, 'checkpoint'), { quarantine: false });
  if (ckpt === undefined) {
    throw new CliError('NOTHING_TO_EXPORT', `${runDir} has no checkpoint to export`, {
      details: { dir: join(runDir, 'checkpoint') },
    });
  }
  const net = networkFromState(ckpt.state);
  try {
    return {
      net,
      step: ckpt.step,
      gates: net.gateSites.length === 0 ? undefined : checkpointGates(net, ckpt.state, config),
    };
  } catch (e) {
    net.dispose();
    throw e;
  }
}

/**
 * Exports the network of a run directory as a TensorFlow.js LayersModel that
 * stock `@tensorflow/tfjs` loads with `tf.loadLayersModel` (no moprune code
 * needed where it runs): the network at `checkpoint` (`last`: the newest
 * checkpoint; `best`: the `training.keepBest` snapshot, with the evaluation
 * gates saved beside it) is **compacted** — pruned units, filters and gated-off
 * blocks removed — and written to `outDir` as `model.json` + `weights.bin`, with
 * `export.json` ({@link ExportManifest}). A network trained on flat batches
 * (`training.layout: 'flat'`) takes flat inputs.
 * A gated network is compacted with its evaluation gates (a closed unit or
 * block goes): from the best/ snapshot, where they are saved, or, for the last
 * checkpoint, from the run's pruners rebuilt from its config and restored from
 * the checkpoint (component modules the run used must be loaded).
 * Everything is written into a temporary sibling of `outDir` and renamed into
 * place at the end, so a failed export leaves nothing behind.
 * @throws CliError `NOTHING_TO_EXPORT` without the checkpoint; `GATES_UNKNOWN` for gates no pruner
 *   of the run decides; `OUTPUT_EXISTS` when `outDir` is a non-empty directory (or a file) and
 *   `options.force` is not set; CoreError `UNSUPPORTED_OP`
 *   naming the node that has no LayersModel equivalent (self-attention, positional embeddings).
 */
export async function exportRun(
  runDir: string,
  outDir: string,
  checkpoint: ExportCheckpoint = 'last',
  options: { readonly force?: boolean } = {},
): Promise<ExportManifest> {
  const configFile = join(runDir, 'config.json');
  if (!existsSync(configFile)) {
    throw new CliError('NOTHING_TO_EXPORT', `${runDir} is not a run directory (no config.json)`, {
      details: { dir: runDir },
    });
  }
  if (existsSync(outDir) && options.force !== true) {
    let entries: string[];
    try {
      entries = readdirSync(outDir);
    } catch {
      entries = ['(not a directory)'];
    }
    if (entries.length > 0) {
      throw new CliError(
        'OUTPUT_EXISTS',
        `${outDir} exists and is not empty; choose another --out, or --force to replace it`,
        { details: { dir: outDir } },
      );
    }
  }
  const tmp = join(dirname(outDir), `.${basename(outDir)}.tmp-${process.pid}-${Date.now()}`);
  try {
    const manifest = await writeExport(runDir, tmp, checkpoint);
    rmSync(outDir, { recursive: true, force: true });
    renameSync(tmp, outDir);
    return manifest;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** {@link exportRun}'s work, into `dir`. */
async function writeExport(
  runDir: string,
  dir: string,
  checkpoint: ExportCheckpoint,
): Promise<ExportManifest> {
  const config = readJson(join(runDir, 'config.json'));
  const resultFile = join(runDir, 'result.json');
  const result = existsSync(resultFile) ? readJson(resultFile) : {};
  const { net, step, gates } = loadRunNetwork(runDir, checkpoint, config);
  let small: Network | undefined;
  try {
    const unset = net.gateSites.filter((site) => gates?.[site.id] === undefined).map((site) => site.id);
    if (unset.length > 0) {
      throw new CliError(
        'GATES_UNKNOWN',
        `network '${net.spec.name}' has gates (${unset.join(', ')}) that no pruner of the run decides, so their evaluation values are unknown`,
        { details: { dir: runDir, sites: unset } },
      );
    }
    small = compact(net, gates === undefined ? {} : { gates });
    const training = (config.training ?? {}) as JsonObject;
    const flat = training.layout === 'flat';
    const inputShape = flat ? [net.spec.inputShape.reduce((a, b) => a * b, 1)] : [...net.spec.inputShape];
    await saveLayersModel(small, dir, flat ? { inputShape } : {});
    const m = networkMetrics(net);
    const after = networkMetrics(small).dense;
    const datasetType = String((config.dataset as JsonObject | undefined)?.type ?? '');
    const names = CLASS_NAMES[datasetType];
    // Classes per output: the last axis of each output on one zero sample.
    const probe = tf.zeros([1, ...small.spec.inputShape]);
    const outs = small.apply(probe);
    const classCounts = outs.map((o) => o.shape[o.shape.length - 1] ?? 0);
    tf.dispose([probe, ...outs]);
    const outputs = classCounts.map((classes, i) => {
      const named = names?.[i];
      return { classes, classNames: named !== undefined && named.length === classes ? [...named] : null };
    });
    const best = result.best as JsonObject | null | undefined;
    const source = checkpoint === 'best' && best ? best : result;
    const manifest: ExportManifest = {
      format: 'moprune-export',
      version: 1,
      model: 'model.json',
      source: { runDir, name: net.spec.name, checkpoint, step },
      inputShape,
      outputs,
      before: { params: m.dense.params, macs: m.dense.macs },
      after: { params: after.params, macs: after.macs },
      accuracy: { validation: accuracyOf(source.validation), test: accuracyOf(source.test) },
      createdAt: new Date().toISOString(),
    };
    writeJsonAtomic(join(dir, 'export.json'), manifest as unknown as JsonObject);
    return manifest;
  } finally {
    small?.dispose();
    net.dispose();
  }
}
