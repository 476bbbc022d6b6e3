/**
 * The TCP sockets a process listens on, read from /proc (Linux): which addresses the emulator
 * and the Temporal dev server actually bound, not which ones they say they bound.
 */
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';

export interface ListeningSocket {
  family: 4 | 6;
  address: string;
  port: number;
}

function socketInodes(pid: number): Set<string> {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match) inodes.add(match[1]!);
    } catch {
      // closed meanwhile
    }
  }
  return inodes;
}

/** /proc/net/tcp stores each 32-bit word of the address in host (little-endian) order. */
function decodeAddress(hex: string): string {
  const words = hex.match(/.{8}/g) ?? [];
  const bytes = words.flatMap((w) => (w.match(/../g) ?? []).reverse().map((b) => parseInt(b, 16)));
  if (bytes.length === 4) return bytes.join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  const full = groups.join(':');
  if (/^0:0:0:0:0:ffff:/.test(full)) {
    return `::ffff:${bytes.slice(12).join('.')}`;
  }
  if (full === '0:0:0:0:0:0:0:1') return '::1';
  if (full === '0:0:0:0:0:0:0:0') return '::';
  return full;
}

function readTable(file: string, family: 4 | 6, inodes: Set<string>): ListeningSocket[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const sockets: ListeningSocket[] = [];
  for (const line of text.split('\n').slice(1)) {
    const cols = line.trim().split(/\s+/);
    if (cols.length < 10) continue;
    const [, local, , state] = cols;
    const inode = cols[9]!;
    if (state !== '0A' || !inodes.has(inode)) continue; // 0A: LISTEN
    const [addr, port] = local!.split(':');
    sockets.push({ family, address: decodeAddress(addr!), port: parseInt(port!, 16) });
  }
  return sockets;
}

/** Every TCP socket `pid` listens on (IPv4 and IPv6). */
export function listeningSockets(pid: number): ListeningSocket[] {
  const inodes = socketInodes(pid);
  return [
    ...readTable(`/proc/${pid}/net/tcp`, 4, inodes),
    ...readTable(`/proc/${pid}/net/tcp6`, 6, inodes),
  ];
}

export function isLoopbackAddress(address: string): boolean {
  return /^127\./.test(address) || address === '::1' || /^::ffff:127\./.test(address);
}
