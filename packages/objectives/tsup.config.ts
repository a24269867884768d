import { packageConfig } from '../../tooling/tsup.js';

// Splitting puts the catalog in a shared chunk, so `./register` and `.` share
// one copy of every class (`instanceof` and the registry agree).
export default packageConfig(
  { index: 'src/index.ts', register: 'src/register.ts', testing: 'src/testing/index.ts' },
  { splitting: true },
);
