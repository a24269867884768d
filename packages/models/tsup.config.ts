import { packageConfig } from '../../tooling/tsup.js';

export default packageConfig({
  index: 'src/index.ts',
  register: 'src/register.ts',
  testing: 'src/testing/index.ts',
});
