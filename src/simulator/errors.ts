/**
 * The one way simulator handlers fail. The HTTP layer turns an {@linkcode HttpError}
 * into PVE's wire shape: the reason phrase is the first line of the message, the body is
 * `{"data":null,"message":…}` (+ `errors`), or no body at all where PVE sends none.
 *
 * @module
 */

/** Options for {@linkcode HttpError}. */
export interface HttpErrorOptions {
  /** Per-parameter errors (400). Serialized as the `errors` map. */
  errors?: Record<string, string>;
  /** Send no body at all (PVE's auth failures: 401 from the HTTP layer). */
  emptyBody?: boolean;
}

/** An HTTP error response, exactly as PVE would send it. */
export class HttpError extends Error {
  /** HTTP status code (400, 401, 403, 500, 501, 595…). */
  readonly status: number;
  /** Per-parameter errors, if any. */
  readonly errors: Record<string, string> | undefined;
  /** Whether the response carries no body. */
  readonly emptyBody: boolean;

  constructor(status: number, message: string, options: HttpErrorOptions = {}) {
    super(message);
    this.name = "HttpError";
    this.status = status;
    this.errors = options.errors;
    this.emptyBody = options.emptyBody ?? false;
  }
}

/** 400 `Parameter verification failed.` with the per-parameter `errors` map. */
export function paramError(errors: Record<string, string>): HttpError {
  return new HttpError(400, "Parameter verification failed.", { errors });
}

/** 403 `Permission check failed (<path>, <priv>)`, or without detail. */
export function permError(path?: string, priv?: string): HttpError {
  const detail = path === undefined
    ? ""
    : priv === undefined
    ? ` (${path})`
    : ` (${path}, ${priv})`;
  return new HttpError(403, `Permission check failed${detail}`);
}

/** 500 with a plain handler `die` message (PVE appends a newline to the body message). */
export function dieError(message: string): HttpError {
  return new HttpError(500, message);
}

/**
 * 500 `hostname lookup '<node>' failed - …`: what PVE answers for a node name it cannot resolve
 * (a `proxyto` endpoint, or a handler that looks the node up itself).
 */
export function hostnameLookupError(node: string): HttpError {
  return dieError(
    `hostname lookup '${node}' failed - failed to get address info for: ${node}: ` +
      "Name or service not known",
  );
}

/**
 * Thrown inside a task body to end the task with `TASK ERROR: <message>`.
 * Anything else thrown inside a task body also ends it with its message.
 */
export class TaskFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TaskFailure";
  }
}
