import { formatLocation } from '../conf/index.js';
import { isWidePattern } from '../dialplan.js';
import { finding, type AuditFinding, type Check } from './types.js';

/** `_X.`, `_.`, `_!` … reachable from an untrusted entry and leading to a trunk. */
export const TG203: Check = {
  id: 'TG203',
  name: 'wide-pattern-from-outside',
  severity: 'high',
  title: 'Catch-all pattern dials out and is reachable from outside',
  why: 'A pattern such as _X. or _. matches any number the caller sends; in a context that inbound trunks, guests or IVR callers reach, it turns your PBX into a free gateway to any destination.',
  fix: 'In contexts reachable from outside, match only your own DIDs/extensions exactly (e.g. `exten => 4930123456,1,…`), and move catch-all outbound patterns to contexts only authenticated phones use.',
  run(context) {
    const out: AuditFinding[] = [];
    const { reach, entryOf } = context.reachableFromEntries();
    for (const { context: ctx, exten } of reach.extensions) {
      if (!isWidePattern(exten)) continue;
      const first = context.dialplan.reach(ctx.name, exten, { stopAtTrunk: true }).trunkDials[0];
      if (!first) continue;
      const entry = entryOf(ctx.name, exten)!;
      const start = ctx.extensions.get(exten)![0]!;
      out.push(finding(TG203, start.at, `exten ${exten} in [${ctx.name}] matches any number, is reachable from ${entry.label} (context "${entry.context}") and dials a trunk: ${first.dial.destination} (${formatLocation(first.dial.priority.at)})`));
    }
    return out;
  },
};
