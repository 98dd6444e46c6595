/**
 * A tiny document model for Tollgate's mails, rendered twice — plain text and HTML — so both
 * versions always carry the same content. HTML uses inline styles only (mail clients drop <style>)
 * and every value is escaped here, in one place.
 */
import { DateTime } from 'luxon';

/** How loud a mail is: the incident's severity, or `report` for the digest. */
export type Tone = 'info' | 'low' | 'medium' | 'high' | 'critical' | 'report';

export type Block =
  /** The severity band at the very top: colour in HTML, `[CRITICAL]` and a rule in plain text. */
  | { type: 'band'; tone: Tone; text: string }
  /** The three lines an admin acts on: what happened, what Tollgate did, what to do now. */
  | { type: 'actions'; happened: string; did: string; todo: string }
  /** A sentence or two; `strong` renders as a banner (the SIMULATION line). */
  | { type: 'paragraph'; text: string; strong?: boolean }
  | { type: 'heading'; text: string }
  /** Label → value rows. */
  | { type: 'fields'; rows: readonly (readonly [string, string])[] }
  | { type: 'list'; items: readonly string[]; ordered?: boolean }
  /** Commands or configuration to copy as is. */
  | { type: 'code'; lines: readonly string[] }
  | { type: 'table'; head: readonly string[]; rows: readonly (readonly string[])[]; numeric?: readonly boolean[] };

export interface RenderedMail {
  subject: string;
  text: string;
  html: string;
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => HTML_ESCAPES[char]!);
}

/** One line, no control characters: values come from the PBX (caller-id names) and must not break the layout or a header. */
export function oneLine(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, ' ').trim();
}

export function renderText(blocks: readonly Block[], footer: string): string {
  const parts: string[] = [];
  for (const block of blocks) {
    switch (block.type) {
      case 'band': {
        const line = `[${TONE_LABEL[block.tone]}] ${block.text}`;
        parts.push(`${line}\n${'='.repeat(Math.min(72, line.length))}`);
        break;
      }
      case 'actions':
        parts.push(ACTION_LABELS.map(([label, key]) => `${(label + ':').padEnd(ACTION_LABEL_WIDTH + 2)}${block[key]}`).join('\n'));
        break;
      case 'paragraph':
        parts.push(block.strong ? `*** ${block.text} ***` : block.text);
        break;
      case 'heading':
        parts.push(`${block.text}\n${'-'.repeat(block.text.length)}`);
        break;
      case 'fields': {
        const width = Math.max(0, ...block.rows.map(([label]) => label.length));
        parts.push(block.rows.map(([label, value]) => `${(label + ':').padEnd(width + 2)}${value}`).join('\n'));
        break;
      }
      case 'list':
        parts.push(block.items.map((item, index) => `${block.ordered ? `${index + 1}.` : '-'} ${item}`).join('\n'));
        break;
      case 'code':
        parts.push(block.lines.map((line) => `    ${line}`).join('\n'));
        break;
      case 'table': {
        const rows = [block.head, ...block.rows];
        const widths = block.head.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length)));
        const line = (row: readonly string[]) =>
          row
            .map((cell, column) => (block.numeric?.[column] ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!)))
            .join('  ')
            .trimEnd();
        parts.push([line(block.head), widths.map((width) => '-'.repeat(width)).join('  '), ...block.rows.map(line)].join('\n'));
        break;
      }
    }
  }
  // A heading sits right above its content; blocks are a blank line apart.
  const text = parts.map((part, index) => (index === 0 ? '' : blocks[index - 1]!.type === 'heading' ? '\n' : '\n\n') + part).join('');
  return `${text}\n\n-- \n${footer}\n`;
}

const TONE_LABEL: Record<Tone, string> = { info: 'INFO', low: 'LOW', medium: 'MEDIUM', high: 'HIGH', critical: 'CRITICAL', report: 'REPORT' };

/** Band colours, dark enough for white text (WCAG AA on 14px bold). */
const TONE_COLOUR: Record<Tone, string> = { critical: '#b3261e', high: '#c2410c', medium: '#8a6100', low: '#1d5fa8', info: '#4b5563', report: '#37474f' };

const ACTION_LABELS = [
  ['What happened', 'happened'],
  ['What Tollgate did', 'did'],
  ['What you must do now', 'todo'],
] as const;
const ACTION_LABEL_WIDTH = Math.max(...ACTION_LABELS.map(([label]) => label.length));

