/**
 * What each endpoint usually does, learnt from its own traffic: the User-Agents it registers with,
 * the countries it calls, the hours and weekdays it is active, its calls and international spend per
 * day — each with first and last seen. Where it registers from is the address memory's part
 * (./addresses.ts): the two together are the endpoint's profile.
 *
 * Written from events by the engine (registrations and contacts before policies judge, calls after,
 * so a call is judged against what was known before it), read by policies through the evaluation
 * context. Time comes from the events; hours and days are local to the agent's time zone.
 * Persisted by the owner in batches (`drainChanges()`, `restore()`): the live path never writes.
 *
 * Bounded: per endpoint at most MAX_VALUES[facet] values (the least recently seen go first) and
 * DAYS_KEPT days of counters; at most MAX_ENDPOINTS endpoints; anything not seen for `forgetAfterMs`
 * (90 days) is forgotten.
 */
import { DateTime } from 'luxon';
import { dropOldest } from '../bounded.js';
import type { DomainEvent } from '../calls/events.js';
import { LocalCalendar } from '../local-time.js';
import { normaliseIp } from '../net/cidr.js';
import { UserAgentList, type UserAgentEntry } from './user-agents.js';

export const PROFILE_FACETS = ['user-agent', 'country', 'hour', 'weekday'] as const;
export type ProfileFacet = (typeof PROFILE_FACETS)[number];

const MAX_VALUES: Readonly<Record<ProfileFacet, number>> = { 'user-agent': 16, country: 64, hour: 24, weekday: 7 };
const MAX_ENDPOINTS = 20_000;
const DAYS_KEPT = 35;
const DAY_MS = 86_400_000;
/** A value seen again is written back at most this often. */
const LAST_SEEN_WRITE_MS = 3_600_000;
const MAX_COUNTED_CALLS = 20_000;

/** One thing an endpoint was seen doing (a User-Agent, a country called, an hour `09`, a weekday `wed`). */
export interface ProfileValue {
  endpoint: string;
  facet: ProfileFacet;
  value: string;
  firstSeen: number;
  lastSeen: number;
  count: number;
}

/** An endpoint's calls on one local day. */
export interface ProfileDay {
  endpoint: string;
  /** `2026-12-02` in the agent's time zone. */
  day: string;
  calls: number;
  international: number;
  /** International spend, in micro-units of the rate table's currency. */
  internationalMicros: number;
}

/** The endpoint's latest registration as the contact listing reported it. */
export interface ProfileContact {
  userAgent: string;
  address?: string;
  callId?: string;
  at: number;
  expiresAt?: number;
}

/** Typical day of an endpoint, over the days since it was first seen (at most `days`), today excluded. */
export interface ProfileNorm {
  days: number;
  callsPerDay: number;
  internationalPerDay: number;
  internationalMicrosPerDay: number;
}

export interface ProfileChanges {
  values: ProfileValue[];
  days: ProfileDay[];
}

export interface EndpointProfilesOptions {
  /** When learning began (first start of the agent; replay: the first event). */
  since?: number;
  /** @default 'UTC' */
  timezone?: string;
  /** @default 90 days */
  forgetAfterMs?: number;
  /** Scanner User-Agents (policies/lists/user-agents/). */
  scanners?: UserAgentList;
}

/** What the engine tells the profile about a call it has judged. */
export interface ProfileCall {
  linkedid: string;
  endpoint: string;
  at: number;
  international: boolean;
  country?: string;
}

interface EndpointState {
  values: Map<string, ProfileValue>;
  /** The key of each facet's value last moved to the end of `values`. */
  newestOf?: Map<ProfileFacet, string>;
  days: Map<string, ProfileDay>;
  contact?: ProfileContact;
}

export class EndpointProfiles {
  private startedAt: number | undefined;
  private readonly byEndpoint = new Map<string, EndpointState>();
  private readonly changedValues = new Map<string, ProfileValue>();
  private readonly changedDays = new Map<string, ProfileDay>();
  /** When each value was last handed to the store (it goes with the value). */
  private readonly lastWritten = new WeakMap<ProfileValue, number>();
  private readonly countedCalls = new Map<string, true>();
  private lastForget = 0;
  readonly timezone: string;
  private readonly calendar: LocalCalendar;
  private readonly forgetAfterMs: number;
  readonly scanners: UserAgentList;

  constructor(options: EndpointProfilesOptions = {}) {
    this.startedAt = options.since;
    this.timezone = options.timezone ?? 'UTC';
    this.calendar = new LocalCalendar(this.timezone);
    this.forgetAfterMs = options.forgetAfterMs ?? 90 * DAY_MS;
    this.scanners = options.scanners ?? new UserAgentList();
  }

