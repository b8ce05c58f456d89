/**
 * How the demo reads SIGINT/SIGTERM (src/demo.ts listenForStop): the first starts the orderly stop, the
 * same request passed along again by npm or tsx within ECHO_MS changes nothing, a later signal or an
 * orderly stop past ORDERLY_STOP_MS stops at once with 128 + the signal's number.
 */
import { EventEmitter } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ECHO_MS, listenForStop, ORDERLY_STOP_MS } from '../../../src/demo.js';

function harness() {
  const signals = new EventEmitter();
  const said: string[] = [];
  const exits: number[] = [];
  const stop = listenForStop({
    say: (msg) => said.push(msg),
    exit: (code) => exits.push(code),
    signals: signals as unknown as Pick<NodeJS.Process, 'on' | 'off'>,
  });
  const send = (sig: NodeJS.Signals) => signals.emit(sig, sig);
  return { signals, said, exits, stop, send };
}

describe('listenForStop', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('starts the orderly stop at the first signal and ignores its echoes', async () => {
    const h = harness();
    expect(h.stop.requested).toBe(false);
    h.send('SIGINT');
    expect(h.stop.requested).toBe(true);
    await expect(h.stop.first).resolves.toBeUndefined();
    vi.advanceTimersByTime(ECHO_MS - 1);
    h.send('SIGINT');
    h.send('SIGTERM');
    expect(h.exits).toEqual([]);
    expect(h.said).toEqual(['\nStopping… (Ctrl-C again to stop at once)']);
  });

  it('stops at once on a second signal, with 128 + its number', () => {
    const h = harness();
    h.send('SIGINT');
    vi.advanceTimersByTime(ECHO_MS);
    h.send('SIGTERM');
    expect(h.exits).toEqual([143]);
    expect(h.said.at(-1)).toBe('Stopping at once: every server is killed and its files removed.');
  });

  it('stops at once when the orderly stop outlasts its bound', () => {
    const h = harness();
    h.send('SIGINT');
    vi.advanceTimersByTime(ORDERLY_STOP_MS - 1);
    expect(h.exits).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(h.exits).toEqual([130]);
    expect(h.said.at(-1)).toBe('The orderly stop took more than 20 s; stopping at once.');
  });

  it('after dispose: no forced stop and no listener left', () => {
    const h = harness();
    h.send('SIGTERM');
    h.stop.dispose();
    vi.advanceTimersByTime(ORDERLY_STOP_MS * 2);
    expect(h.exits).toEqual([]);
    expect([h.signals.listenerCount('SIGINT'), h.signals.listenerCount('SIGTERM')]).toEqual([0, 0]);
  });
});
