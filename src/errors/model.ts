// A fleet's model, built once from its configuration and shared by every host's simulation.
import type { GeneratorConfig } from './config.js';
import { DimmArrivals, HOURS_PER_YEAR } from './faults.js';
import { makeMapping, type DramMapping } from './mapping.js';
import { makeTopology, type Topology } from './topology.js';

export interface FleetModel {
  readonly config: GeneratorConfig;
  readonly topology: Topology;
  readonly mapping: DramMapping;
  readonly arrivals: DimmArrivals;
  /** Length of the stream in hours. */
  readonly endHours: number;
  /** Year windows (the last may be partial). */
  readonly windows: number;
}

export function makeFleetModel(config: GeneratorConfig): FleetModel {
  const topology = makeTopology(config.topology);
  return {
    config,
    topology,
    mapping: makeMapping(config.mapping, topology, config.physBase),
    arrivals: new DimmArrivals(topology, config.dram),
    endHours: config.years * HOURS_PER_YEAR,
    windows: Math.ceil(config.years),
  };
}
