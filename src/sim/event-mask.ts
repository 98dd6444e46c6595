/**
 * AMI permission classes as bit masks, the way manager.c handles `read=`/`write=`, the Login
 * `Events:` header, the `Events` action's `EventMask` and each event's `Privilege:` line.
 */

/** Asterisk's class flags (include/asterisk/manager.h). */
const CLASS_BITS: ReadonlyMap<string, number> = new Map([
  ['system', 1 << 0],
  ['call', 1 << 1],
  ['log', 1 << 2],
  ['verbose', 1 << 3],
  ['command', 1 << 4],
  ['agent', 1 << 5],
  ['user', 1 << 6],
  ['config', 1 << 7],
  ['dtmf', 1 << 8],
  ['reporting', 1 << 9],
  ['cdr', 1 << 10],
  ['dialplan', 1 << 11],
  ['originate', 1 << 12],
  ['agi', 1 << 13],
  ['cc', 1 << 14],
  ['aoc', 1 << 15],
  ['test', 1 << 16],
  ['security', 1 << 17],
  ['message', 1 << 18],
]);

export const ALL_CLASSES = [...CLASS_BITS.values()].reduce((mask, bit) => mask | bit, 0);
export const NO_CLASSES = 0;

const TRUE_WORDS = new Set(['yes', 'true', 'y', 't', '1', 'on']);
const FALSE_WORDS = new Set(['no', 'false', 'n', 'f', '0', 'off']);

/**
 * A `read=`/`write=` style list (`call,security,system`, `all`, `none`) as a mask. Unknown names
 * are ignored, as Asterisk does.
 */
export function classListToMask(list: string): number {
  let mask = 0;
  for (const raw of list.split(',')) {
    const name = raw.trim().toLowerCase();
    if (name === 'all') mask |= ALL_CLASSES;
    else mask |= CLASS_BITS.get(name) ?? 0;
  }
  return mask;
}

/**
 * The Login `Events:` header or the `EventMask` of the `Events` action (manager.c
 * `strings_to_mask`): empty = everything, a number = that bit mask, on/yes/true = everything,
 * off/no/false = nothing, otherwise a class list.
 */
export function eventsHeaderToMask(value: string | undefined): number {
  const text = (value ?? '').trim();
  if (text.length === 0) return ALL_CLASSES;
  const lower = text.toLowerCase();
  if (FALSE_WORDS.has(lower)) return NO_CLASSES;
  if (TRUE_WORDS.has(lower)) return ALL_CLASSES;
  if (/^\d+$/.test(text)) return Number(text) & ALL_CLASSES;
  return classListToMask(text);
}

/**
 * The classes of an event from its `Privilege:` value. `all` is only the suffix Asterisk appends
 * to every Privilege line, not a class of the event, so it is ignored here.
 */
export function privilegeToMask(privilege: string): number {
  let mask = 0;
  for (const raw of privilege.split(',')) {
    const name = raw.trim().toLowerCase();
    if (name !== 'all') mask |= CLASS_BITS.get(name) ?? 0;
  }
  return mask;
}

/** Class names in a mask, in Asterisk's order (for session info and logs). */
export function maskToClassNames(mask: number): string[] {
  const names: string[] = [];
  for (const [name, bit] of CLASS_BITS) if ((mask & bit) !== 0) names.push(name);
  return names;
}

/** manager.c delivers an event only when the session may read, and asked for, every class of it. */
export function maskAllows(sessionMask: number, eventMask: number): boolean {
  return (sessionMask & eventMask) === eventMask;
}
