import { packageConfig } from '../../tooling/tsup.js';

export default packageConfig({ index: 'src/index.ts', testing: 'src/testing/index.ts', kit: 'src/kit.ts' });
