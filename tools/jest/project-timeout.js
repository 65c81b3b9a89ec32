// Applies the jest project's default timeout of tests and hooks (its `globals`, set in jest.config.js).
jest.setTimeout(globalThis.LATCHKEY_TEST_TIMEOUT_MS);
