/**
 * The AMI security events Asterisk 22 raises about manager logins, with exactly the field sets of
 * `test/fixtures/ami/ami-failed-login.ami` (EventVersion 1 for SuccessfulAuth and
 * InvalidAccountID, 2 for InvalidPassword; a failed login's SessionTV is the epoch).
 */
import type { AmiField } from '../ami/message.js';
import { formatEventTv } from './timestamps.js';

export interface AmiLoginParty {
  /** Manager SessionID (`0x7fc5040017d0`). */
  sessionId: string;
  serverPort: number;
  clientAddress: string;
  clientPort: number;
}

const EPOCH_TV = '1970-01-01T00:00:00.000+0000';

function addresses(party: AmiLoginParty): AmiField[] {
  return [
    ['LocalAddress', `IPV4/TCP/127.0.0.1/${party.serverPort}`],
    ['RemoteAddress', `IPV4/TCP/${party.clientAddress}/${party.clientPort}`],
  ];
}

export function successfulAuthEvent(party: AmiLoginParty, account: string, atMs: number, sessionStartMs: number): AmiField[] {
  return [
    ['Event', 'SuccessfulAuth'],
    ['Privilege', 'security,all'],
    ['EventTV', formatEventTv(atMs)],
    ['Severity', 'Informational'],
    ['Service', 'AMI'],
    ['EventVersion', '1'],
    ['AccountID', account],
    ['SessionID', party.sessionId],
    ...addresses(party),
    ['UsingPassword', '0'],
    ['SessionTV', formatEventTv(sessionStartMs)],
  ];
}

export function invalidPasswordEvent(party: AmiLoginParty, account: string, atMs: number): AmiField[] {
  return [
    ['Event', 'InvalidPassword'],
    ['Privilege', 'security,all'],
    ['EventTV', formatEventTv(atMs)],
    ['Severity', 'Error'],
    ['Service', 'AMI'],
    ['EventVersion', '2'],
    ['AccountID', account],
    ['SessionID', party.sessionId],
    ...addresses(party),
    ['SessionTV', EPOCH_TV],
  ];
}

export function invalidAccountIdEvent(party: AmiLoginParty, account: string, atMs: number): AmiField[] {
  return [
    ['Event', 'InvalidAccountID'],
    ['Privilege', 'security,all'],
    ['EventTV', formatEventTv(atMs)],
    ['Severity', 'Error'],
    ['Service', 'AMI'],
    ['EventVersion', '1'],
    ['AccountID', account],
    ['SessionID', party.sessionId],
    ...addresses(party),
    ['SessionTV', EPOCH_TV],
  ];
}
