/** ESM + ts-jest (useESM, run under --experimental-vm-modules). Type errors are caught by `tsc --noEmit`. */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true }] },
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  setupFiles: ['<rootDir>/test/emf-environment.ts', '<rootDir>/test/quiet-stdout.ts'],
  globalSetup: '<rootDir>/test/global-setup.mjs',
  globalTeardown: '<rootDir>/test/global-teardown.mjs',
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  testTimeout: 30000,
  // Every request writes an EMF line to stdout; tests that read output capture it themselves.
  silent: true,
};
