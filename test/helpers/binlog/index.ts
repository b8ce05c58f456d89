// Builders of binlog events for tests, fuzzing and fixtures: bytes as MariaDB and MySQL write them. Test
// support only, never imported by src/ (the layering rules in eslint.config.js hold that).
export * from './encoding.js';
export * from './events.js';
export * from './json.js';
export * from './mysql.js';
export * from './rows.js';
