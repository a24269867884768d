import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CoreError, type ExportOptions, type Network, toLayersModel } from '@moprune/core';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

/**
 * Writes `net` (via {@link toLayersModel}) to `dir` as `model.json` +
 * `weights.bin` in the standard TensorFlow.js layers format, so a browser
 * can `tf.loadLayersModel('…/model.json')`. Each file is written to a
 * temporary name and renamed; `model.json` goes last, so it never points at
 * weights that are not there. `options` as for
 * {@link toLayersModel}.
 */
export async function saveLayersModel(net: Network, dir: string, options: ExportOptions = {}): Promise<void> {
  const model = toLayersModel(net, options);
  try {
    await model.save(
      tf.io.withSaveHandler(async (artifacts) => {
        if (!(artifacts.modelTopology && artifacts.weightSpecs && artifacts.weightData)) {
          throw new CoreError('INVALID_ARGUMENT', 'toLayersModel produced no topology or weights');
        }
        const weights = new Uint8Array(tf.io.concatenateArrayBuffers(artifacts.weightData));
        const modelJson: tf.io.ModelJSON = {
          modelTopology: artifacts.modelTopology,
          format: artifacts.format ?? 'layers-model',
          generatedBy: artifacts.generatedBy ?? `TensorFlow.js tfjs-layers v${tfl.version_layers}`,
          convertedBy: null,
          weightsManifest: [{ paths: ['./weights.bin'], weights: artifacts.weightSpecs }],
        };
        await mkdir(dir, { recursive: true });
        const tag = `.tmp-${process.pid}-${Date.now()}`;
        await writeFile(join(dir, `weights.bin${tag}`), weights);
        await rename(join(dir, `weights.bin${tag}`), join(dir, 'weights.bin'));
        await writeFile(join(dir, `model.json${tag}`), JSON.stringify(modelJson));
        await rename(join(dir, `model.json${tag}`), join(dir, 'model.json'));
        return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
      }),
    );
  } finally {
    model.dispose();
  }
}

/**
 * Loads a model written by {@link saveLayersModel} (or any tfjs layers model
 * whose manifest lists files in the same directory) from `dir` in Node.
 */
export async function loadLayersModelFromDir(dir: string): Promise<tfl.LayersModel> {
  let modelJson: tf.io.ModelJSON;
  try {
    modelJson = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8')) as tf.io.ModelJSON;
  } catch (cause) {
    throw new CoreError('INVALID_ARGUMENT', `cannot read ${join(dir, 'model.json')}`, {
      cause,
      details: { dir },
    });
  }
  const handler: tf.io.IOHandler = {
    load: () =>
      tf.io.getModelArtifactsForJSON(modelJson, async (manifest) => {
        const specs: tf.io.WeightsManifestEntry[] = [];
        const buffers: ArrayBuffer[] = [];
        for (const group of manifest) {
          specs.push(...group.weights);
          for (const p of group.paths) {
            const b = await readFile(join(dir, p));
            buffers.push(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer);
          }
        }
        return [specs, tf.io.concatenateArrayBuffers(buffers)];
      }),
  };
  return tfl.loadLayersModel(handler);
}
