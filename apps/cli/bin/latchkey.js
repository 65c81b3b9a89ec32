#!/usr/bin/env node
'use strict';
// The installed package's entry point: the compiled CLI sits beside it under apps/cli/src.
require('../apps/cli/src/main.js')
  .run(process.argv)
  .then((code) => {
    process.exitCode = code;
  });
