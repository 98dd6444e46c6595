import { createDefaultEsmPreset } from 'ts-jest';

/**
 * The live tier (`npm run test:live`): the real agent against a real Asterisk (Debian sid's package,
 * run from a chroot by scripts/live-env.sh with docker/asterisk/etc) and sipp phones and carrier.
 * Root only; `scripts/live-env.sh setup` (or .ci/live) prepares the machine. One Asterisk serves every
 * test file, so the files run one at a time.
 * @type {import('jest').Config}
 */
export default {
  ...createDefaultEsmPreset({ tsconfig: 'tsconfig.json', diagnostics: false }),
  testEnvironment: 'node',
  roots: ['<rootDir>/test/live'],
  testMatch: ['**/*.test.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)(?<!\\.json)\\.js$': '$1' },
  globalSetup: '<rootDir>/test/live/global-setup.js',
  globalTeardown: '<rootDir>/test/live/global-teardown.js',
  maxWorkers: 1,
  testTimeout: 180_000,
};
