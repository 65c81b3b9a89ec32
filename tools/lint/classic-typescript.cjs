// typescript-eslint needs TypeScript's classic compiler API, which TypeScript 7 (the project's
// compiler) no longer ships. For the lint process only, `require('typescript')` resolves to the
// `typescript-classic` alias (TypeScript 6) installed beside it.
const Module = require('node:module');
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  if (request === 'typescript' || request.startsWith('typescript/')) {
    request = request.replace(/^typescript/, 'typescript-classic');
  }
  return resolve.call(this, request, ...rest);
};
