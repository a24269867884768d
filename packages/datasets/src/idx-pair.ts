import { DatasetError } from './errors.js';
import { readIdx } from './idx.js';

/** Images and labels of one IDX image/label file pair. */
export interface LabeledImages {
  /** `count × H·W` bytes. */
  readonly images: Uint8Array;
  /** `count` labels. */
  readonly labels: Uint8Array;
  readonly count: number;
}

/**
 * Reads an IDX image file (`[n, rows, cols]`) and its label file (`[n]`) and
 * checks that they belong together: the image size, equal counts and labels below `classes`.
 * @throws DatasetError `BAD_DIMENSIONS`, `COUNT_MISMATCH`, `LABEL_OUT_OF_RANGE` and the errors of {@link readIdx}
 */
export async function readIdxPair(
  imagesFile: string,
  labelsFile: string,
  imageSize: readonly [number, number],
  classes: number,
): Promise<LabeledImages> {
  const [images, labels] = await Promise.all([
    readIdx(imagesFile, { rank: 3 }),
    readIdx(labelsFile, { rank: 1 }),
  ]);
  const [n, rows, cols] = images.shape as [number, number, number];
  if (rows !== imageSize[0] || cols !== imageSize[1]) {
    throw new DatasetError(
      'BAD_DIMENSIONS',
      `${imagesFile}: images are ${rows}×${cols}, expected ${imageSize[0]}×${imageSize[1]}`,
      { details: { file: imagesFile, shape: images.shape } },
    );
  }
  const m = labels.shape[0]!;
  if (m !== n) {
    throw new DatasetError(
      'COUNT_MISMATCH',
      `${imagesFile} holds ${n} images but ${labelsFile} holds ${m} labels`,
      { details: { file: labelsFile, images: n, labels: m } },
    );
  }
  const bad = labels.data.findIndex((l) => l >= classes);
  if (bad >= 0) {
    throw new DatasetError(
      'LABEL_OUT_OF_RANGE',
      `${labelsFile}: label ${labels.data[bad]} at index ${bad} is not a class in [0, ${classes})`,
      { details: { file: labelsFile, index: bad, label: labels.data[bad] } },
    );
  }
  return { images: images.data, labels: labels.data, count: n };
}
