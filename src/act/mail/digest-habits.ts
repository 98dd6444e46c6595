/**
 * The digest's section on habits: the networks, User-Agents and countries each endpoint used for
 * the first time that day (store.profileNews). A first is not an alarm — the endpoint-baseline
 * policy says when one is — but an admin reading it learns what changed on the PBX yesterday.
 */
import type { Block } from './format.js';

export interface HabitNews {
  endpoint: string;
  /** `address`, `user-agent` or `country`. */
  facet: string;
  value: string;
  firstSeen: number;
}

const FACET_TITLES: Readonly<Record<string, string>> = { address: 'new networks', 'user-agent': 'new User-Agents', country: 'new countries called' };
const MAX_ENDPOINTS = 50;

/** One row per endpoint: its new networks, User-Agents and countries of the day. */
export function habitBlocks(news: readonly HabitNews[]): Block[] {
  const blocks: Block[] = [{ type: 'heading', text: 'New networks, User-Agents and countries per endpoint' }];
  if (news.length === 0) return [...blocks, { type: 'paragraph', text: 'None: every endpoint kept to what it had done before.' }];
  const byEndpoint = new Map<string, Map<string, string[]>>();
  for (const item of news) {
    const facets = byEndpoint.get(item.endpoint) ?? new Map<string, string[]>();
    facets.set(item.facet, [...(facets.get(item.facet) ?? []), item.value]);
    byEndpoint.set(item.endpoint, facets);
  }
  const facets = Object.keys(FACET_TITLES);
  const rows = [...byEndpoint.entries()].slice(0, MAX_ENDPOINTS).map(([endpoint, values]) => [endpoint, ...facets.map((facet) => (values.get(facet) ?? []).join(', ') || '-')]);
  blocks.push({ type: 'table', head: ['Endpoint', ...facets.map((facet) => FACET_TITLES[facet]!)], rows });
  if (byEndpoint.size > MAX_ENDPOINTS) blocks.push({ type: 'paragraph', text: `… and ${byEndpoint.size - MAX_ENDPOINTS} more endpoints (tollgate profile <endpoint>).` });
  return blocks;
}
