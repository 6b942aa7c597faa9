'use strict';
// require('mfrsim'): the ES module build, where this Node can require() it.
module.exports = require('./esm-only.cjs')(() => require('../dist/index.js'), 'mfrsim');
