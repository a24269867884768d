// Side-effect entry: `import '@moprune/objectives/register'` registers every
// objective type in the process-wide registry (listed in package.json `sideEffects`).
import { registerObjectives } from './catalog.js';

registerObjectives();