  /** When learning began; undefined until the first event. */
  get since(): number | undefined {
    return this.startedAt;
  }

  /** True while the profile is younger than `learningMs`: learn, judge nothing. */
  learning(now: number, learningMs: number): boolean {
    return now - (this.startedAt ?? now) < learningMs;
  }

  /** Learns from registrations and contact listings (User-Agents). */
  observe(event: DomainEvent, now: number): void {
    this.startedAt ??= now;
    this.forgetOld(now);
    if (event.type === 'contact') {
      if (/^(removed|unregistered)$/i.test(event.status)) return;
      const contact: ProfileContact = { userAgent: event.userAgent, at: now };
      const address = event.ip ? normaliseIp(event.ip) : undefined;
      if (address) contact.address = address;
      if (event.callId) contact.callId = event.callId;
      if (event.expiresAt !== undefined) contact.expiresAt = event.expiresAt;
      this.state(event.endpoint).contact = contact;
      if (event.userAgent) this.learn(event.endpoint, 'user-agent', event.userAgent, now);
    } else if (event.type === 'registration' && /^(removed|unregistered)$/i.test(event.status)) {
      // The registration is gone: its User-Agent stays learnt, but no longer speaks for new calls.
      const state = this.byEndpoint.get(event.endpoint);
      if (state?.contact && (!event.ip || state.contact.address === normaliseIp(event.ip))) delete state.contact;
    }
  }

  /** A call the call table forgot is never learnt again: no need to remember it was. */
  forgetCall(linkedid: string): void {
    this.countedCalls.delete(linkedid);
  }

  /** Learns from a call once it has been judged: its hour, weekday, country and the day's count. */
  learnCall(call: ProfileCall): void {
    this.startedAt ??= call.at;
    if (this.countedCalls.has(call.linkedid)) return;
    this.countedCalls.set(call.linkedid, true);
    if (this.countedCalls.size > MAX_COUNTED_CALLS) dropOldest(this.countedCalls, MAX_COUNTED_CALLS / 10);
    const local = this.calendar.parts(call.at);
    this.learn(call.endpoint, 'hour', local.hour, call.at);
    this.learn(call.endpoint, 'weekday', local.weekday, call.at);
    if (call.international && call.country) this.learn(call.endpoint, 'country', call.country, call.at);
    const day = this.day(call.endpoint, call.at);
    day.calls++;
    if (call.international) day.international++;
    this.changedDays.set(`${call.endpoint}|${day.day}`, day);
  }

  /** The cost of an international call that ended (its day's spend). */
  learnSpend(endpoint: string, at: number, micros: number): void {
    if (micros <= 0) return;
    const day = this.day(endpoint, at);
    day.internationalMicros += micros;
    this.changedDays.set(`${endpoint}|${day.day}`, day);
  }

  /** A value the endpoint was seen with, if it was. */
  known(endpoint: string, facet: ProfileFacet, value: string): ProfileValue | undefined {
    return this.byEndpoint.get(endpoint)?.values.get(`${facet}|${value}`);
  }

  /** Every value of one facet, most recently seen first. */
  valuesOf(endpoint: string, facet: ProfileFacet): ProfileValue[] {
    return [...(this.byEndpoint.get(endpoint)?.values.values() ?? [])].filter((value) => value.facet === facet).sort((a, b) => b.lastSeen - a.lastSeen);
  }

  /** The endpoint's current registration (User-Agent, address), when one was listed. */
  contactOf(endpoint: string): ProfileContact | undefined {
    return this.byEndpoint.get(endpoint)?.contact;
  }

  /** Today's counters of the endpoint (local day of `now`). */
  today(endpoint: string, now: number): ProfileDay {
    const key = this.localDay(now);
    return this.byEndpoint.get(endpoint)?.days.get(key) ?? { endpoint, day: key, calls: 0, international: 0, internationalMicros: 0 };
  }

  /** The endpoint's usual day: averages over the days since it was first seen (today excluded), at most `days`. */
  norm(endpoint: string, now: number, days: number): ProfileNorm {
    const state = this.byEndpoint.get(endpoint);
    const today = this.localDay(now);
    const first = Math.min(...[...(state?.values.values() ?? [])].map((value) => value.firstSeen), now);
    const observed = Math.min(days, Math.max(0, Math.floor((DateTime.fromMillis(now, { zone: this.timezone }).startOf('day').toMillis() - DateTime.fromMillis(first, { zone: this.timezone }).startOf('day').toMillis()) / DAY_MS)));
    const norm: ProfileNorm = { days: observed, callsPerDay: 0, internationalPerDay: 0, internationalMicrosPerDay: 0 };
    if (!state || observed === 0) return norm;
    const oldest = DateTime.fromMillis(now, { zone: this.timezone }).minus({ days: observed }).toFormat('yyyy-MM-dd');
    for (const day of state.days.values()) {
      if (day.day >= today || day.day < oldest) continue;
      norm.callsPerDay += day.calls / observed;
      norm.internationalPerDay += day.international / observed;
      norm.internationalMicrosPerDay += day.internationalMicros / observed;
    }
    return norm;
  }

