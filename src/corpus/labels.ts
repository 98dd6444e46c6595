/**
 * Corpus labels: what each case's traffic IS, judged as an experienced PBX admin would judge it —
 * not what the current policies happen to do with it. One file maps case keys to labels:
 *
 *   account-compromise/guessed-then-calls:
 *     kind: fraud            # fraud | restricted | legitimate | emergency
 *     stopWithin: 1          # optional: the hang-up must hit one of the first n outbound calls
 *     why: a guessed password used to call Cuba a minute later
 *
 * `fraud` and `restricted` (a destination the default set refuses by design) must be stopped;
 * `legitimate` and `emergency` must be left alone (alerts allowed).
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { parseYaml, validateSource, ValidationError } from '../config/yaml-source.js';

export const LABEL_KINDS = ['fraud', 'restricted', 'legitimate', 'emergency'] as const;
export type LabelKind = (typeof LABEL_KINDS)[number];

const labelSchema = z.strictObject({
  kind: z.enum(LABEL_KINDS),
  stopWithin: z.number().int().positive().optional(),
  why: z.string().min(1),
});

const labelsSchema = z.record(z.string().regex(/^[^/\s]+\/[^/\s]+$/, 'a case key is <directory>/<case name>'), labelSchema);

export type CorpusLabel = z.infer<typeof labelSchema>;

/** True for the kinds that must be stopped (fraud, restricted). */
export function mustBeStopped(kind: LabelKind): boolean {
  return kind === 'fraud' || kind === 'restricted';
}

/** Reads a labels file; every problem is reported at once, with its line. */
export function readLabels(file: string): Map<string, CorpusLabel> {
  const source = parseYaml(readFileSync(file, 'utf8'), file);
  const raw: unknown = source.doc.toJS() ?? {};
  const result = validateSource(source, labelsSchema, raw);
  if (source.issues.length > 0 || !result.ok) throw new ValidationError([...source.issues, ...(result.ok ? [] : result.issues)], `invalid corpus labels in ${file}`);
  const labels = new Map<string, CorpusLabel>();
  for (const [key, label] of Object.entries(result.value)) {
    if (label.stopWithin !== undefined && !mustBeStopped(label.kind)) throw new ValidationError([{ file, key: `${key}.stopWithin`, message: 'only fraud and restricted cases are stopped' }], `invalid corpus labels in ${file}`);
    labels.set(key, label);
  }
  return labels;
}
