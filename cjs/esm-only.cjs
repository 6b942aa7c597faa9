'use strict';
// mfrsim is an ES module package. Node 20.19+ and 22.12+ load ES modules with require();
// where Node cannot, this says what to do instead of Node's ERR_REQUIRE_ESM.
module.exports = function requireEsm(load, specifier) {
  try {
    return load();
  } catch (err) {
    if (err && (err.code === 'ERR_REQUIRE_ESM' || err.code === 'ERR_REQUIRE_ASYNC_MODULE')) {
      throw new Error(
        `${specifier} is an ES module package (ESM only): use \`import ... from '${specifier}'\`, or ` +
          `\`await import('${specifier}')\` from CommonJS; require() of it needs Node 20.19+ or 22.12+`,
        { cause: err },
      );
    }
    throw err;
  }
};
