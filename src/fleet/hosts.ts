// The hosts of a fleet: a list, or many copies of one host described once. A list is the
// caller's; copies are expanded shard by shard (in the worker that boots them), so a fleet
// of millions of hosts never exists as millions of objects.
import { hostSeed, type HostSpec } from './shard.js';

/** `count` hosts like `host`; fleet host i is seeded with hostSeed(seed, i) (its own random draws). */
export interface UniformFleet {
  count: number;
  host: HostSpec;
  seed: number;
}

/** A fleet's hosts: a list, or copies of one host described once. */
export type FleetHosts = readonly HostSpec[] | UniformFleet;

/** A contiguous range of a fleet's hosts, as sent to the worker that boots them. */
export type ShardHosts = HostSpec[] | UniformFleet;

/** The fleet is copies of one host. */
export function isUniform(hosts: FleetHosts): hosts is UniformFleet {
  return !Array.isArray(hosts);
}

/** Hosts in the fleet. */
export function fleetSize(hosts: FleetHosts): number {
  return isUniform(hosts) ? hosts.count : hosts.length;
}

/** Hosts [first, first + count) of the fleet, still compact when the fleet is uniform. */
export function shardOf(hosts: FleetHosts, first: number, count: number): ShardHosts {
  return isUniform(hosts) ? { count, host: hosts.host, seed: hosts.seed } : hosts.slice(first, first + count);
}

/** The host specs of a shard whose first host is fleet host `firstHost`. */
export function expandShard(hosts: ShardHosts, firstHost: number): HostSpec[] {
  if (Array.isArray(hosts)) return hosts;
  const { count, host, seed } = hosts as UniformFleet;
  return Array.from({ length: count }, (_, i) => ({ ...host, seed: hostSeed(seed, firstHost + i) }));
}

/** The distinct host specs of a fleet (one for a uniform fleet), for planning its memory. */
export function distinctSpecs(hosts: FleetHosts): Iterable<HostSpec> {
  return isUniform(hosts) ? [hosts.host] : hosts;
}
