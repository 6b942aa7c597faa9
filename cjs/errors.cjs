'use strict';
// require('mfrsim/errors'): the ES module build, where this Node can require() it.
module.exports = require('./esm-only.cjs')(() => require('../dist/errors/index.js'), 'mfrsim/errors');
