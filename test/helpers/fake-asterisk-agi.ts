/**
 * Asterisk's side of a FastAGI session, as app_agi speaks it: connect, send the environment block
 * (agi_* lines, an empty line), then answer each command line with one reply line. Tests script the
 * answers; `HANGUP` can be sent at any moment, as Asterisk does when the channel hangs up.
 *
 * Read as res_agi reads: it waits for its socket to turn readable, then takes one line from a
 * buffered stream (fgets). A second command that came in the same bytes stays in that buffer until
 * more bytes or the end of the connection wake it: here, one command per arrival, and what is still
 * buffered when the server closes is read then (and listed in `readAtClose`).
 */
import { connect, type Socket } from 'node:net';

export interface AgiExchange {
  /** Commands the server sent, in order, without the newline. */
  commands: string[];
  /** The variables set with SET VARIABLE (unquoted). */
  variables: Record<string, string>;
  /** Milliseconds from connect to the server closing the connection. */
  ms: number;
  /** Commands Asterisk would only have read once the server closed the connection (sent together with an earlier one). */
  readAtClose: string[];
}

export type Answer = (command: string, socket: Socket) => string | undefined | 'HANGUP' | 'SILENCE';

/** The environment Asterisk 22 sends for `AGI(agi://127.0.0.1:<port>/tollgate)` from a PJSIP phone. */
export function agiEnvironment(fields: { channel: string; uniqueid: string; extension: string; context?: string; callerid?: string; port: number }): Record<string, string> {
  return {
    agi_network: 'yes',
    agi_network_script: 'tollgate',
    agi_request: `agi://127.0.0.1:${fields.port}/tollgate`,
    agi_channel: fields.channel,
    agi_language: 'en',
    agi_type: 'PJSIP',
    agi_uniqueid: fields.uniqueid,
    agi_version: '22.10.1',
    agi_callerid: fields.callerid ?? '1001',
    agi_calleridname: 'Ext 1001',
    agi_callingpres: '0',
    agi_callingani2: '0',
    agi_callington: '0',
    agi_callingtns: '0',
    agi_dnid: fields.extension,
    agi_rdnis: 'unknown',
    agi_context: fields.context ?? 'from-internal',
    agi_extension: fields.extension,
    agi_priority: '2',
    agi_enhanced: '0.0',
    agi_accountcode: '',
    agi_threadid: '140234567890',
  };
}

/** Default answers: GET VARIABLE CHANNEL(linkedid) → the uniqueid; SET VARIABLE → ok. */
export function defaultAnswers(linkedid: string): Answer {
  return (command) => {
    if (command.startsWith('GET VARIABLE CHANNEL(linkedid)')) return `200 result=1 (${linkedid})`;
    if (command.startsWith('GET VARIABLE')) return '200 result=0';
    if (command.startsWith('SET VARIABLE')) return '200 result=1';
    return '510 Invalid or unknown command';
  };
}

export function runAgiSession(port: number, environment: Record<string, string>, answer: Answer, options: { chunked?: boolean } = {}): Promise<AgiExchange> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const exchange: AgiExchange = { commands: [], variables: {}, ms: 0, readAtClose: [] };
    const socket = connect(port, '127.0.0.1');
    let buffer = '';
    /** Takes the first buffered line, if complete, and answers it. */
    const readOne = (): string | undefined => {
      const newline = buffer.indexOf('\n');
      if (newline < 0) return undefined;
      const command = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      exchange.commands.push(command);
      const set = /^SET VARIABLE (\S+) (?:"((?:[^"\\]|\\.)*)"|(\S+))$/.exec(command);
      if (set) exchange.variables[set[1]!] = (set[2] ?? set[3] ?? '').replace(/\\(.)/g, '$1');
      const reply = answer(command, socket);
      if (socket.writable) {
        if (reply === 'HANGUP') socket.write('HANGUP\n511 Command Not Permitted on a dead channel or intercepted channel\n');
        else if (reply !== undefined && reply !== 'SILENCE') socket.write(`${reply}\n`);
      }
      return command;
    };
    socket.on('connect', () => {
      const block = `${Object.entries(environment).map(([key, value]) => `${key}: ${value}`).join('\n')}\n\n`;
      if (options.chunked) for (const character of block) socket.write(character);
      else socket.write(block);
    });
    socket.on('data', (chunk) => {
      buffer += chunk.toString('utf8');
      readOne();
    });
    socket.on('end', () => {
      for (let command = readOne(); command !== undefined; command = readOne()) exchange.readAtClose.push(command);
      socket.end();
    });
    socket.on('close', () => {
      exchange.ms = Date.now() - started;
      resolve(exchange);
    });
    socket.on('error', reject);
  });
}
