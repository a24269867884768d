import type { ComponentState } from '@moprune/core';
import { describe, expect, it } from 'vitest';
import { checkStateType, nestState, stateNumber, stateNumbers, unnestState } from '../kit.js';

const mismatch = (message: RegExp) =>
  expect.objectContaining({
    name: 'SolverError',
    code: 'STATE_MISMATCH',
    message: expect.stringMatching(message),
  });

describe("the kit's state helpers (what a contributor's solver saves and loads with)", () => {
  it('nestState embeds a sub-state under its prefix as copies; unnestState takes back exactly that part', () => {
    const data = Float32Array.from([1, 2, 3, 4]);
    const sub: ComponentState = { json: { type: 'adam', t: 3 }, arrays: { m: { shape: [2, 2], data } } };
    const json: Record<string, never> = {};
    const arrays: Record<string, ComponentState['arrays'][string]> = {
      'opt2/m': { shape: [1], data: Float32Array.from([9]) },
      other: { shape: [1], data: Float32Array.from([7]) },
    };
    nestState('opt', sub, json, arrays);
    expect(json).toEqual({ opt: { type: 'adam', t: 3 } });
    expect(Object.keys(arrays).sort()).toEqual(['opt/m', 'opt2/m', 'other']);
    // Copies: changing the source afterwards leaves the nested state as it was saved.
    data[0] = 100;
    (sub.arrays.m!.shape as number[])[0] = 5;
    expect(Array.from(arrays['opt/m']!.data)).toEqual([1, 2, 3, 4]);
    expect(arrays['opt/m']!.shape).toEqual([2, 2]);

    const back = unnestState('opt', { json, arrays });
    expect(back.json).toEqual({ type: 'adam', t: 3 });
    // Only `opt/…` arrays, with the prefix removed ('opt2/m' shares the letters, not the prefix).
    expect(Object.keys(back.arrays)).toEqual(['m']);
    expect(Array.from(back.arrays.m!.data)).toEqual([1, 2, 3, 4]);
  });

  it('unnestState refuses a state without the part, or with a part that is not an object', () => {
    const arrays = {};
    expect(() => unnestState('opt', { json: {}, arrays })).toThrowError(mismatch(/no 'opt' part/));
    expect(() => unnestState('opt', { json: { opt: null }, arrays })).toThrowError(mismatch(/no 'opt' part/));
    expect(() => unnestState('opt', { json: { opt: [1] }, arrays })).toThrowError(mismatch(/no 'opt' part/));
    expect(() => unnestState('opt', { json: { opt: 2 }, arrays })).toThrowError(mismatch(/no 'opt' part/));
    expect(unnestState('opt', { json: { opt: {} }, arrays })).toEqual({ json: {}, arrays: {} });
  });

  it("checkStateType accepts its own type and names both types when refusing another's", () => {
    const state = (type: unknown): ComponentState => ({ json: { type } as never, arrays: {} });
    expect(() => checkStateType(state('smgd'), 'smgd')).not.toThrow();
    expect(() => checkStateType(state('madam'), 'smgd')).toThrowError(
      mismatch(/cannot load a "madam" state into a 'smgd' solver/),
    );
    expect(() => checkStateType(state(undefined), 'smgd')).toThrowError(mismatch(/into a 'smgd' solver/));
  });

  it('stateNumber and stateNumbers read finite numbers and refuse anything else, naming the field', () => {
    const state = (json: Record<string, unknown>): ComponentState => ({ json: json as never, arrays: {} });
    expect(stateNumber(state({ mu: 0.5 }), 'mu')).toBe(0.5);
    expect(stateNumber(state({ mu: -3 }), 'mu')).toBe(-3);
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, '1', null, [1], undefined]) {
      expect(() => stateNumber(state({ mu: bad }), 'mu')).toThrowError(
        mismatch(/field 'mu' must be a finite number/),
      );
    }
    expect(stateNumbers(state({ l: [1, 2.5, -3] }), 'l')).toEqual([1, 2.5, -3]);
    expect(stateNumbers(state({ l: [] }), 'l')).toEqual([]);
    expect(stateNumbers(state({ l: [1, 2] }), 'l', 2)).toEqual([1, 2]);
    expect(() => stateNumbers(state({ l: [1, 2] }), 'l', 3)).toThrowError(
      mismatch(/field 'l' must be a list of 3 finite numbers, got \[1,2\]/),
    );
    for (const bad of [[1, Number.NaN], [1, '2'], [null], 'x', { 0: 1 }, undefined]) {
      expect(() => stateNumbers(state({ l: bad }), 'l')).toThrowError(
        mismatch(/field 'l' must be a list of some finite numbers/),
      );
    }
  });
});
