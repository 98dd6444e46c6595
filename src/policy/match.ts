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
        const digits = facts.classification?.e164?.slice(1);
        return digits !== undefined && prefixes.some((prefix) => digits.startsWith(prefix));
      });
    }
    if (destination.invalid !== undefined) {
      const wanted = destination.invalid;
      tests.push((facts) => facts.classification !== undefined && !facts.classification.valid === wanted);
    }
  }
  if (tests.length === 0) return () => true;
  return (facts) => tests.every((test) => test(facts));
}

/** The policy's `match` minus its `exceptions`: applies when the match holds and no exception does. */
export function compileScope(match: MatchBlock, exceptions: readonly ExceptionBlock[]): { applies: CallPredicate; exceptionFor: (facts: CallFacts) => ExceptionBlock | undefined } {
  const matches = compileMatch(match);
  const compiled = exceptions.map((exception) => ({ exception, test: compileMatch(exception) }));
  const exceptionFor = (facts: CallFacts): ExceptionBlock | undefined => compiled.find((entry) => entry.test(facts))?.exception;
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
  return (value) => exact.has(value) || wild.some((regex) => regex.test(value));
}
