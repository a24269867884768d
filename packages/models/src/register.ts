/**
 * Side-effect entry: importing `@moprune/models/register` (or the package's main
 * entry, which imports this) registers every model in `registries().models`.
 */
import { registerModels } from './registrations.js';

registerModels();
