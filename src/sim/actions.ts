/**
 * The manager actions the simulator answers, with Asterisk 22's exact texts (main/manager.c,
 * main/db.c) and list formats (as captured in test/fixtures/ami/).
 */
import { encodeMessage } from '../ami/codec.js';
import { AmiMessage, type AmiField } from '../ami/message.js';
import type { AstDb } from './astdb.js';
import { CAUSE_NORMAL_CLEARING } from './causes.js';
import type { ChannelTable, SimChannel } from './channels.js';
import { classListToMask, eventsHeaderToMask, NO_CLASSES } from './event-mask.js';
import type { SimSession } from './session.js';
import { formatEpochMicros } from './timestamps.js';

/** An AMI user as in manager.conf. */
export interface SimUser {
  username: string;
  secret: string;
  /** `read=` classes. @default 'all' */
  read?: string;
  /** `write=` classes. @default 'all' */
  write?: string;
}

export type LoginFailure = 'InvalidPassword' | 'InvalidAccountID' | 'MissingUsername';

/** What the action handlers need from the simulator. */
export interface ActionContext {
  readonly channels: ChannelTable;
  readonly astdb: AstDb;
  /** Registered PJSIP contacts by sorcery id (`1001;@05b1…`): the fields of their `ContactList` item. */
  readonly contacts: ReadonlyMap<string, readonly AmiField[]>;
  answersPings(): boolean;
  now(): number;
  findUser(username: string): SimUser | undefined;
  /** Marks the session logged in, answers, sends FullyBooted and the SuccessfulAuth event. */
  acceptLogin(session: SimSession, user: SimUser, request: AmiMessage): void;
  /** Raises the security event, then answers the error and closes as Asterisk does. */
  rejectLogin(session: SimSession, request: AmiMessage, username: string, failure: LoginFailure): void;
  /** Hangs channels up: table, events, suppression of their calls in replays. */
  hangup(channels: SimChannel[], cause: number): void;
}

type Handler = (context: ActionContext, session: SimSession, request: AmiMessage) => void;

/** manager.c authority of each action: the session's `write=` must share one class with it. */
const ACTION_AUTHORITY: Readonly<Record<string, string>> = {
  hangup: 'system,call',
  coreshowchannels: 'system,reporting',
  dbget: 'system,reporting',
  dbput: 'system',
  dbdel: 'system',
  dbdeltree: 'system',
  pjsipshowcontacts: 'system',
};

/** Actions a session may send before it has logged in (process_message). */
const BEFORE_LOGIN = new Set(['login', 'logoff', 'challenge']);

const HANDLERS: Readonly<Record<string, Handler>> = {
  login: login,
  logoff: (_context, session, request) => {
    respond(session, request, 'Goodbye', [['Message', 'Thanks for all the fish.']]);
    session.end();
  },
  ping: (context, session, request) => {
    if (!context.answersPings()) return;
    respond(session, request, 'Success', [
      ['Ping', 'Pong'],
      ['Timestamp', formatEpochMicros(context.now())],
    ]);
  },
  events: (_context, session, request) => {
    session.eventMask = eventsHeaderToMask(request.get('EventMask'));
    respond(session, request, 'Success', [['Events', session.eventMask === NO_CLASSES ? 'Off' : 'On']]);
  },
  coreshowchannels: coreShowChannels,
  pjsipshowcontacts: pjsipShowContacts,
  hangup: hangup,
  dbput: (context, session, request) => {
    const where = familyAndKey(session, request, '');
    if (!where) return;
    context.astdb.put(where.family, where.key, request.get('Val') ?? '');
    respond(session, request, 'Success', [['Message', 'Updated database successfully']]);
  },
  dbget: dbGet,
  dbdel: (context, session, request) => {
    const where = familyAndKey(session, request, '.');
    if (!where) return;
    if (context.astdb.del(where.family, where.key)) respond(session, request, 'Success', [['Message', 'Key deleted successfully']]);
    else respond(session, request, 'Error', [['Message', 'Database entry not found']]);
  },
  dbdeltree: (context, session, request) => {
    const family = request.get('Family') ?? '';
    if (family.length === 0) {
      respond(session, request, 'Error', [['Message', 'No family specified.']]);
      return;
    }
    const removed = context.astdb.delTree(family, request.get('Key'));
    if (removed > 0) respond(session, request, 'Success', [['Message', 'Key tree deleted successfully']]);
    else respond(session, request, 'Error', [['Message', 'Database entry not found']]);
  },
};