const STYLE = {
  body: 'margin:0;padding:16px;max-width:860px;font-family:Arial,Helvetica,sans-serif;font-size:14px;line-height:1.4;color:#1a1a1a;background:#ffffff',
  banner: 'margin:0 0 12px 0;padding:10px 12px;background:#fff4ce;border:1px solid #e0b400;font-weight:bold',
  p: 'margin:0 0 12px 0',
  h: 'margin:18px 0 6px 0;font-size:15px;font-weight:bold;color:#333333;border-bottom:1px solid #dddddd;padding-bottom:2px',
  table: 'border-collapse:collapse;margin:0 0 12px 0',
  label: 'padding:3px 12px 3px 0;color:#555555;vertical-align:top;white-space:nowrap;text-align:left;font-weight:normal',
  value: 'padding:3px 0;vertical-align:top',
  th: 'padding:4px 10px;border-bottom:1px solid #cccccc;text-align:left;background:#f4f4f4',
  td: 'padding:3px 10px;border-bottom:1px solid #eeeeee;vertical-align:top',
  ul: 'margin:0 0 12px 0;padding-left:20px',
  band: 'margin:-16px -16px 14px -16px;padding:12px 16px;color:#ffffff;font-size:16px;font-weight:bold',
  bandTag: 'display:inline-block;margin-right:8px;padding:1px 6px;border:1px solid #ffffff;border-radius:3px;font-size:12px;letter-spacing:1px',
  actions: 'border-collapse:collapse;margin:0 0 14px 0;width:100%;background:#f7f7f7',
  actionLabel: 'padding:6px 12px;vertical-align:top;width:24%;min-width:90px;text-align:left;font-weight:bold;color:#333333',
  actionValue: 'padding:6px 12px 6px 0;vertical-align:top',
  pre: 'margin:0 0 12px 0;padding:8px 10px;background:#f4f4f4;border:1px solid #dddddd;font-family:Consolas,Menlo,monospace;font-size:13px;white-space:pre-wrap',
  code: 'font-family:Consolas,Menlo,monospace;font-size:13px;background:#f4f4f4;padding:0 3px',
  footer: 'margin-top:20px;padding-top:6px;border-top:1px solid #dddddd;color:#777777;font-size:12px',
};

export function renderHtml(title: string, blocks: readonly Block[], footer: string): string {
  const parts: string[] = [];
  for (const block of blocks) {
    switch (block.type) {
      case 'band':
        parts.push(`<div style="${STYLE.band};background:${TONE_COLOUR[block.tone]}"><span style="${STYLE.bandTag}">${TONE_LABEL[block.tone]}</span>${escapeHtml(block.text)}</div>`);
        break;
      case 'actions': {
        const colour = TONE_COLOUR[toneOf(blocks)];
        const rows = ACTION_LABELS.map(([label, key]) => `<tr><th scope="row" style="${STYLE.actionLabel}">${escapeHtml(label)}</th><td style="${STYLE.actionValue}${key === 'todo' ? ';font-weight:bold' : ''}">${inlineHtml(block[key])}</td></tr>`).join('');
        parts.push(`<table role="presentation" style="${STYLE.actions};border-left:6px solid ${colour}">${rows}</table>`);
        break;
      }
      case 'paragraph':
        parts.push(`<p style="${block.strong ? STYLE.banner : STYLE.p}">${inlineHtml(block.text)}</p>`);
        break;
      case 'heading':
        parts.push(`<h2 style="${STYLE.h}">${escapeHtml(block.text)}</h2>`);
        break;
      case 'fields':
        parts.push(
          `<table style="${STYLE.table}" role="presentation">${block.rows
            .map(([label, value]) => `<tr><th scope="row" style="${STYLE.label}">${escapeHtml(label)}</th><td style="${STYLE.value}">${escapeHtml(value)}</td></tr>`)
            .join('')}</table>`,
        );
        break;
      case 'list': {
        const tag = block.ordered ? 'ol' : 'ul';
        parts.push(`<${tag} style="${STYLE.ul}">${block.items.map((item) => `<li>${inlineHtml(item)}</li>`).join('')}</${tag}>`);
        break;
      }
      case 'code':
        parts.push(`<pre style="${STYLE.pre}">${escapeHtml(block.lines.join('\n'))}</pre>`);
        break;
      case 'table': {
        const align = (column: number) => (block.numeric?.[column] ? ';text-align:right;white-space:nowrap' : '');
        const head = block.head.map((cell, column) => `<th style="${STYLE.th}${align(column)}">${escapeHtml(cell)}</th>`).join('');
        const rows = block.rows.map((row) => `<tr>${row.map((cell, column) => `<td style="${STYLE.td}${align(column)}">${escapeHtml(cell)}</td>`).join('')}</tr>`).join('');
        parts.push(`<table style="${STYLE.table}"><thead><tr>${head}</tr></thead><tbody>${rows}</tbody></table>`);
        break;
      }
    }
  }
  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">',
    `<title>${escapeHtml(title)}</title></head>`,
    `<body style="${STYLE.body}">`,
    ...parts,
    `<p style="${STYLE.footer}">${escapeHtml(footer)}</p>`,
    '</body></html>',
    '',
  ].join('\n');
}

