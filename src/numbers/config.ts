/**
 * `numbering:` section of the Tollgate configuration: how this PBX's users dial.
 *
 *   numbering:
 *     homeCountry: GB
 *     outsideLineCodes: ["9"]          # stripped before classifying (9 + 0207… / 9 + 999)
 *     internationalPrefixes: ["00"]    # added to homeCountry's own (libphonenumber); where neither
 *                                      # these nor national numbers start with 00 (NANP, Russia),
 *                                      # 00… is read as an international call as well
 *     internalPatterns: ["_1XXX", "_2[0-4]XX"]
 *     emergencyNumbers: ["2222"]       # extra ones beyond the shipped per-country table
 *     trunkPrefixes: ["1010288", "141"] # carrier/tech/feature prefixes in front of the number
 */
import { isSupportedCountry } from 'libphonenumber-js/max';
import { z } from 'zod';
import { defaultInternationalPrefixes } from './idd.js';
import { compileExtensionPattern } from './pattern.js';

const digits = (what: string) =>
  z
    .string()
    .trim()
    .regex(/^[0-9]{1,15}$/, `${what} must be 1 to 15 ASCII digits`);

const numberingObject = z.object({
  /** ISO 3166-1 alpha-2 country the PBX dials from. */
  homeCountry: z
    .string()
    .trim()
    .toUpperCase()
    .refine((country) => isSupportedCountry(country), { message: 'homeCountry must be an ISO 3166-1 alpha-2 country code known to libphonenumber (e.g. US, GB, DE)' })
    .default('US'),
  /** Codes users dial to get an outside line (`9`, `0`); a number may or may not carry one. */
  outsideLineCodes: z.array(digits('an outside-line code')).default([]),
  /** Extra international access codes, added to the home country's own (from libphonenumber metadata). */
  internationalPrefixes: z.array(digits('an international prefix')).optional(),
  /** Internal extension patterns, Asterisk syntax (`_1XXX`, `_NXX`, `_5[0-4]XX`, `_7.`). */
  internalPatterns: z
    .array(
      z
        .string()
        .trim()
        .superRefine((pattern, context) => {
          const compiled = compileExtensionPattern(pattern);
          if (!compiled.ok) context.addIssue({ code: 'custom', message: `bad extension pattern: ${compiled.error}` });
        }),
    )
    .default([]),
  /** Extra emergency numbers (never blocked); the shipped table for homeCountry plus 112/911 always apply. */
  emergencyNumbers: z.array(digits('an emergency number')).default([]),
  /**
   * Prefixes in front of the number that are not part of it, stripped like outside-line codes: carrier
   * or tech prefixes the dialplan adds on a trunk (`1010288`), and per-call feature prefixes the PBX
   * passes through (`*67` caller-ID block in NANP, `141` in the UK). Without them such a string is a
   * feature code (scope `special`).
   */
  trunkPrefixes: z
    .array(
      z
        .string()
        .trim()
        .regex(/^[0-9*#]{1,15}$/, 'a trunk prefix must be 1 to 15 of 0-9 * #'),
    )
    .default([]),
  /** Entries kept in the classifier's LRU cache. */
  cacheSize: z.number().int().positive().max(10_000_000).default(10_000),
});

/** Schema of the `numbering:` section; fills defaults and derives `internationalPrefixes`. */
export const numberingConfigSchema = numberingObject.transform((config) => ({
  ...config,
  // The home country's own access codes always apply; the admin's are added to them (one default everywhere).
  internationalPrefixes: [...new Set([...defaultInternationalPrefixes(config.homeCountry), ...(config.internationalPrefixes ?? [])])].sort((a, b) => b.length - a.length),
}));

/** The `numbering:` section after defaults: every field present. */
export type NumberingConfig = z.output<typeof numberingConfigSchema>;
/** What a user may write in the `numbering:` section: every field optional. */
export type NumberingConfigInput = z.input<typeof numberingConfigSchema>;
