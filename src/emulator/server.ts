/** HTTP front end: routes MTurk API calls (see api-request.ts) and /_emulator/ admin requests. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { handleAdmin, type AdminApi } from './admin';
import { ApiRequest, CONTENT_TYPE, type ApiDeps } from './api-request';
import { readBody, send } from './http-json';
import { newRequestId } from './ids';

const MAX_ADMIN_BODY = 64 * 1024 * 1024;

export interface ServerDeps extends ApiDeps {
  admin: AdminApi;
}

export function createEmulatorServer(deps: ServerDeps): Server {
  const server = createServer((req, res) => route(deps, server, req, res));
  server.requestTimeout = 30_000;
  server.headersTimeout = 15_000;
  server.keepAliveTimeout = 5_000;
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });
  return server;
}

function route(deps: ServerDeps, server: Server, req: IncomingMessage, res: ServerResponse): void {
  const requestId = newRequestId();
  const url = req.url ?? '/';
  if (url.startsWith('/_emulator/') || url === '/_emulator') {
    answerAdmin(deps.admin, req, res, url, requestId);
  } else if (req.method !== 'POST') {
    refuseNonPost(req, res, requestId);
  } else {
    new ApiRequest(deps, server, req, res, requestId).handle();
  }
}

function answerAdmin(
  admin: AdminApi,
  req: IncomingMessage,
  res: ServerResponse,
  url: string,
  requestId: string,
): void {
  readBody(req, MAX_ADMIN_BODY, (r) => {
    const out = r.ok
      ? handleAdmin(admin, req.method ?? 'GET', url, r.body)
      : {
          status: 400,
          body: { error: `admin request body must not exceed ${MAX_ADMIN_BODY} bytes` },
        };
    send(res, out.status, out.body, requestId, 'application/json', !r.ok);
  });
}

function refuseNonPost(req: IncomingMessage, res: ServerResponse, requestId: string): void {
  req.resume();
  send(
    res,
    404,
    { __type: 'UnknownOperationException', message: 'The MTurk API accepts POST / only.' },
    requestId,
    CONTENT_TYPE,
  );
}
