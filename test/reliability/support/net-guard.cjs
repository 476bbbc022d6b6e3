/**
 * Preloaded into child processes by the safety tests (`node --require net-guard.cjs`): every
 * outgoing TCP connection to a host that is not loopback is refused BEFORE any packet leaves
 * (no DNS lookup, no SYN), and recorded as one JSON line in $NET_GUARD_FILE. The tests then
 * assert the file stayed empty. Loopback connections (the emulator, Temporal) pass.
 */
'use strict';
/* global require, process */
/* eslint-disable @typescript-eslint/no-require-imports -- a CommonJS preload for `node --require` */
const fs = require('node:fs');
const net = require('node:net');

const file = process.env.NET_GUARD_FILE;

function isLoopback(host) {
  const h = String(host)
    .trim()
    .toLowerCase()
    .replace(/^\[|\]$/g, '');
  return (
    h === 'localhost' ||
    h === '::1' ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) ||
    /^::ffff:127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h)
  );
}

function target(args) {
  let first = args[0];
  if (Array.isArray(first)) first = first[0]; // internal normalized form: [options, cb]
  if (first && typeof first === 'object') {
    if (first.path) return { path: first.path };
    return { host: first.host ?? 'localhost', port: first.port };
  }
  if (typeof first === 'string' && !/^\d+$/.test(first)) return { path: first };
  return { host: typeof args[1] === 'string' ? args[1] : 'localhost', port: first };
}

const originalConnect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function guardedConnect(...args) {
  const t = target(args);
  if (t.path === undefined && !isLoopback(t.host)) {
    const record = { host: t.host, port: t.port, pid: process.pid, time: new Date().toISOString() };
    if (file) fs.appendFileSync(file, `${JSON.stringify(record)}\n`);
    const err = new Error(`net-guard: refused connection to non-loopback ${t.host}:${t.port}`);
    err.code = 'ECONNREFUSED';
    process.nextTick(() => this.destroy(err));
    return this;
  }
  return originalConnect.apply(this, args);
};
