import { createHash } from 'node:crypto';

/**
 * JSON with object keys sorted at every level, so that two equal documents
 * serialize to the same bytes whatever order their keys were written in.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    const sorted: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) sorted[k] = (v as Record<string, unknown>)[k];
    return sorted;
  });
}

/** Hex SHA-256 of bytes or a string. */
export function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Hex SHA-256 of {@link canonicalJson}: the identity of a config. */
export function jsonSha256(value: unknown): string {
  return sha256(canonicalJson(value));
}
