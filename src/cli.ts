#!/usr/bin/env node
// Entry point: the only place (with main.ts) that reads the environment, starts servers and exits.
console.error('cachetail: no commands yet');
process.exitCode = 2;
