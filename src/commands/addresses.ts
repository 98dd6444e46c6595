/**
 * `tollgate addresses [endpoint]` and `tollgate trust-address <endpoint> <address>`: what the agent
 * has learnt about where each endpoint logs in from, and the admin's confirmation that an endpoint
 * really moved to a new network (its calls from there then no longer count as "from a new
 * address"). Both act on the agent's database; the running agent sees a trust at its next check.
 */
import type { Command } from 'commander';
import { normaliseIp } from '../net/cidr.js';
import { AddressMemory } from '../profile/addresses.js';
import { Store } from '../store/store.js';
import { configFromOptions } from './common.js';

interface AddressCommandOptions {
  config?: string;
}

export function registerAddressCommands(program: Command): void {
  program
    .command('trust-address')
    .description("confirm that an endpoint may log in from an address's network (after checking with its user: never for an address that guessed passwords)")
    .argument('<endpoint>', 'endpoint name, e.g. 1002')
    .argument('<address>', 'IPv4 or IPv6 address, e.g. 203.0.113.7')
    .option('-c, --config <file>', 'configuration file')
    .action((endpoint: string, address: string, options: AddressCommandOptions) => {
      for (const line of trustAddress(configFromOptions(options).config.db.file, endpoint, address, Date.now())) console.log(line);
    });
  program
    .command('addresses')
    .description('list the networks endpoints have logged in and registered from')
    .argument('[endpoint]', 'only this endpoint')
    .option('-c, --config <file>', 'configuration file')
    .action((endpoint: string | undefined, options: AddressCommandOptions) => {
      for (const line of listAddresses(configFromOptions(options).config.db.file, endpoint)) console.log(line);
    });
}

export function trustAddress(dbFile: string, endpoint: string, address: string, now: number): string[] {
  const ip = normaliseIp(address);
  if (!ip) throw new Error(`"${address}" is not an IPv4 or IPv6 address`);
  if (!/^[A-Za-z0-9_.+@-]{1,80}$/.test(endpoint) || endpoint.includes('/')) throw new Error(`"${endpoint}" is not an endpoint name (write 1002, not PJSIP/1002)`);
  const network = new AddressMemory().networkOf(ip);
  const store = new Store(dbFile);
  try {
    const known = store.addressesOf(endpoint).find((record) => record.network === network);
    store.trustAddress({ endpoint, network, address: ip, firstSeen: known?.firstSeen ?? now, lastSeen: known?.lastSeen ?? now, via: known?.via ?? 'trusted', trusted: true });
    return [`${endpoint} may now log in from ${network} (${ip}): its calls from there no longer count as from a new address`, `database: ${dbFile}`];
  } finally {
    store.close();
  }
}

export function listAddresses(dbFile: string, endpoint: string | undefined): string[] {
  const store = new Store(dbFile);
  try {
    const records = endpoint ? store.addressesOf(endpoint) : store.addresses();
    if (records.length === 0) return [endpoint ? `nothing learnt about ${endpoint} yet` : 'no endpoint address learnt yet'];
    return records.map(
      (record) =>
        `${record.endpoint.padEnd(12)} ${record.network.padEnd(22)} last ${record.address.padEnd(16)} first seen ${new Date(record.firstSeen).toISOString()}  last seen ${new Date(record.lastSeen).toISOString()}  ${record.trusted ? 'trusted' : `learnt from ${record.via === 'auth' ? 'a login' : 'a registration'}`}`,
    );
  } finally {
    store.close();
  }
}
