/**
 * `host:port` as the memcached sink and kafkajs take it: a host name or IPv4 address and a port
 * 1–65535. No IPv6 literal: kafkajs splits a seed broker at its first colon, and the sink would hand
 * `[::1]` to net.connect brackets and all; a host name that resolves to an IPv6 address works. The
 * config schemas and the sink use the same parse, so an address the config accepts is one the sink
 * can connect to.
 */
import { z } from 'zod';

const HOST_PORT = /^([^\s:]+):(\d{1,5})$/;

export function parseHostPort(address: string): { host: string; port: number } | undefined {
  const m = HOST_PORT.exec(address);
  const port = Number(m?.[2]);
  if (!m || port < 1 || port > 65535) return undefined;
  return { host: m[1], port };
}

/** Names the value: in a list of servers the index alone does not say which entry is wrong. */
export const hostPortSchema = z
  .string()
  .refine((s) => parseHostPort(s) !== undefined, {
    error: (issue) => `expected host:port with a port 1-65535, got ${JSON.stringify(issue.input)}`,
  })
  .describe('host:port');
