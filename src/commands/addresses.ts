/**
 * `tollgate addresses [endpoint]` and `tollgate trust-address <endpoint> <address>`: what the agent
 * has learnt about where each endpoint logs in from, and the admin's confirmation that an endpoint
 * really moved to a new network (its calls from there then no longer count as "from a new
 * address"). Both act on the agent's database (agent-database.ts: the configuration's, never a new
 * one, named in the output); the running agent sees a trust at its next check.
 */
import type { Command } from 'commander';
import { normaliseIp } from '../net/cidr.js';
import { AddressMemory } from '../profile/addresses.js';
import { agentDatabaseLines, withAgentDatabase } from './agent-database.js';
import { configFromOptions } from './common.js';
import { endpointNameProblem } from './locks.js';

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
  const problem = endpointNameProblem(endpoint);
  if (problem) throw new Error(problem);
  const network = new AddressMemory().networkOf(ip);
  return withAgentDatabase(dbFile, (store) => {
    const known = store.addressesOf(endpoint).find((record) => record.network === network);
    store.trustAddress({ endpoint, network, address: ip, firstSeen: known?.firstSeen ?? now, lastSeen: known?.lastSeen ?? now, via: known?.via ?? 'trusted', trusted: true });
    return [`${endpoint} may now log in from ${network} (${ip}): its calls from there no longer count as from a new address`, ...agentDatabaseLines(store, now)];
  });
}

export function listAddresses(dbFile: string, endpoint: string | undefined): string[] {
  return withAgentDatabase(dbFile, (store) => {
    const records = endpoint ? store.addressesOf(endpoint) : store.addresses();
    const head = agentDatabaseLines(store, Date.now());
    if (records.length === 0) return [...head, endpoint ? `nothing learnt about ${endpoint} yet` : 'no endpoint address learnt yet'];
    return [
      ...head,
      ...records.map(
        (record) =>
          `${record.endpoint.padEnd(12)} ${record.network.padEnd(22)} last ${record.address.padEnd(16)} first seen ${new Date(record.firstSeen).toISOString()}  last seen ${new Date(record.lastSeen).toISOString()}  ${record.trusted ? 'trusted' : `learnt from ${record.via === 'auth' ? 'a login' : 'a registration'}`}`,
      ),
    ];
  });
}
