import type { AmiMessage } from './message.js';
import { TollgateError } from '../errors.js';

/** Asterisk refused the login. Fatal for the configuration: retrying quickly will not fix it. */
export class AmiLoginError extends TollgateError {
  override name = 'AmiLoginError';
  constructor(
    readonly username: string,
    readonly host: string,
    readonly port: number,
    readonly reason: string,
  ) {
    super(
      `AMI login as "${username}" at ${host}:${port} was refused (${reason}). ` +
        `Check ami.username / ami.secret (TOLLGATE_AMI_USERNAME / TOLLGATE_AMI_SECRET) against manager.conf, ` +
        `and that manager.conf's permit/deny for that user allows this host.`,
    );
  }
}

/** An action got no answer in time. The connection may be fine (Asterisk busy) or half-open. */
export class AmiTimeoutError extends TollgateError {
  override name = 'AmiTimeoutError';
  constructor(
    readonly action: string,
    readonly actionId: string,
    readonly timeoutMs: number,
  ) {
    super(`AMI action ${action} (ActionID ${actionId}) got no answer within ${timeoutMs} ms`);
  }
}

/** The connection is down: the action was not sent, or its answer can no longer arrive. */
export class AmiNotConnectedError extends TollgateError {
  override name = 'AmiNotConnectedError';
  constructor(
    readonly action: string,
    reason: string,
  ) {
    super(`AMI action ${action} failed: ${reason}`);
  }
}

/** Asterisk answered `Response: Error` (e.g. "No such channel", "Permission denied"). */
export class AmiResponseError extends TollgateError {
  override name = 'AmiResponseError';
  constructor(
    readonly action: string,
    readonly response: AmiMessage,
  ) {
    super(`AMI action ${action} failed: ${response.get('Message') ?? 'Error'}`);
  }
}
