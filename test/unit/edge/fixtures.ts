/** Shared test material for the edge unit tests: fixed keys, a settable clock, recorded metrics. */
import { KeyRing } from '../../../src/edge/keys.js';
import type { EdgeMetrics } from '../../../src/edge/metrics.js';
import type { LocalState } from '../../../src/edge/types.js';

export const SECRET_A = 'a'.repeat(32) + '-first-key-secret';
export const SECRET_B = 'b'.repeat(32) + '-second-key-secret';
export const ringA = KeyRing.parse([`ka:${SECRET_A}`], 'test');
/** After rotation: kb signs, ka still verifies. */
export const ringBA = KeyRing.parse([`kb:${SECRET_B}`, `ka:${SECRET_A}`], 'test');
export const ringB = KeyRing.parse([`kb:${SECRET_B}`], 'test');

export const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);

export class Clock {
  constructor(public t = T0) {}
  now = (): number => this.t;
  advance(ms: number): void {
    this.t += ms;
  }
}

/** Metrics that record what they were told, in order. */
export class RecordingMetrics implements EdgeMetrics {
  readonly decisions: string[] = [];
  readonly rejected: string[] = [];
  cookiesSet = 0;
  readonly states: boolean[] = [];
  decision(region: string, reason: string): void {
    this.decisions.push(`${region}/${reason}`);
  }
  cookieRejected(why: string): void {
    this.rejected.push(why);
  }
  cookieSet(): void {
    this.cookiesSet++;
  }
  localState(state: LocalState): void {
    this.states.push(state.healthy);
  }
}