  /** The scanner list entry a User-Agent matches, if any. */
  scannerOf(userAgent: string | undefined): UserAgentEntry | undefined {
    return this.scanners.match(userAgent);
  }

  /** Endpoints with a profile. */
  endpoints(): string[] {
    return [...this.byEndpoint.keys()];
  }

  /** Values learnt or refreshed since the last call, and days whose counters moved (for the store). */
  drainChanges(): ProfileChanges {
    const changes = { values: [...this.changedValues.values()].map((value) => ({ ...value })), days: [...this.changedDays.values()].map((day) => ({ ...day })) };
    this.changedValues.clear();
    this.changedDays.clear();
    return changes;
  }

  /** Takes back what the store remembered (start of the agent). */
  restore(values: Iterable<ProfileValue>, days: Iterable<ProfileDay>, since: number | undefined): void {
    if (since !== undefined) this.startedAt = since;
    for (const value of values) {
      const state = this.state(value.endpoint);
      const record = { ...value };
      state.values.set(`${value.facet}|${value.value}`, record);
      // Appended: it is now the newest of its facet in the map's order.
      state.newestOf?.delete(value.facet);
      this.lastWritten.set(record, value.lastSeen);
    }
    for (const day of days) this.state(day.endpoint).days.set(day.day, { ...day });
  }

  localDay(at: number): string {
    return this.calendar.parts(at).date;
  }

  private day(endpoint: string, at: number): ProfileDay {
    const days = this.state(endpoint).days;
    const key = this.localDay(at);
    let day = days.get(key);
    if (!day) {
      day = { endpoint, day: key, calls: 0, international: 0, internationalMicros: 0 };
      days.set(key, day);
      if (days.size > DAYS_KEPT) {
        const oldest = [...days.keys()].sort()[0]!;
        days.delete(oldest);
      }
    }
    return day;
  }

  private learn(endpoint: string, facet: ProfileFacet, value: string, now: number): void {
    const state = this.state(endpoint);
    const values = state.values;
    const key = `${facet}|${value}`;
    let record = values.get(key);
    if (record) {
      record.lastSeen = Math.max(record.lastSeen, now);
      record.count++;
      // Map order is recency order within a facet: a value already the newest of its facet stays
      // where it is (no delete and set on every call: the map's table would churn in the old generation).
      if (state.newestOf?.get(facet) !== key) {
        values.delete(key);
        values.set(key, record);
        (state.newestOf ??= new Map()).set(facet, key);
      }
      if (now - (this.lastWritten.get(record) ?? 0) < LAST_SEEN_WRITE_MS) return;
    } else {
      record = { endpoint, facet, value, firstSeen: now, lastSeen: now, count: 1 };
      values.set(key, record);
      (state.newestOf ??= new Map()).set(facet, key);
      const ofFacet = [...values.values()].filter((candidate) => candidate.facet === facet);
      // The least recently seen value of the facet goes first (Map order is recency order).
      if (ofFacet.length > MAX_VALUES[facet]) values.delete(`${facet}|${ofFacet[0]!.value}`);
    }
    this.changedValues.set(`${endpoint}|${key}`, record);
    this.lastWritten.set(record, now);
  }

  private state(endpoint: string): EndpointState {
    let state = this.byEndpoint.get(endpoint);
    if (!state) {
      state = { values: new Map(), days: new Map() };
      this.byEndpoint.set(endpoint, state);
      if (this.byEndpoint.size > MAX_ENDPOINTS) dropOldest(this.byEndpoint, MAX_ENDPOINTS / 10);
    }
    return state;
  }

  /** Once a day: values not seen for `forgetAfterMs` go (the store purges the same rows). */
  private forgetOld(now: number): void {
    if (now - this.lastForget < DAY_MS) return;
    this.lastForget = now;
    const before = now - this.forgetAfterMs;
    for (const state of this.byEndpoint.values()) {
      for (const [key, value] of state.values) if (value.lastSeen < before) state.values.delete(key);
    }
  }
}
