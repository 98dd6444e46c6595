import { TollgateError } from '../errors.js';

/**
 * - `http`: Asterisk answered with an error status (`status`, and `asteriskMessage` from its
 *   `{"message": …}` body).
 * - `timeout`: no complete answer within the deadline. For a DELETE the hang-up may still happen.
 * - `network`: Asterisk could not be reached (refused, reset, DNS, TLS).
 * - `invalid-request`: refused before sending (e.g. both `reason` and `reasonCode`).
 * - `bad-response`: a success status with a body that is not what ARI sends.
 */
export type AriErrorKind = 'http' | 'timeout' | 'network' | 'invalid-request' | 'bad-response';

export interface AriErrorDetails {
  kind: AriErrorKind;
  /** HTTP method of the request (`GET` for the events WebSocket). */
  method: string;
  /** Request path and query, e.g. `/ari/channels/1795258862.6?reason_code=21`. Never holds credentials. */
  path: string;
  /** HTTP status, for `http` errors. */
  status?: number;
  /** Asterisk's own words: the `message` of its JSON error body (or the start of a non-JSON body). */
  asteriskMessage?: string;
  /** The underlying Node error, for `network` errors. */
  cause?: unknown;
}

/** Anything that went wrong talking to ARI. The message says what happened and what to check. */
export class AriError extends TollgateError {
  override name = 'AriError';
  readonly kind: AriErrorKind;
  readonly method: string;
  readonly path: string;
  readonly status: number | undefined;
  readonly asteriskMessage: string | undefined;

  constructor(message: string, details: AriErrorDetails) {
    super(message, details.cause !== undefined ? { cause: details.cause } : undefined);
    this.kind = details.kind;
    this.method = details.method;
    this.path = details.path;
    this.status = details.status;
    this.asteriskMessage = details.asteriskMessage;
  }
}
