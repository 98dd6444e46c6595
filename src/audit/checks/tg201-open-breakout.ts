import { finding, type AuditFinding, type Check } from './types.js';

/** An untrusted entry (inbound trunk, endpoint without password, guest) reaches a trunk Dial(). */
export const TG201: Check = {
  id: 'TG201',
  name: 'open-breakout',
  severity: 'critical',
  title: 'Open breakout: callers from outside reach an outbound trunk',
  why: 'A call that comes in from a trunk, a guest or an endpoint without password can dial back out through your trunk (directly, through include =>, Goto/Gosub/Macro, an IVR, DISA or Local channels): the classic toll-fraud relay, billed to you.',
  fix: 'Give inbound trunks and guests a context that only routes your own DIDs to phones/IVRs (exact extensions, no include of an outbound context), and make IVR contexts include nothing that dials out.',
  run(context) {
    const out: AuditFinding[] = [];
    for (const entry of context.entries) {
      const breakout = context.breakout(entry.context);
      if (!breakout) continue;
      out.push(finding(TG201, entry.at, `calls from ${entry.label} land in context "${entry.context}", which reaches a trunk: ${breakout}`));
    }
    return out;
  },
};