/** Answers one message from a client, as manager.c's process_message does. */
export function handleAction(context: ActionContext, session: SimSession, request: AmiMessage): void {
  const action = request.get('Action') ?? '';
  if (action.length === 0) {
    respond(session, request, 'Error', [['Message', 'Missing action in request']]);
    return;
  }
  const name = action.toLowerCase();
  if (!session.loggedIn && !BEFORE_LOGIN.has(name)) {
    respond(session, request, 'Error', [['Message', 'Permission denied']]);
    return;
  }
  const handler = HANDLERS[name];
  if (!handler) {
    respond(session, request, 'Error', [['Message', `Invalid/unknown command: ${action}. Use Action: ListCommands to show available commands.`]]);
    return;
  }
  const authority = ACTION_AUTHORITY[name];
  if (authority !== undefined && (session.writeMask & classListToMask(authority)) === 0) {
    respond(session, request, 'Error', [['Message', 'Permission denied']]);
    return;
  }
  handler(context, session, request);
}

/** `Response: <status>`, the ActionID when the request had a non-empty one, then `fields`. */
export function respond(session: SimSession, request: AmiMessage, status: string, fields: readonly AmiField[] = []): void {
  session.write(encodeMessage(new AmiMessage([['Response', status], ...actionIdField(request), ...fields])));
}

function actionIdField(request: AmiMessage): AmiField[] {
  const actionId = request.actionId;
  return actionId !== undefined && actionId.length > 0 ? [['ActionID', actionId]] : [];
}

/** The start of a list answer (astman_send_listack). */
function listAck(request: AmiMessage, message: string): AmiMessage {
  return new AmiMessage([['Response', 'Success'], ...actionIdField(request), ['EventList', 'start'], ['Message', message]]);
}

/** The end of a list answer (astman_send_list_complete_start/end). */
function listComplete(request: AmiMessage, event: string, items: number): AmiMessage {
  return new AmiMessage([['Event', event], ...actionIdField(request), ['EventList', 'Complete'], ['ListItems', String(items)]]);
}

function login(context: ActionContext, session: SimSession, request: AmiMessage): void {
  if (session.loggedIn) {
    respond(session, request, 'Success', [['Message', 'Already authenticated']]);
    return;
  }
  const username = request.get('Username') ?? '';
  if (username.length === 0) {
    context.rejectLogin(session, request, username, 'MissingUsername');
    return;
  }
  const user = context.findUser(username);
  if (!user) context.rejectLogin(session, request, username, 'InvalidAccountID');
  else if (user.secret !== (request.get('Secret') ?? '')) context.rejectLogin(session, request, username, 'InvalidPassword');
  else context.acceptLogin(session, user, request);
}

/** `HH:MM:SS` since the channel was created (hours grow past 99 as in Asterisk). */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const pad = (value: number): string => String(value).padStart(2, '0');
  return `${pad(Math.floor(total / 3600))}:${pad(Math.floor((total % 3600) / 60))}:${pad(total % 60)}`;
}

function coreShowChannels(context: ActionContext, session: SimSession, request: AmiMessage): void {
  const channels = context.channels.list();
  const now = context.now();
  let text = encodeMessage(listAck(request, 'Channels will follow'));
  for (const channel of channels) {
    text += encodeMessage(
      new AmiMessage([
        ['Event', 'CoreShowChannel'],
        ...actionIdField(request),
        ...channel.fields(),
        ['Application', channel.application],
        ['ApplicationData', channel.applicationData],
        ['Duration', formatDuration(now - channel.createdAt)],
        ['BridgeId', channel.bridgeId],
      ]),
    );
  }
  text += encodeMessage(listComplete(request, 'CoreShowChannelsComplete', channels.length));
  session.write(text);
}

