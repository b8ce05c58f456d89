/**
 * A recording stand-in for one memcached connection (unit tests of routing, retries, journal and
 * recovery logic only; the evidence that real memcached behaves so is in test/integration/memcached-*).
 * It keeps a key → value store, records every group it was asked to apply, and can be told to fail.
 */
import {
  MemcachedConnectionError,
  type GroupResult,
  type ServerConnection,
} from '../../../src/sinks/memcached/connection.js';
import type { GroupRequest } from '../../../src/sinks/memcached/protocol.js';
import type { ServerAddress } from '../../../src/sinks/memcached/routing.js';

export type FakeMode = 'up' | 'refuse' | 'hang';

export interface AppliedGroup {
  kind: GroupRequest['kind'];
  keys: string[];
  ttlSeconds?: number;
}

export class FakeMemcached implements ServerConnection {
  readonly address: string;
  mode: FakeMode = 'up';
  /** Groups applied (acknowledged), in order; NOOP probes are not recorded. */
  readonly applied: AppliedGroup[] = [];
  /** Every send, including failed ones and probes. */
  sends = 0;
  /** Sends per kind of group (delete, tombstone, flush, noop = probe), failed or not. */
  readonly sendsOf: Record<GroupRequest['kind'], number> = { delete: 0, tombstone: 0, flush: 0, noop: 0 };
  readonly store = new Map<string, string>();
  /** Status to answer for particular keys (e.g. 0x82 out of memory for a tombstone). */
  readonly statusFor = new Map<string, number>();
  /** Refuse this many more sends, then behave per `mode`. */
  failNextSends = 0;
  closed = false;
  /** Answer after this many ms (0: at once), to observe how many groups are in flight together. */
  delayMs = 0;
  inFlight = 0;
  maxInFlight = 0;

  constructor(server: ServerAddress) {
    this.address = server.address;
  }

  /** Keys this server acknowledged, in order, for groups of `kind`. */
  keys(kind: GroupRequest['kind'] = 'delete'): string[] {
    return this.applied.filter((g) => g.kind === kind).flatMap((g) => g.keys);
  }

  send(group: GroupRequest): Promise<GroupResult> {
    this.sends++;
    this.sendsOf[group.kind]++;
    if (this.failNextSends > 0 || this.mode === 'refuse') {
      this.failNextSends = Math.max(0, this.failNextSends - 1);
      return Promise.reject(
        new MemcachedConnectionError('MEMCACHED_CONNECTION', `${this.address}: ECONNREFUSED`),
      );
    }
    if (this.mode === 'hang') {
      return Promise.reject(new MemcachedConnectionError('MEMCACHED_TIMEOUT', `${this.address}: no answer`));
    }
    const failures = new Map<number, number>();
    if (group.kind === 'delete' || group.kind === 'tombstone') {
      group.keys.forEach((key, i) => {
        const status = this.statusFor.get(key);
        if (status !== undefined && group.kind === 'tombstone') return failures.set(i, status);
        if (group.kind === 'delete') {
          if (!this.store.delete(key)) failures.set(i, 0x0001);
        } else {
          this.store.set(key, 'TOMBSTONE');
        }
      });
      this.applied.push({
        kind: group.kind,
        keys: [...group.keys],
        ...(group.kind === 'tombstone' ? { ttlSeconds: group.ttlSeconds } : {}),
      });
    } else if (group.kind === 'flush') {
      this.store.clear();
      this.applied.push({ kind: 'flush', keys: [] });
    }
    if (this.delayMs === 0) return Promise.resolve({ failures });
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    return new Promise((resolve) =>
      setTimeout(() => {
        this.inFlight--;
        resolve({ failures });
      }, this.delayMs),
    );
  }

  close(): void {
    this.closed = true;
  }
}
