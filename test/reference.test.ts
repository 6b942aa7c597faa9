// The behavioural suites against the reference model.
import { defineAllBehaviour } from './behaviour/index.js';
import { RefHost } from './reference/model.js';

defineAllBehaviour('reference', (opts) => Promise.resolve(RefHost.create(opts)));
