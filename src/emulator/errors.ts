/** Errors the emulator answers with, in the AWS JSON 1.1 shapes MTurk uses. */

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
    readonly turkErrorCode?: string,
    /** Coral's own exceptions use a lower-case "message" key; MTurk's use "Message". */
    readonly lowerCaseMessage = false,
  ) {
    super(message);
  }

  body(): Record<string, string> {
    const b: Record<string, string> = { __type: this.type };
    b[this.lowerCaseMessage ? 'message' : 'Message'] = this.message;
    if (this.turkErrorCode) b.TurkErrorCode = this.turkErrorCode;
    return b;
  }
}

/** HTTP 400 RequestError with an MTurk error code. */
export function requestError(message: string, code: string): ApiError {
  return new ApiError(400, 'RequestError', message, code);
}

/** A RequestError whose message ends, as most of MTurk's do, with the time: "... (1700000000000)". */
export function timedRequestError(message: string, code: string, now: number): ApiError {
  return requestError(`${message} (${now})`, code);
}

export function serviceFault(): ApiError {
  return new ApiError(
    500,
    'ServiceFault',
    'Amazon Mechanical Turk is temporarily unable to process your request. Try your call again.',
    'AWS.ServiceUnavailable',
  );
}

export function throttling(): ApiError {
  return new ApiError(400, 'ThrottlingException', 'Rate exceeded', undefined, true);
}

export function validationError(problems: string[]): ApiError {
  const n = problems.length;
  const head = `${n} validation error${n === 1 ? '' : 's'} detected: `;
  return new ApiError(400, 'ValidationException', head + problems.join('; '), undefined, true);
}

export function serializationError(message: string): ApiError {
  return new ApiError(400, 'SerializationException', message, undefined, true);
}

export function unknownOperation(message: string): ApiError {
  return new ApiError(400, 'UnknownOperationException', message, undefined, true);
}
