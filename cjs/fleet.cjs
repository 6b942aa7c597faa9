'use strict';
// require('mfrsim/fleet'): the ES module build, where this Node can require() it.
module.exports = require('./esm-only.cjs')(() => require('../dist/fleet/index.js'), 'mfrsim/fleet');
