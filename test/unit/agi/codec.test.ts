import { AgiReader, formatCommand, parseReply } from '../../../src/agi/codec.js';

describe('AGI codec', () => {
  test('the environment block, then replies, HANGUP and usage blocks, in any chunks', () => {
    const reader = new AgiReader();
    const text = 'agi_network: yes\r\nagi_channel: PJSIP/1001-00000007\nagi_extension: 011442079460123\n\n200 result=1 (1795259065.0)\nHANGUP\n520-Invalid command syntax.  Proper usage follows:\n Usage: GET VARIABLE <variablename>\n520 End of proper usage.\n511 Command Not Permitted on a dead channel or intercepted channel\n';
    const frames = [...text].flatMap((character) => reader.push(character));
    expect(frames).toEqual([
      { type: 'environment', environment: { agi_network: 'yes', agi_channel: 'PJSIP/1001-00000007', agi_extension: '011442079460123' } },
      { type: 'reply', reply: { code: 200, result: '1', data: '1795259065.0', text: '200 result=1 (1795259065.0)' } },
      { type: 'hangup' },
      { type: 'reply', reply: { code: 520, text: '520-Invalid command syntax.  Proper usage follows:\n Usage: GET VARIABLE <variablename>\n520 End of proper usage.' } },
      { type: 'reply', reply: { code: 511, text: '511 Command Not Permitted on a dead channel or intercepted channel' } },
    ]);
  });

  test('garbage is reported, never thrown; an endless line is cut', () => {
    const reader = new AgiReader();
    expect(reader.push('hello there\n\n')).toEqual([{ type: 'garbage', line: 'hello there' }, { type: 'environment', environment: {} }]);
    expect(reader.push('not a reply\n')).toEqual([{ type: 'garbage', line: 'not a reply' }]);
    expect(reader.push('x'.repeat(9000))[0]).toMatchObject({ type: 'garbage' });
  });

  test('replies: results, data, endpos and errors', () => {
    expect(parseReply('200 result=0')).toEqual({ code: 200, result: '0', text: '200 result=0' });
    expect(parseReply('200 result=1 (hello world) endpos=1234')).toMatchObject({ result: '1', data: 'hello world' });
    expect(parseReply('200 result=-1')).toMatchObject({ result: '-1' });
    expect(parseReply('510 Invalid or unknown command')).toEqual({ code: 510, text: '510 Invalid or unknown command' });
    expect(parseReply('nonsense')).toBeUndefined();
  });

  test('commands: arguments quoted when needed, quotes and backslashes escaped, no CR/LF injection', () => {
    expect(formatCommand('SET VARIABLE', 'TOLLGATE_VERDICT', 'deny')).toBe('SET VARIABLE TOLLGATE_VERDICT deny\n');
    expect(formatCommand('SET VARIABLE', 'TOLLGATE_REASON', 'risk score 8 "high"')).toBe('SET VARIABLE TOLLGATE_REASON "risk score 8 \\"high\\""\n');
    expect(formatCommand('SET VARIABLE', 'X', '')).toBe('SET VARIABLE X ""\n');
    expect(formatCommand('SET VARIABLE', 'X', 'a\r\nHANGUP')).toBe('SET VARIABLE X "a  HANGUP"\n');
    expect(formatCommand('GET VARIABLE', 'CHANNEL(linkedid)')).toBe('GET VARIABLE CHANNEL(linkedid)\n');
  });
  test('bytes split anywhere, even inside a character; values trimmed; short lines are garbage, not errors', () => {
    const reader = new AgiReader();
    const bytes = Buffer.from('agi_callerid:\t1001 \r\nagi_calleridname: Zoë Ångström\nag\n\n', 'utf8');
    const frames = [...bytes].flatMap((byte) => reader.push(Buffer.from([byte])));
    expect(frames).toEqual([
      { type: 'garbage', line: 'ag' },
      { type: 'environment', environment: { agi_callerid: '1001', agi_calleridname: 'Zoë Ångström' } },
    ]);
  });

  test('replies are read as the reference pattern reads them', () => {
    // The pattern the reader implemented before it read replies by hand: the oracle.
    const reference = (line: string) => {
      const match = /^(\d{3})(?:[ -](.*))?$/.exec(line);
      if (!match) return undefined;
      const reply: { code: number; text: string; result?: string; data?: string } = { code: Number(match[1]), text: line };
      const result = /(?:^|\s)result=(-?\d+)(?:\s+\((.*)\))?/.exec(match[2] ?? '');
      if (result) {
        reply.result = result[1]!;
        if (result[2] !== undefined) reply.data = result[2];
      }
      return reply;
    };
    const lines = [
      '200 result=1 (1795259065.0)', '200 result=1', '200 result=0 endpos=0', '200 result=-1', '200 result=1 (a (nested) value) endpos=12',
      '200 result=1 ()', '200 result=1(x)', '200 result=1  \t(x)', '200 result=1 (unclosed', '200 result=x result=5 (y)', '200 noresult=3 result=4',
      '200-result=7', '200', '20', '2000 result=1', 'abc result=1', '510 Invalid or unknown command', '520 End of proper usage.',
      '511 Command Not Permitted on a dead channel or intercepted channel', '200 result=12abc (z)', '200 result= (1)', '200 result=-', '200 result=1 ) (x',
    ];
    for (const line of lines) expect([line, parseReply(line)]).toEqual([line, reference(line)]);
  });
});
