/** Reading request bodies and writing JSON responses, for the MTurk API and the admin routes alike. */
import type { IncomingMessage, ServerResponse } from 'node:http';

export type BodyResult = { ok: true; body: Buffer } | { ok: false };

/** Read the whole body; past `limit` bytes keep draining (so the client can read our 400) but drop it. */
export function readBody(req: IncomingMessage, limit: number, done: (r: BodyResult) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let tooLarge = false;
  req.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size > limit) {
      tooLarge = true;
      chunks.length = 0;
    } else if (!tooLarge) {
      chunks.push(chunk);
    }
  });
  req.on('end', () =>
    done(tooLarge ? { ok: false } : { ok: true, body: Buffer.concat(chunks, size) }),
  );
  req.on('error', () => {
    // The socket went away; nothing to answer.
  });
}

export function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  requestId: string,
  contentType: string,
  close = false,
): void {
  if (res.destroyed || res.headersSent) return;
  const json = JSON.stringify(body);
  const headers: Record<string, string | number> = {
    'Content-Type': contentType,
    'Content-Length': Buffer.byteLength(json),
    'x-amzn-RequestId': requestId,
  };
  if (close) headers.Connection = 'close';
  res.writeHead(status, headers);
  res.end(json);
}