/** The tone of a mail: its band's, else neutral. */
function toneOf(blocks: readonly Block[]): Tone {
  return blocks.find((block): block is Extract<Block, { type: 'band' }> => block.type === 'band')?.tone ?? 'report';
}

/** Escapes, then shows `backquoted` commands as code (the plain text keeps the backquotes). */
function inlineHtml(text: string): string {
  return escapeHtml(text).replace(/`([^`]+)`/g, (_, code: string) => `<code style="${STYLE.code}">${code}</code>`);
}

/** `12.34 USD`; sub-cent amounts keep four decimals so a cheap call does not read as free. */
export function formatMoney(amount: number, currency?: string): string {
  const digits = amount !== 0 && Math.abs(amount) < 0.01 ? 4 : 2;
  // Thousands apart with a space (`1 240.00 USD`): read at a glance, and the same in every locale.
  const [whole, fraction] = amount.toFixed(digits).split('.');
  return `${whole!.replace(/\B(?=(\d{3})+(?!\d))/g, ' ')}.${fraction}${currency ? ` ${currency}` : ''}`;
}

/** Local time in the agent's zone, with the zone's name: `2026-11-21 03:04:25 CET`, `… EDT`, `… UTC`. */
export function formatTime(ms: number, timezone: string): string {
  const local = DateTime.fromMillis(ms, { zone: timezone });
  return `${local.toFormat('yyyy-LL-dd HH:mm:ss')} ${zoneName(local)}`;
}

/**
 * The zone's short name at that instant. ICU names American zones in en-US (EDT) and European ones
 * in en-GB (CET, BST); elsewhere it falls back to the offset (`GMT+8`), which is still one zone.
 */
function zoneName(local: DateTime): string {
  let fallback = '';
  for (const locale of ['en-US', 'en-GB']) {
    const name = local.setLocale(locale).toFormat('ZZZZ');
    if (!/^GMT[+-]/.test(name)) return name;
    fallback ||= name;
  }
  return fallback;
}

/** `45 s`, `12 min`, `3 h 05 min`. */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 120) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 120) return `${minutes} min`;
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} min`;
}

let regionNames: Intl.DisplayNames | undefined;

/** `CU (Cuba)`; just the code when the runtime has no name for it. */
export function formatCountry(code: string): string {
  try {
    regionNames ??= new Intl.DisplayNames(['en'], { type: 'region' });
    const name = regionNames.of(code.toUpperCase());
    return name && name !== code.toUpperCase() ? `${code.toUpperCase()} (${name})` : code.toUpperCase();
  } catch {
    return code;
  }
}

/** `Cuba`; the code when the runtime has no name for it. */
export function formatCountryName(code: string): string {
  return formatCountry(code).replace(/^\w+ \((.+)\)$/, '$1');
}

/** `PREMIUM_RATE` → `premium rate`. */
export function formatNumberType(type: string): string {
  return type.toLowerCase().replace(/_/g, ' ');
}

/** Whether the masker actually hides anything (privacy.maskNumbers on). */
export function masks(mask: (number: string | undefined) => string): boolean {
  return mask('+4420794600001') !== '+4420794600001';
}

/** Numbers written in free text: 7 digits or more, not part of a channel name, uniqueid or address. */
const NUMBER_IN_TEXT = /(?<![\w/.:@-])\+?\d{7,}(?!\w|[.:]\d)/g;

/**
 * Masks phone numbers inside a sentence (a finding's message, evidence): the numbers the caller
 * knows about first (exact), then anything that looks like one. A no-op when masking is off.
 */
export function maskText(text: string, mask: (number: string | undefined) => string, known: readonly (string | undefined)[] = []): string {
  if (!masks(mask)) return text;
  let result = text;
  const numbers = [...new Set(known.filter((number): number is string => !!number && /\d{3,}/.test(number)))].sort((a, b) => b.length - a.length);
  for (const number of numbers) result = result.split(number).join(mask(number));
  return result.replace(NUMBER_IN_TEXT, (number) => mask(number));
}

export { fnv1a } from '../../hash.js';
