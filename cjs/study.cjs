'use strict';
// require('mfrsim/study'): the ES module build, where this Node can require() it.
module.exports = require('./esm-only.cjs')(() => require('../dist/study/index.js'), 'mfrsim/study');
