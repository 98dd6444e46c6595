/**
 * A small CSV reader for hand-edited tables (rates, risk lists): one record per line, `,`-separated,
 * RFC 4180 quoting (`"a, b"`, `""` for a quote), lines starting with `#` are comments, blank lines
 * are skipped. Every field keeps its line and column so errors can point at it.
 */
import { ConfigError } from '../errors.js';

export interface CsvField {
  value: string;
  /** 1-based column number (first field = 1). */
  column: number;
}

export interface CsvRecord {
  /** 1-based line number in the file. */
  line: number;
  fields: CsvField[];
}

export interface CsvTable {
  /** Lower-cased header names, in file order. */
  header: string[];
  headerLine: number;
  records: CsvRecord[];
}

/** Splits CSV text into records. Throws ConfigError naming file and line on an unterminated quote. */
export function parseCsvRecords(text: string, file: string): CsvRecord[] {
  const records: CsvRecord[] = [];
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  lines.forEach((rawLine, index) => {
    const line = index + 1;
    const trimmed = rawLine.trim();
    if (trimmed.length === 0 || trimmed.startsWith('#')) return;
    records.push({ line, fields: splitLine(rawLine, file, line) });
  });
  return records;
}

/** Parses CSV with a header line; header names are trimmed and lower-cased. */
export function parseCsvTable(text: string, file: string): CsvTable {
  const records = parseCsvRecords(text, file);
  const headerRecord = records.shift();
  if (!headerRecord) throw new ConfigError('no header line (the file is empty or only comments)', file);
  const header = headerRecord.fields.map((field) => field.value.trim().toLowerCase());
  return { header, headerLine: headerRecord.line, records };
}

function splitLine(rawLine: string, file: string, line: number): CsvField[] {
  const fields: CsvField[] = [];
  let position = 0;
  for (;;) {
    const column = fields.length + 1;
    // Leading blanks before a quoted field are tolerated (`a, "b"`).
    let start = position;
    while (rawLine[start] === ' ' || rawLine[start] === '\t') start++;
    if (rawLine[start] === '"') {
      let value = '';
      let cursor = start + 1;
      for (;;) {
        const quote = rawLine.indexOf('"', cursor);
        if (quote < 0) throw new ConfigError(`unterminated quoted field`, file, line, `column ${column}`);
        value += rawLine.slice(cursor, quote);
        if (rawLine[quote + 1] === '"') {
          value += '"';
          cursor = quote + 2;
          continue;
        }
        cursor = quote + 1;
        break;
      }
      while (rawLine[cursor] === ' ' || rawLine[cursor] === '\t') cursor++;
      if (cursor < rawLine.length && rawLine[cursor] !== ',') {
        throw new ConfigError(`unexpected text after the closing quote`, file, line, `column ${column}`);
      }
      fields.push({ value, column });
      if (cursor >= rawLine.length) return fields;
      position = cursor + 1;
    } else {
      const comma = rawLine.indexOf(',', position);
      const end = comma < 0 ? rawLine.length : comma;
      fields.push({ value: rawLine.slice(position, end).trim(), column });
      if (comma < 0) return fields;
      position = comma + 1;
    }
  }
}
