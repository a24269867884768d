import type { ComponentState, JsonObject, JsonValue } from '@moprune/core';
import { SolverError } from '../errors.js';

type Arrays = ComponentState['arrays'];

/** Embeds a sub-state under a prefix: json under `json[prefix]`, arrays as `${prefix}/${key}`. */
export function nestState(
  prefix: string,
  sub: ComponentState,
  json: JsonObject,
  arrays: Record<string, Arrays[string]>,
): void {
  json[prefix] = sub.json;
  for (const [k, a] of Object.entries(sub.arrays))
    arrays[`${prefix}/${k}`] = { shape: [...a.shape], data: a.data.slice() };
}

/** The sub-state embedded by {@link nestState}. */
export function unnestState(prefix: string, state: ComponentState): ComponentState {
  const json = state.json[prefix];
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new SolverError('STATE_MISMATCH', `the solver state has no '${prefix}' part`);
  }
  const arrays: Record<string, Arrays[string]> = {};
  const head = `${prefix}/`;
  for (const [k, a] of Object.entries(state.arrays)) {
    if (k.startsWith(head)) arrays[k.slice(head.length)] = a;
  }
  return { json: json as JsonObject, arrays };
}

/** Checks a state's `type` against the solver's. */
export function checkStateType(state: ComponentState, type: string): void {
  if (state.json.type !== type) {
    throw new SolverError(
      'STATE_MISMATCH',
      `cannot load a ${JSON.stringify(state.json.type)} state into a '${type}' solver`,
    );
  }
}

/** A JSON field that must be a finite number. */
export function stateNumber(state: ComponentState, key: string): number {
  const v: JsonValue | undefined = state.json[key];
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new SolverError(
      'STATE_MISMATCH',
      `solver state field '${key}' must be a finite number, got ${JSON.stringify(v)}`,
    );
  }
  return v;
}

/** A JSON field that must be a list of finite numbers (of length `n` when given). */
export function stateNumbers(state: ComponentState, key: string, n?: number): number[] {
  const v: JsonValue | undefined = state.json[key];
  if (
    !Array.isArray(v) ||
    !v.every((x) => typeof x === 'number' && Number.isFinite(x)) ||
    (n !== undefined && v.length !== n)
  ) {
    throw new SolverError(
      'STATE_MISMATCH',
      `solver state field '${key}' must be a list of ${n ?? 'some'} finite numbers, got ${JSON.stringify(v)}`,
    );
  }
  return v as number[];
}
