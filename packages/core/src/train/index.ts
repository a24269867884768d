// Training loop, optimizers, schedules, checkpoints and experiment configs.
export {};
