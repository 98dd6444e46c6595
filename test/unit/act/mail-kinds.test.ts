/**
 * Every mail kind (brute force, compromise, destination, follow-up, velocity, spend, attack
 * summary, digest), rendered as text and HTML from the gallery of one made-up night: the three
 * lines an admin acts on come first, the severity shows as a coloured band, "what was done" comes
 * before the evidence, evidence reads like prose (no raw keys, one time zone), and no line ever
 * advises trusting an address that attacked.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { composeDigest, type DigestData } from '../../../src/act/mail/digest.js';
import { GALLERY_KINDS, mailGallery, type GalleryMail } from '../../../src/act/mail/gallery.js';
import { Mailer } from '../../../src/act/mail/mailer.js';
import { renderAttackSummary } from '../../../src/act/mail/summary.js';
import type { MailThread } from '../../../src/act/mail/threads.js';
import { Store } from '../../../src/store/store.js';
import { visible } from '../../helpers/mail-text.js';

const gallery = mailGallery();
const byKind = (kind: GalleryMail['kind']): GalleryMail => gallery.find((entry) => entry.kind === kind)!;


/** The three action lines of a plain-text mail, by label. */
function actionLines(text: string): { happened: string; did: string; todo: string; index: number } {
  const happened = /^What happened: +(.+)$/m.exec(text);
  const did = /^What Tollgate did: +(.+)$/m.exec(text);
  const todo = /^What you must do now: +(.+)$/m.exec(text);
  expect(happened).not.toBeNull();
  expect(did).not.toBeNull();
  expect(todo).not.toBeNull();
  // Three consecutive lines.
  expect(did!.index).toBe(happened!.index + happened![0].length + 1);
  expect(todo!.index).toBe(did!.index + did![0].length + 1);
  return { happened: happened![1]!, did: did![1]!, todo: todo![1]!, index: happened!.index };
}

const BAND_COLOURS: Record<string, string> = { CRITICAL: '#b3261e', HIGH: '#c2410c', MEDIUM: '#8a6100', LOW: '#1d5fa8', INFO: '#4b5563', REPORT: '#37474f' };

