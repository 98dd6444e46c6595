/**
 * `tollgate profile <endpoint> [--json]`: what the agent has learnt about one endpoint's habits —
 * the networks it registers from, its User-Agents, the countries it calls, the hours and weekdays it
 * is active, its usual day — each with first and last seen. Reads the agent's database.
 */
import type { Command } from 'commander';
import { formatMicros } from '../rates/money.js';
import type { AddressRecord } from '../profile/addresses.js';
import type { ProfileDay, ProfileFacet, ProfileValue } from '../profile/profile.js';
import { Store } from '../store/store.js';
import { configFromOptions } from './common.js';

interface ProfileCommandOptions {
  config?: string;
  json?: boolean;
}

/** Everything learnt about one endpoint, as `--json` prints it. */
export interface EndpointProfileReport {
  endpoint: string;
  learningSince?: string;
  addresses: { network: string; address: string; firstSeen: string; lastSeen: string; trusted: boolean }[];
  userAgents: FacetEntry[];
  countries: FacetEntry[];
  hours: FacetEntry[];
  weekdays: FacetEntry[];
  days: ProfileDay[];
}

interface FacetEntry {
  value: string;
  count: number;
  firstSeen: string;
  lastSeen: string;
}

export function registerProfileCommand(program: Command): void {
  program
    .command('profile')
    .description("print what Tollgate has learnt about an endpoint's habits: networks, User-Agents, countries called, hours, weekdays, calls per day")
    .argument('<endpoint>', 'endpoint name, e.g. 1001')
    .option('-c, --config <file>', 'configuration file')
    .option('--json', 'one JSON object')
    .action((endpoint: string, options: ProfileCommandOptions) => {
      const report = endpointProfile(configFromOptions(options).config.db.file, endpoint);
      console.log(options.json ? JSON.stringify(report, null, 2) : formatProfile(report).join('\n'));
    });
}

export function endpointProfile(dbFile: string, endpoint: string): EndpointProfileReport {
  const store = new Store(dbFile);
  try {
    const values = store.profileValues(endpoint);
    const facet = (name: ProfileFacet): FacetEntry[] =>
      values
        .filter((value) => value.facet === name)
        .sort((a, b) => (name === 'hour' ? a.value.localeCompare(b.value) : b.lastSeen - a.lastSeen))
        .map((value: ProfileValue) => ({ value: value.value, count: value.count, firstSeen: iso(value.firstSeen), lastSeen: iso(value.lastSeen) }));
    const since = Number(store.meta('profiles.since'));
    const report: EndpointProfileReport = {
      endpoint,
      addresses: store.addressesOf(endpoint).map((record: AddressRecord) => ({ network: record.network, address: record.address, firstSeen: iso(record.firstSeen), lastSeen: iso(record.lastSeen), trusted: record.trusted })),
      userAgents: facet('user-agent'),
      countries: facet('country'),
      hours: facet('hour'),
      weekdays: facet('weekday'),
      days: store.profileDays(endpoint),
    };
    if (since) report.learningSince = iso(since);
    return report;
  } finally {
    store.close();
  }
}

export function formatProfile(report: EndpointProfileReport): string[] {
  const empty = report.addresses.length + report.userAgents.length + report.countries.length + report.hours.length === 0;
  if (empty) return [`nothing learnt about ${report.endpoint} yet${report.learningSince ? ` (learning since ${report.learningSince})` : ''}`];
  const seen = (entry: { firstSeen: string; lastSeen: string }): string => `first ${entry.firstSeen.slice(0, 16)}Z, last ${entry.lastSeen.slice(0, 16)}Z`;
  const lines = [`${report.endpoint}${report.learningSince ? ` (learning since ${report.learningSince})` : ''}`];
  lines.push('  networks:', ...listOr(report.addresses.map((entry) => `    ${entry.network.padEnd(22)} last ${entry.address.padEnd(16)} ${seen(entry)}${entry.trusted ? '  trusted' : ''}`)));
  lines.push('  User-Agents:', ...listOr(report.userAgents.map((entry) => `    "${entry.value}"  ${seen(entry)}`)));
  lines.push('  countries called:', ...listOr(report.countries.map((entry) => `    ${entry.value}  ${entry.count} call${entry.count === 1 ? '' : 's'}, ${seen(entry)}`)));
  lines.push(`  active hours: ${report.hours.map((entry) => entry.value).join(' ') || '-'}`);
  lines.push(`  active days: ${report.weekdays.map((entry) => entry.value).join(' ') || '-'}`);
  const days = report.days.slice(-28);
  if (days.length > 0) {
    const calls = days.reduce((sum, day) => sum + day.calls, 0);
    const international = days.reduce((sum, day) => sum + day.international, 0);
    const micros = days.reduce((sum, day) => sum + day.internationalMicros, 0);
    lines.push(`  last ${days.length} active day${days.length === 1 ? '' : 's'}: ${calls} calls, ${international} international, ${formatMicros(micros)} spent abroad`);
  }
  return lines;
}

function listOr(lines: string[]): string[] {
  return lines.length > 0 ? lines : ['    -'];
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
