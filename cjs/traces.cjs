'use strict';
// require('mfrsim/traces'): the ES module build, where this Node can require() it.
module.exports = require('./esm-only.cjs')(() => require('../dist/traces/index.js'), 'mfrsim/traces');
