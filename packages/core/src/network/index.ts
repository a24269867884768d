// Network interpreter, masks, metrics, compaction and export (see ../network-types.ts).
export {};
