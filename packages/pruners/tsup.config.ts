import { packageConfig } from '../../tooling/tsup.js';

export default packageConfig({
  index: 'src/index.ts',
  unstructured: 'src/unstructured/index.ts',
  structured: 'src/structured/index.ts',
  relevance: 'src/relevance/index.ts',
  testing: 'src/testing/index.ts',
  kit: 'src/kit.ts',
});
