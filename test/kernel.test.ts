// The behavioural suites against the wasm kernel behind the public Host API.
import { Host } from '../src/host/host.js';
import { defineAllBehaviour } from './behaviour/index.js';

defineAllBehaviour('kernel', (opts) => Host.create(opts));
