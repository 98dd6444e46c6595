import { LOCK_CHECK, type Priority } from '../dialplan.js';
import { finding, type AuditFinding, type Check } from './types.js';

const GATE = /AGI\s*\(\s*agi:\/\/[^)]*tollgate/i;

/** A trunk Dial() with no Tollgate lock check or pre-dial gate before it in its extension. */
export const TG204: Check = {
  id: 'TG204',
  name: 'outbound-without-lock-check',
  severity: 'medium',
  title: 'Outbound route without Tollgate\'s lock check',
  why: 'Tollgate locks a hijacked endpoint in AstDB (tollgate/lock/<endpoint>); only a route that checks the lock before Dial() refuses the thief\'s next call — even while Tollgate itself is down or restarting.',
  fix: 'Before Dial() add `same => n,Gosub(tollgate-check,s,1)` and the [tollgate-check] context from the README (it tests DB_EXISTS(tollgate/lock/${CHANNEL(endpoint)})), or the pre-dial gate: `same => n,AGI(agi://127.0.0.1:4573/tollgate,linkedid=${CHANNEL(linkedid)})` then `same => n,GotoIf($["${TOLLGATE_VERDICT}" = "deny"]?denied)`.',
  run(context) {
    const dialplan = context.dialplan;
    const isGate = (priority: Priority): boolean => GATE.test(priority.raw);
    const hasCheck = (priority: Priority): boolean => {
      if (LOCK_CHECK.test(priority.raw) && !isGate(priority)) return true;
      if (!/^(gosub|gosubif|macro)$/i.test(priority.app)) return false;
      // one level down: a subroutine whose body holds the check
      return dialplan.edges(priority).edges.some((edge) => {
        const target = dialplan.context(edge.context);
        return target !== undefined && [...target.extensions.values()].some((list) => list.some((inner) => LOCK_CHECK.test(inner.raw)));
      });
    };
    const out: AuditFinding[] = [];
    for (const ctx of dialplan.contexts.values()) {
      for (const [exten, list] of ctx.extensions) {
        list.forEach((priority, index) => {
          const dial = dialplan.trunkDial(priority);
          if (!dial) return;
          const before = list.slice(0, index);
          if (before.some(hasCheck)) return;
          const gate = before.findIndex(isGate);
          if (gate >= 0) {
            // the gate answers in TOLLGATE_VERDICT; a route that never tests it dials anyway
            if (before.slice(gate + 1).some((inner) => /TOLLGATE_VERDICT/.test(inner.raw))) return;
            out.push(finding(TG204, priority.at, `[${ctx.name}] ${exten}: the pre-dial gate (${before[gate]!.at.file}:${before[gate]!.at.line}) is asked, but its verdict \${TOLLGATE_VERDICT} is never tested before Dial(${dial.destination})`));
            return;
          }
          out.push(finding(TG204, priority.at, `[${ctx.name}] ${exten}: Dial(${dial.destination}) goes out through a trunk with no lock check before it`));
        });
      }
    }
    return out;
  },
};
