/** The dialplan graph: patterns, jumps, trunk Dial()s, reachability. */
import path from 'node:path';
import { parseConfText, type AsteriskConfig } from '../../../src/audit/conf/index.js';
import { Dialplan, extensionMatches, isWidePattern } from '../../../src/audit/dialplan.js';

function dialplan(text: string): Dialplan {
  const file = parseConfText(text, path.join('/nonexistent', 'extensions.conf'));
  const config: AsteriskConfig = { origin: 'test', source: 'files', files: new Map([['extensions.conf', file]]), unanalysed: [] };
  return new Dialplan(config, []);
}

describe('extension patterns', () => {
  it.each([
    ['_X.', '0049301234', true],
    ['_X.', '', false],
    ['_NXXNXXXXXX', '2125551234', true],
    ['_NXXNXXXXXX', '1125551234', false],
    ['_[1-5]XX', '301', true],
    ['_[1-5]XX', '601', false],
    ['_00!', '00', true],
    ['_stde[x]te[n]-.', 'stdexten-BUSY', true],
    ['1000', '1000', true],
    ['s', 'S', true],
  ])('%s matches %s: %s', (pattern, literal, expected) => {
    expect(extensionMatches(pattern, literal)).toBe(expected);
  });

  it('knows catch-all patterns', () => {
    expect(['_X.', '_.', '_!', '_X!', '_N.', '_[0-9].'].every(isWidePattern)).toBe(true);
    expect(['_00X.', '_1XXX', '_9011.', 's', '_X'].some(isWidePattern)).toBe(false);
  });
});

describe('Dialplan', () => {
  const plan = dialplan(`
[globals]
TRUNK = DAHDI/g1
OUT = outbound

[inbound]
exten => 100,1,GotoIf($["\${CALLERID(num)}" = "1"]?vip,s,1:menu,s,1)
exten => 200,1,Dial(Local/s@\${OUT}/n)
exten => 300,1,Macro(dialout)
exten => 400,1,Goto(\${DYNAMIC},s,1)

[menu]
exten => s,1,Background(welcome)

[vip]
exten => s,1,ExecIf($[1]?Gosub(sub,s,1))

[sub]
exten => s,1,Dial(SIP/provider/\${EXTEN})

[outbound]
exten => s,1,Dial(\${TRUNK}/123)

[macro-dialout]
exten => s,1,Dial(PJSIP/\${EXTEN}@carrier)

[phones]
exten => _1XXX,1,Dial(PJSIP/\${EXTEN},20)
exten => 9,1,Dial(IAX2/user:pass@host/\${EXTEN})
`);

  it('classifies trunk destinations, globals expanded', () => {
    const dials = [...plan.priorities()].filter((priority) => plan.trunkDial(priority)).map((priority) => plan.trunkDial(priority)!.destination);
    expect(dials).toEqual(['SIP/provider/${EXTEN}', 'DAHDI/g1/123', 'PJSIP/${EXTEN}@carrier', 'IAX2/user:pass@host/${EXTEN}']);
  });

  it('follows GotoIf branches, ExecIf/Gosub, Local channels through globals, Macro; counts dynamic jumps', () => {
    const reach = plan.reach('inbound');
    expect([...reach.contexts].sort()).toEqual(['inbound', 'macro-dialout', 'menu', 'outbound', 'sub', 'vip']);
    expect(reach.trunkDials.map((dial) => dial.dial.priority.context).sort()).toEqual(['macro-dialout', 'outbound', 'sub']);
    expect(reach.dynamic.map((priority) => priority.exten)).toEqual(['400']);
    const viaVip = reach.trunkDials.find((dial) => dial.dial.priority.context === 'sub')!;
    expect(viaVip.path.map((step) => step.text)).toEqual(['inbound,100: GotoIf($["${CALLERID(num)}" = "1"]?vip,s,1:menu,s,1)', 'vip,s: ExecIf($[1]?Gosub(sub,s,1))', 'sub,s: Dial(SIP/provider/${EXTEN})']);
  });

  it('reaches only the extension a Goto names, unless it is an IVR', () => {
    expect([...plan.reach('inbound', '200').contexts].sort()).toEqual(['inbound', 'outbound']);
    expect(plan.reach('phones', '1234').trunkDials).toEqual([]);
    expect(plan.reach('phones', '9').trunkDials).toHaveLength(1);
  });
});

describe('Dialplan on other shapes', () => {
  it('counts a FreePBX outbound route (Macro(dialout-trunk) / Gosub(sub-dialout-trunk)) as a trunk dial', () => {
    const plan = dialplan(`
[outrt-1]
exten => _00.,1,Macro(user-callerid,LIMIT,EXTERNAL,)
exten => _00.,n,Macro(dialout-trunk,1,\${EXTEN},,off)
exten => _011.,1,Gosub(sub-dialout-trunk,s,1(2,\${EXTEN},,off))
`);
    expect(plan.reach('outrt-1').trunkDials.map((dial) => dial.dial.priority.at.line)).toEqual([4, 5]);
  });

  it('stays fast on a large, densely connected dialplan', () => {
    const lines = ['[globals]', 'TRUNK = DAHDI/g1'];
    for (let context = 0; context < 1500; context++) {
      lines.push(`[ctx${context}]`, `include => ctx${(context * 7 + 1) % 1500}`, `include => ctx${(context * 13 + 5) % 1500}`);
      for (let exten = 0; exten < 20; exten++) {
        lines.push(`exten => ${1000 + exten},1,Goto(ctx${(context * 31 + exten) % 1500},${1000 + ((exten * 3) % 20)},1)`, ` same => n,Dial(PJSIP/${1000 + exten},20)`);
      }
      if (context === 1499) lines.push('exten => _00X.,1,Dial(${TRUNK}/${EXTEN})');
    }
    const plan = dialplan(lines.join('\n'));
    const started = Date.now();
    const reach = plan.reach('ctx0');
    expect(reach.trunkDials).toHaveLength(1);
    expect(reach.extensions.length).toBeGreaterThan(20_000);
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
