/** What a check is, what it reports, and the context every check reads (built once per audit). */
import path from 'node:path';
import { formatLocation, type AsteriskConfig, type ConfLocation } from '../conf/index.js';
import { Dialplan, type Reach } from '../dialplan.js';
import { endpoints, sipGuest, type Endpoint } from '../model.js';

export const SEVERITIES = ['critical', 'high', 'medium', 'low', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];

export function severityRank(severity: Severity): number {
  return SEVERITIES.length - SEVERITIES.indexOf(severity);
}

export interface AuditFinding {
  id: string;
  severity: Severity;
  title: string;
  /** What is wrong here, with names and values. */
  message: string;
  /** Why it matters for toll fraud. */
  why: string;
  /** What to change. */
  fix: string;
  at: ConfLocation;
}

export interface Check {
  /** `TG101`: stable, documented in docs/audit.md. */
  id: string;
  /** Short name, e.g. `endpoint-without-auth`. */
  name: string;
  /** Highest severity the check reports (some findings are graded down when no trunk is reachable). */
  severity: Severity;
  title: string;
  why: string;
  fix: string;
  run(context: AuditContext): AuditFinding[];
}

/** Where untrusted callers enter the dialplan: inbound trunks, endpoints without a password, guests. */
export interface Entry {
  label: string;
  context: string;
  at: ConfLocation;
  endpoint?: Endpoint;
}

export class AuditContext {
  readonly endpoints: Endpoint[];
  readonly dialplan: Dialplan;
  readonly entries: Entry[];
  private readonly reaches = new Map<string, Reach>();
  private readonly firstTrunk = new Map<string, Reach['trunkDials'][number] | undefined>();
  private fromEntries: { reach: Reach; sourceOf: Map<string, number> } | undefined;

  constructor(readonly config: AsteriskConfig) {
    this.endpoints = endpoints(config);
    this.dialplan = new Dialplan(config, this.endpoints);
    this.entries = [];
    for (const endpoint of this.endpoints) {
      if (endpoint.authenticated && !endpoint.trunk) continue;
      const kind = endpoint.trunk ? 'inbound trunk' : 'no password';
      this.entries.push({ label: `${endpoint.tech} ${endpoint.name} (${kind})`, context: endpoint.context, at: endpoint.contextAt, endpoint });
    }
    const guest = sipGuest(config);
    if (guest) this.entries.push({ label: 'chan_sip guests (allowguest)', context: guest.context, at: guest.contextAt });
  }

  /** Every extension reachable from any entry, with the entry that reaches it first (one walk, cached). */
  reachableFromEntries(): { reach: Reach; entryOf: (context: string, exten: string) => Entry | undefined } {
    this.fromEntries ??= this.dialplan.reachFrom(this.entries.map((entry) => entry.context));
    const { reach, sourceOf } = this.fromEntries;
    return { reach, entryOf: (context, exten) => this.entries[sourceOf.get(`${context}\u0000${exten}`) ?? -1] };
  }

  /** What a caller landing in `context` can reach (cached). */
  reach(context: string, exten = '*'): Reach {
    const key = `${context.toLowerCase()}\u0000${exten}`;
    let found = this.reaches.get(key);
    if (!found) {
      found = this.dialplan.reach(context, exten);
      this.reaches.set(key, found);
    }
    return found;
  }

  /** The first trunk Dial() reachable from `context`, with the path to it, as one line. */
  breakout(context: string, exten = '*'): string | undefined {
    const key = `${context.toLowerCase()}\u0000${exten}`;
    let first = this.firstTrunk.get(key);
    if (!this.firstTrunk.has(key)) {
      // one walk from all entries at once settles the usual case: no entry reaches any trunk
      const fromEntry = exten === '*' && this.entries.some((entry) => entry.context.toLowerCase() === context.toLowerCase());
      first = fromEntry && this.reachableFromEntries().reach.trunkDials.length === 0 ? undefined : this.dialplan.reach(context, exten, { stopAtTrunk: true }).trunkDials[0];
      this.firstTrunk.set(key, first);
    }
    if (!first) return undefined;
    return [context, ...first.path.map((step) => `${step.text} (${formatLocation({ ...step.at, file: path.basename(step.at.file) })})`)].join(' → ');
  }
}

/** A finding with the check's title, why and fix, and a message and place of its own. */
export function finding(check: Check, at: ConfLocation, message: string, overrides: Partial<Pick<AuditFinding, 'severity' | 'fix'>> = {}): AuditFinding {
  return { id: check.id, severity: overrides.severity ?? check.severity, title: check.title, message, why: check.why, fix: overrides.fix ?? check.fix, at };
}
