/**
 * Match blocks compiled once into predicates. Inside a block every key given must match (AND);
 * inside a key's list any entry may match (OR). Names take `*` and `?` wildcards.
 */
import { riskRank } from '../numbers/index.js';
import type { ExceptionBlock, MatchBlock } from './schema.js';
import type { CallFacts } from './types.js';

export type CallPredicate = (facts: CallFacts) => boolean;

export function compileMatch(block: MatchBlock): CallPredicate {
  const tests: CallPredicate[] = [];
  if (block.direction) {
    const directions = new Set<string>(block.direction);
    tests.push((facts) => directions.has(facts.direction));
  }
  if (block.endpoints) tests.push(nameTest(block.endpoints, (facts) => facts.endpoint));
  if (block.contexts) tests.push(nameTest(block.contexts, (facts) => facts.context));
  if (block.trunks) tests.push(nameTest(block.trunks, (facts) => facts.trunk));
  if (block.accountCodes) tests.push(nameTest(block.accountCodes, (facts) => facts.accountCode));
  const destination = block.destination;
  if (destination) {
    if (destination.scopes) {
      const scopes = new Set<string>(destination.scopes);
      tests.push((facts) => facts.classification !== undefined && scopes.has(facts.classification.scope));
    }
    if (destination.countries) {
      const countries = new Set<string>(destination.countries);
      tests.push((facts) => facts.classification?.country !== undefined && countries.has(facts.classification.country));
    }
    if (destination.types) {
      const types = new Set<string>(destination.types);
      tests.push((facts) => facts.classification !== undefined && types.has(facts.classification.type));
    }
    if (destination.minRisk) {
      const floor = riskRank(destination.minRisk);
      tests.push((facts) => facts.classification !== undefined && riskRank(facts.classification.risk) >= floor);
    }
    if (destination.prefixes) {
      const prefixes = destination.prefixes;
      tests.push((facts) => {
        const e164 = facts.classification?.e164;
        if (e164 === undefined) return false;
        // The digits after `+`, compared in place (no copy, no closure: this runs for every call).
        for (const prefix of prefixes) if (e164.startsWith(prefix, 1)) return true;
        return false;
      });
    }
    if (destination.invalid !== undefined) {
      const wanted = destination.invalid;
      tests.push((facts) => facts.classification !== undefined && !facts.classification.valid === wanted);
    }
  }
  if (tests.length === 0) return () => true;
  return (facts) => {
    for (const test of tests) if (!test(facts)) return false;
    return true;
  };
}

/** The policy's `match` minus its `exceptions`: applies when the match holds and no exception does. */
export function compileScope(match: MatchBlock, exceptions: readonly ExceptionBlock[]): { applies: CallPredicate; exceptionFor: (facts: CallFacts) => ExceptionBlock | undefined } {
  const matches = compileMatch(match);
  const compiled = exceptions.map((exception) => ({ exception, test: compileMatch(exception) }));
  const exceptionFor = (facts: CallFacts): ExceptionBlock | undefined => {
    for (const entry of compiled) if (entry.test(facts)) return entry.exception;
    return undefined;
  };
  return { applies: (facts) => matches(facts) && exceptionFor(facts) === undefined, exceptionFor };
}

function nameTest(patterns: readonly string[], value: (facts: CallFacts) => string | undefined): CallPredicate {
  const matcher = globMatcher(patterns);
  return (facts) => {
    const actual = value(facts);
    return actual !== undefined && matcher(actual);
  };
}

/** `*` any run of characters, `?` one character; everything else literal. */
export function globMatcher(patterns: readonly string[]): (value: string) => boolean {
  const exact = new Set(patterns.filter((pattern) => !/[*?]/.test(pattern)));
  const wild = patterns
    .filter((pattern) => /[*?]/.test(pattern))
    .map((pattern) => new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`));
  return (value) => {
    if (exact.has(value)) return true;
    for (const regex of wild) if (regex.test(value)) return true;
    return false;
  };
}