/** res_pjsip's PJSIPShowContacts: one `ContactList` event per registered contact (as captured from Asterisk 22). */
function pjsipShowContacts(context: ActionContext, session: SimSession, request: AmiMessage): void {
  let text = encodeMessage(listAck(request, 'A listing of Contacts follows, presented as ContactList events'));
  for (const fields of context.contacts.values()) {
    text += encodeMessage(new AmiMessage([['Event', 'ContactList'], ...actionIdField(request), ...fields]));
  }
  text += encodeMessage(listComplete(request, 'ContactListComplete', context.contacts.size));
  session.write(text);
}

/** A Hangup `Cause:` as manager.c reads it: 0–127, anything else is ignored (normal clearing). */
function parseCause(value: string | undefined): number {
  if (value === undefined || !/^\d+$/.test(value.trim())) return CAUSE_NORMAL_CLEARING;
  const cause = Number(value.trim());
  return cause > 0 && cause <= 127 ? cause : CAUSE_NORMAL_CLEARING;
}

function hangup(context: ActionContext, session: SimSession, request: AmiMessage): void {
  const target = request.get('Channel') ?? '';
  if (target.length === 0) {
    respond(session, request, 'Error', [['Message', 'No channel specified']]);
    return;
  }
  const cause = parseCause(request.get('Cause'));
  if (target.length >= 2 && target.startsWith('/') && target.endsWith('/')) {
    const source = target.slice(1, -1);
    let pattern: RegExp;
    try {
      pattern = new RegExp(source);
    } catch {
      respond(session, request, 'Error', [['Message', `Regex compile failed on: ${source}`]]);
      return;
    }
    const matched = context.channels.list().filter((channel) => pattern.test(channel.name));
    let text = encodeMessage(listAck(request, 'Channels hung up will follow'));
    for (const channel of matched) {
      text += encodeMessage(new AmiMessage([['Event', 'ChannelHungup'], ['Channel', channel.name], ...actionIdField(request)]));
    }
    text += encodeMessage(listComplete(request, 'ChannelsHungupListComplete', matched.length));
    session.write(text);
    if (matched.length > 0) context.hangup(matched, cause);
    return;
  }
  const channel = context.channels.get(target);
  if (!channel) {
    respond(session, request, 'Error', [['Message', 'No such channel']]);
    return;
  }
  respond(session, request, 'Success', [['Message', 'Channel Hungup']]);
  context.hangup([channel], cause);
}

/** Family and Key of a DB action, or an error answered (DBGet/DBDel end their texts with a period). */
function familyAndKey(session: SimSession, request: AmiMessage, period: string): { family: string; key: string } | undefined {
  const family = request.get('Family') ?? '';
  const key = request.get('Key') ?? '';
  if (family.length === 0) {
    respond(session, request, 'Error', [['Message', `No family specified${period}`]]);
    return undefined;
  }
  if (key.length === 0) {
    respond(session, request, 'Error', [['Message', `No key specified${period}`]]);
    return undefined;
  }
  return { family, key };
}

function dbGet(context: ActionContext, session: SimSession, request: AmiMessage): void {
  const where = familyAndKey(session, request, '.');
  if (!where) return;
  const value = context.astdb.get(where.family, where.key);
  if (value === undefined) {
    respond(session, request, 'Error', [['Message', 'Database entry not found']]);
    return;
  }
  session.write(
    encodeMessage(listAck(request, 'Result will follow')) +
      encodeMessage(
        new AmiMessage([
          ['Event', 'DBGetResponse'],
          ['Family', where.family],
          ['Key', where.key],
          ['Val', value],
          ...actionIdField(request),
        ]),
      ) +
      encodeMessage(listComplete(request, 'DBGetComplete', 1)),
  );
}
