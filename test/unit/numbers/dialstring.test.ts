import { parseChannelName, parseDialString, splitDialTargets } from '../../../src/numbers/dialstring.js';

describe('parseDialString', () => {
  test.each([
    ['PJSIP/0044123@carrier', undefined, { tech: 'PJSIP', number: '0044123', endpoint: 'carrier' }],
    ['011535551234@carrier', 'PJSIP', { tech: 'PJSIP', number: '011535551234', endpoint: 'carrier' }],
    ['011535551234@carrier', undefined, { number: '011535551234', endpoint: 'carrier' }],
    ['PJSIP/carrier/sip:00447624123456@198.51.100.1:5060', undefined, { tech: 'PJSIP', endpoint: 'carrier', number: '00447624123456', host: '198.51.100.1:5060' }],
    ['PJSIP/sip:+442079460000@sbc.example.net;transport=tls', undefined, { tech: 'PJSIP', number: '+442079460000', host: 'sbc.example.net' }],
    ['SIP/trunk/011442079460000', undefined, { tech: 'SIP', endpoint: 'trunk', number: '011442079460000' }],
    // chan_sip's number@peer form (was read as credentials@host before).
    ['SIP/011442079460000@trunk', undefined, { tech: 'SIP', number: '011442079460000', endpoint: 'trunk' }],
    ['SIP/9911@trunk:5060', undefined, { tech: 'SIP', number: '9911', endpoint: 'trunk:5060' }],
    ['IAX2/user:secret@198.51.100.7/011442079460000@ctx', undefined, { tech: 'IAX2', host: '198.51.100.7', endpoint: '198.51.100.7', number: '011442079460000', context: 'ctx' }],
    ['IAX2/trunk/0044123', undefined, { tech: 'IAX2', endpoint: 'trunk', number: '0044123' }],
    ['DAHDI/g1/011442079460000', undefined, { tech: 'DAHDI', endpoint: 'g1', number: '011442079460000' }],
    ['Local/00252615123456@from-internal', undefined, { tech: 'Local', number: '00252615123456', context: 'from-internal' }],
    ['Local/00252615123456@from-internal/n', undefined, { tech: 'Local', number: '00252615123456', context: 'from-internal' }],
    ['Local/00252615123456@from-internal-00000000;1', undefined, { tech: 'Local', number: '00252615123456', context: 'from-internal' }],
    ['PJSIP/1001', undefined, { tech: 'PJSIP', endpoint: '1001' }],
    ['PJSIP/%2B442079460000@carrier', undefined, { tech: 'PJSIP', number: '+442079460000', endpoint: 'carrier' }],
    ['PJSIP/0044123@carrier,30,tT', undefined, { tech: 'PJSIP', number: '0044123', endpoint: 'carrier' }],
  ])('%s', (raw, defaultTech, expected) => {
    expect(parseDialString(raw, defaultTech)).toEqual(expected);
  });

  test('IAX2 credentials never end up in the result', () => {
    expect(JSON.stringify(parseDialString('IAX2/user:secret@host/0044123'))).not.toContain('secret');
  });
});

describe('splitDialTargets', () => {
  test('splits parallel dials and drops options', () => {
    expect(splitDialTargets('PJSIP/1001&PJSIP/1002 & SIP/trunk/0044123,30,tT')).toEqual(['PJSIP/1001', 'PJSIP/1002', 'SIP/trunk/0044123']);
  });
});

describe('parseChannelName', () => {
  test.each([
    ['PJSIP/1001-00000003', { tech: 'PJSIP', endpoint: '1001' }],
    ['PJSIP/carrier-0000000a', { tech: 'PJSIP', endpoint: 'carrier' }],
    ['SIP/my-trunk-0000a1b2', { tech: 'SIP', endpoint: 'my-trunk' }],
    ['DAHDI/1-1', { tech: 'DAHDI', endpoint: '1' }],
    ['Local/00252615123456@from-internal-00000000;2', { tech: 'Local', endpoint: '00252615123456@from-internal', localHalf: 2 }],
  ])('%s', (channel, expected) => {
    expect(parseChannelName(channel)).toEqual(expected);
  });

  test('no technology, no channel', () => {
    expect(parseChannelName('garbage')).toBeUndefined();
  });
});
