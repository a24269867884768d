import { type Mode, type ReproduceOptions, type ReproduceSummary, reproduce } from './reproduce.js';

/** Options the `moprune reproduce reiners2020` command passes to {@link definition}'s `run`. */
export interface DefinitionRunOptions {
  readonly mode: Mode;
  readonly outDir: string;
  readonly seed?: number;
  readonly resume?: boolean;
  readonly signal?: AbortSignal;
  readonly onProgress?: ReproduceOptions['onProgress'];
  /** Any other {@link ReproduceOptions} (part, strategy, regrow, dataDir …). */
  readonly extra?: Omit<ReproduceOptions, 'mode' | 'outDir' | 'seed' | 'resume' | 'signal' | 'onProgress'>;
}

/**
 * This experiment for an experiment registry (the `moprune reproduce` command):
 * its name, what it runs, the modes it offers, and `run`, which is {@link reproduce}.
 */
export const definition = {
  name: 'reiners2020',
  description:
    'Reiners, Klamroth & Stiglmayr (2020): SMGD/MAdam + intra-training pruning of LeNet-5 on MNIST, weighted-sum knee search (grid, bisection, dichotomic), Adam/SGD + l1 baselines, VGG-like on CIFAR-10',
  modes: {
    quick: 'reduced data and epochs: minutes on 2 cores, a front of >= 5 non-dominated points',
    full: "the paper's settings: 30 epochs at batch 32 (LeNet-5), 10-epoch knee candidates, 125 epochs (VGG)",
  },
  run(options: DefinitionRunOptions): Promise<ReproduceSummary> {
    return reproduce({
      ...(options.extra ?? {}),
      mode: options.mode,
      outDir: options.outDir,
      ...(options.seed === undefined ? {} : { seed: options.seed }),
      ...(options.resume === undefined ? {} : { resume: options.resume }),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
      ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
    });
  },
} as const;
