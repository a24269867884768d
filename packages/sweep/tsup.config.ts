import { packageConfig } from '../../tooling/tsup.js';

export default packageConfig({ index: 'src/index.ts' });
