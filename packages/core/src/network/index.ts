// Network interpreter, masks, metrics, compaction and export (see ../network-types.ts).
export { type CreateNetworkOptions, createNetwork, networkFromValues } from './create.js';
export { validateSpec } from './validate.js';