describe('every mail kind, text and HTML', () => {
  test('the gallery has every kind', () => {
    expect(gallery.map((entry) => entry.kind)).toEqual([...GALLERY_KINDS]);
    for (const kind of ['brute-force', 'compromise', 'destination', 'follow-up', 'velocity', 'spend', 'attack-summary', 'digest'] as const) expect(GALLERY_KINDS).toContain(kind);
  });

  test.each(GALLERY_KINDS.map((kind) => [kind]))('%s: severity band, then the three action lines, then the rest', (kind) => {
    const { mail } = byKind(kind);
    // Text: `[SEVERITY] title` and a rule, the first thing in the mail.
    const band = /^\[(CRITICAL|HIGH|MEDIUM|LOW|INFO|REPORT)\] (.+)\n=+\n/.exec(mail.text);
    expect(band).not.toBeNull();
    const severity = band![1]!;
    const lines = actionLines(mail.text);
    for (const line of [lines.happened, lines.did, lines.todo]) expect(line.length).toBeGreaterThan(15);
    // HTML: a band in the severity's colour naming it, then the three lines, in that order.
    expect(mail.html).toContain(`background:${BAND_COLOURS[severity]}`);
    const html = visible(mail.html);
    const bandAt = html.indexOf(severity);
    const happenedAt = html.indexOf('What happened');
    const didAt = html.indexOf('What Tollgate did');
    const todoAt = html.indexOf('What you must do now');
    expect(bandAt).toBeGreaterThanOrEqual(0);
    expect(bandAt).toBeLessThan(happenedAt);
    expect(happenedAt).toBeLessThan(didAt);
    expect(didAt).toBeLessThan(todoAt);
    expect(html.replace(/\s+/g, '')).toContain(lines.todo.replace(/[`\s]+/g, ''));
    // What was done comes before the evidence.
    for (const body of [mail.text, html]) {
      const done = body.search(/What (was|would have been) done/);
      const evidence = body.indexOf('Evidence');
      if (done >= 0 && evidence >= 0) expect(done).toBeLessThan(evidence);
    }
    // Inline styles only; nothing a mail client would strip or fetch.
    expect(mail.html).not.toMatch(/<style|<link|<script|<img/i);
  });

  test.each(GALLERY_KINDS.map((kind) => [kind]))('%s: human labels and one time zone', (kind) => {
    const { mail } = byKind(kind);
    for (const body of [mail.text, visible(mail.html)]) {
      for (const raw of ['windowSeconds', 'sessionId', 'leakEverySeconds', 'firstFailure', 'budgetKey', 'accountFailures', 'compromisedAt', 'classificationReasons']) expect(body).not.toContain(raw);
      // No ISO instants beside local times.
      expect(body).not.toMatch(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/);
      expect(body).not.toMatch(/\d{2}:\d{2}:\d{2}(\.\d+)?Z\b/);
      // Every time is in the configured zone (November in Paris: CET), never another.
      expect(body).not.toMatch(/\b(UTC|GMT[+-]\d|CEST)\b/);
    }
  });

  test.each(GALLERY_KINDS.map((kind) => [kind]))('%s: never advises trusting an address that attacked', (kind) => {
    const { mail, attackers } = byKind(kind);
    for (const body of [mail.text, visible(mail.html)]) {
      for (const address of attackers) {
        // No trust command, no allow list, no exception naming it.
        expect(body).not.toMatch(new RegExp(`trust-address[^\\n]*${address.replace(/\./g, '\\.')}`));
        expect(body).not.toMatch(new RegExp(`trustedAddresses[^\\n]{0,80}${address.replace(/\./g, '\\.')}`));
        expect(body).not.toMatch(new RegExp(`-\\s*${address.replace(/\./g, '\\.')}(/\\d+)?\\s*$`, 'm'));
      }
    }
    // In the plain text, any line about trusting, allowing or excepting names no attacking address.
    const trustAdvice = mail.text.split('\n').filter((line) => /trust|allow|exception/i.test(line) && !/Do not add|None of these/.test(line));
    for (const line of trustAdvice) for (const address of attackers) expect(line).not.toContain(address);
  });
});

describe('what each kind says', () => {
  test('compromise: change the secret, check the provisioning, look at the calls since the first failure, then unlock', () => {
    const { mail } = byKind('compromise');
    expect(mail.subject).toBe('[Tollgate][CRITICAL][UPDATE] password guessed on 1001 from 203.0.113.9 — locked, blocked at the firewall');
    const { todo } = actionLines(mail.text);
    const order = ['Change the secret of 1001', "check the phone's provisioning", 'look at its calls since 2026-11-21 03:04:06 CET', 'then unlock it (`tollgate unlock 1001`)'].map((step) => todo.indexOf(step));
    expect(order.every((index) => index >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    // The step-by-step list and an undo that puts the password first.
    expect(mail.text).toMatch(/^1\. Change the secret \(SIP password\) of 1001/m);
    expect(mail.text).toMatch(/^2\. Check the phone's provisioning/m);
    expect(mail.text).toMatch(/^4\. Then, and only then, unlock it: `tollgate unlock 1001`\./m);
    expect(mail.text).toContain('- lock: first change the secret of 1001 and re-provision the phone (the steps above); only then run `tollgate unlock 1001`');
    expect(mail.html).toContain('<ol');
    // The evidence in words.
    expect(mail.text).toMatch(/First failed attempt: +2026-11-21 03:04:06 CET/);
    expect(mail.text).toMatch(/Within: +2 min/);
  });

  test('brute force: nothing to trust, the address blocked', () => {
    const { mail } = byKind('brute-force');
    expect(mail.subject).toBe('[Tollgate][HIGH] brute force from 203.0.113.9 — blocked at the firewall');
    expect(actionLines(mail.text).todo).toBe('Nothing urgent: no password was guessed. Make sure every SIP account has a long random secret.');
    expect(mail.text).toContain('Do not add the address of this mail to `trustedAddresses`');
  });

  test('destination: hung up, the cost that got through and the cost stopped', () => {
    const { mail } = byKind('destination');
    expect(mail.subject).toBe('[Tollgate][CRITICAL] 1002 → +44 70 9879 0123 hung up');
    expect(actionLines(mail.text).did).toBe('Hung up the call after 1 s of talk. 0.05 USD got through; 180.00 USD an hour stopped.');
    expect(mail.text).toContain('exceptions:');
    expect(mail.text).toContain('endpoints: ["1002"]');
  });

  test('follow-up: three policies on one call in one mail; the call after the guessed password asks for the password steps', () => {
    const { mail } = byKind('follow-up');
    expect(mail.subject).toBe('[Tollgate][CRITICAL][UPDATE] 1001 → +53 5551234 hung up');
    expect(mail.text).toContain('What the policies found (3 flagged it)');
    for (const policy of ['account-compromise (critical, call-after-compromise)', 'locked-endpoints (critical, locked)', 'international-risk (high, score-4)']) expect(mail.text).toContain(policy);
    const lines = actionLines(mail.text);
    expect(lines.did).toBe('Hung up the call before it was answered; 1001 stays locked. 0.00 USD got through; 120.00 USD an hour stopped.');
    expect(lines.todo).toContain('Change the secret of 1001');
    // The risk policy's "trust this address" way out is dropped: the address is the attacker's.
    expect(mail.text).not.toContain('If the call was legitimate');
    expect(mail.text).toContain('Add no exception for 1001 while its old secret may be known to someone else.');
  });

  test('velocity (alert only): the subject says the call was not hung up', () => {
    const { mail } = byKind('velocity');
    expect(mail.subject).toBe('[Tollgate][HIGH] 1001 → +882 16 123 4567 reported, not hung up');
    const lines = actionLines(mail.text);
    expect(lines.did).toContain('the call was NOT hung up (policy international-velocity only alerts)');
    expect(lines.did).toContain('0.07 USD got through; it costs 240.00 USD an hour while it lasts');
    expect(lines.todo).toContain('asterisk -rx "channel request hangup');
  });

  test('spend: amounts, the period in local time, and the lock', () => {
    const { mail } = byKind('spend');
    expect(mail.subject).toBe('[Tollgate][HIGH] daily-spend-cap 100% on 1003 — locked');
    expect(mail.text).toMatch(/Period starts: +2026-11-21 00:00:00 CET/);
    expect(mail.text).toMatch(/Share of the budget: +100\.6 %/);
    expect(actionLines(mail.text).did).toBe('Locked 1003: its outbound calls are refused until you unlock it.');
  });

  test('simulated: "would hang up (simulate)", and nothing claimed as done', () => {
    const { mail } = byKind('destination-simulated');
    expect(mail.subject).toBe('[Tollgate][CRITICAL][SIMULATED] 1002 → +44 70 9879 0123 would hang up (simulate)');
    const lines = actionLines(mail.text);
    expect(lines.did).toMatch(/^Nothing \(simulate mode\): it would have hung up the call\./);
    expect(lines.todo).toMatch(/^Nothing was stopped \(simulate mode\)\./);
  });

  test('attack summary: calls stopped, billable seconds, the estimate from the rates, what to do', () => {
    const { mail } = byKind('attack-summary');
    // Four calls hung up at 2.00, 2.40, 3.00 and 2.00 USD/min: an hour each is 564 USD.
    expect(mail.subject).toBe('[Tollgate][CRITICAL][SUMMARY] attack on 1001 from 203.0.113.9: 4 calls stopped, 1 s of talk, 0.03 USD got through, estimated 564.00 USD avoided');
    const lines = actionLines(mail.text);
    expect(lines.happened).toBe('From 2026-11-21 03:04:10 CET to 03:04:19 CET (9 s): 21 failed logins from 1 address, 1001\'s password guessed, 4 calls to Cuba, Somalia and United Kingdom.');
    expect(lines.did).toBe('Stopped 4 of 4 calls (1 s of talk, 0.03 USD got through; estimated 564.00 USD avoided); locked 1001; blocked 203.0.113.9 at the firewall.');
    expect(lines.todo).toContain('then unlock it (`tollgate unlock 1001`)');
    expect(mail.text).toMatch(/Mails: +3 mails in this thread; 3 alerts with the same outcome folded into them/);
    expect(mail.text).toMatch(/03:04:17 +1001 +\+53 721234567 .* hung up +1 s, 0\.03 USD/);
  });

  test('attack summary of a scan with no call: nothing got through, shown in the agent\'s currency', () => {
    const thread: MailThread = {
      id: '20261121-030410-sip-bruteforce-1a2b',
      firstAt: Date.UTC(2026, 10, 21, 2, 4, 10),
      lastAt: Date.UTC(2026, 10, 21, 2, 9, 10),
      keys: ['ip:203.0.113.9'],
      attackers: ['203.0.113.9'],
      attackersOmitted: 0,
      endpoints: [],
      compromised: [],
      incidents: ['20261121-030410-sip-bruteforce-1a2b'],
      policies: ['sip-bruteforce'],
      findings: 1,
      severity: 'high',
      simulated: false,
      locked: [],
      blocked: ['203.0.113.9'],
      notBlocked: [],
      calls: [],
      callsOmitted: 0,
      mailed: { count: 1, severity: 'high', outcomes: ['brute-force: blocked at the firewall'], calls: {} },
      folded: 0,
      failedLogins: { '203.0.113.9': 120 },
    };
    const mail = renderAttackSummary({ thread, costs: [], mask: (number) => number ?? '', timezone: 'Europe/Paris', agent: 'pbx1', currency: 'EUR', lockedNow: [] });
    expect(mail.subject).toContain('0 calls stopped, 0 s of talk, 0.00 EUR got through, estimated 0.00 EUR avoided');
  });

  test('digest: what happened yesterday, what was done, what is left to do', () => {
    const { mail } = byKind('digest');
    const lines = actionLines(mail.text);
    expect(lines.did).toBe('5 calls hung up; 1 endpoint locked now; 6 mails sent, 0 waiting in the outbox.');
    expect(lines.todo).toContain("change its secret and check the phones' provisioning before `tollgate unlock`");
    expect(mail.subject).toBe('[Tollgate][DIGEST] 2026-11-21: 2 incidents (1 critical), 41 calls, 51.93 USD');
    expect(lines.happened).toMatch(/^41 priced outbound calls, 51\.93 USD;/);
  });

  test('digest of a quiet day: nothing spent, shown in the agent\'s currency', () => {
    const quiet: DigestData = {
      day: '2026-11-22',
      timezone: 'Europe/Paris',
      from: Date.UTC(2026, 10, 21, 23),
      to: Date.UTC(2026, 10, 22, 23),
      at: Date.UTC(2026, 10, 23, 6),
      totals: [],
      byCountry: [],
      byEndpoint: [],
      topNumbers: [],
      incidents: [],
      decisions: [],
      security: [],
      locks: [],
      outbox: { pending: 0, sent: 0 },
    };
    const mail = composeDigest(quiet, { mask: (number) => number ?? '', agent: 'pbx1', currency: 'GBP' });
    expect(mail.subject).toBe('[Tollgate][DIGEST] 2026-11-22: 0 incidents, 0 calls, 0.00 GBP');
    const lines = actionLines(mail.text);
    expect(lines.happened).toBe('0 priced outbound calls, 0.00 GBP; 0 incidents; 0 security events from 0 addresses (Europe/Paris).');
    expect(lines.todo).toBe('Nothing: a quiet day.');
    expect(visible(mail.html)).toContain('0 priced outbound calls, 0.00 GBP;');
  });
});

describe('threading headers of a thread\'s mails', () => {
  test('follow-ups and the summary answer the first mail (In-Reply-To, References); other mails stand alone', () => {
    const store = new Store(join(mkdtempSync(join(tmpdir(), 'tollgate-thread-headers-')), 'tollgate.db'));
    const mailer = new Mailer({ store, url: 'smtp://127.0.0.1:2525', from: 'Tollgate <tollgate@example.com>' });
    const thread = '20261121-020410-sip-brute-force-1a2b';
    const queue = (kind: GalleryMail['kind'], dedupeKey: string, incident?: string) => {
      const { mail } = byKind(kind);
      const { id } = store.enqueueMail({ kind: 'alert', dedupeKey, ...(incident ? { incident } : {}), to: ['noc@example.com'], ...mail }, Date.UTC(2026, 10, 21));
      return store.mail(id)!;
    };
    const first = queue('brute-force', `incident:${thread}:alert`, thread);
    const rootId = mailer.messageIdOf(first);
    expect(rootId).toMatch(/^<tollgate\.[^@]+@example\.com>$/);
    expect(mailer.threadHeaders(first)).toEqual({});
    for (const [kind, key] of [
      ['compromise', `incident:${thread}:update:a/1`],
      ['follow-up', `incident:${thread}:update:b/2`],
      ['attack-summary', `incident:${thread}:summary`],
    ] as const) {
      expect(mailer.threadHeaders(queue(kind, key, thread))).toEqual({ inReplyTo: rootId, references: [rootId] });
    }
    expect(mailer.threadHeaders(queue('digest', 'digest:2026-11-21'))).toEqual({});
    store.close();
  });
});
