// Side-effect entry: `import '@moprune/objectives/register'` registers every
// objective type in the process-wide registry (each is defined, and so
// registered, when the catalog loads; listed in package.json `sideEffects`).
import './catalog.js';
