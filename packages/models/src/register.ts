/**
 * Side-effect entry: importing `@moprune/models/register` registers every model
 * in `registries().models` without pulling the builders into scope (the main
 * entry registers them too).
 */
import { registerModels } from './registrations.js';

registerModels();
