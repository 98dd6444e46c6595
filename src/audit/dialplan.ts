/**
 * The dialplan as a graph (extensions.conf, pbx_config syntax), built once and asked by every check:
 * which contexts and extensions a caller landing in a context can reach — through `include =>`,
 * Goto/GotoIf/GotoIfTime, Gosub/GosubIf, Macro, ExecIf, DISA, Dial/Page(Local/…@ctx), and IVRs
 * (BackGround/WaitExten let the caller dial any extension of the context) — and which Dial()s go
 * out through a trunk. Dynamic targets (`${VAR}` contexts) cannot be followed and are counted.
 */
import { get, type AsteriskConfig, type ConfFile, type ConfLocation, type ConfSection } from './conf/index.js';
import type { Endpoint } from './model.js';

export interface Priority {
  context: string;
  exten: string;
  priority: string;
  app: string;
  /** Argument text inside the parentheses, as written (globals not expanded). */
  argText: string;
  args: string[];
  /** `App(args)` as written. */
  raw: string;
  at: ConfLocation;
}

export interface Context {
  name: string;
  at: ConfLocation;
  sections: ConfSection[];
  /** Extension name (as written, with `_`) → its priorities in file order. */
  extensions: Map<string, Priority[]>;
  includes: { name: string; at: ConfLocation }[];
}

export interface Edge {
  context: string;
  /** An extension (literal or pattern name) or '*' for every extension of the context. */
  exten: string;
  via: string;
  at: ConfLocation;
}

export interface TrunkDial {
  priority: Priority;
  /** The destination as dialled, globals expanded, e.g. `PJSIP/${EXTEN}@carrier`. */
  destination: string;
}

export interface ReachStep {
  text: string;
  at: ConfLocation;
}

export interface Reach {
  /** Extensions reached (context + extension name). */
  extensions: { context: Context; exten: string }[];
  contexts: Set<string>;
  trunkDials: { dial: TrunkDial; path: ReachStep[] }[];
  /** Jumps whose target context is only known at run time. */
  dynamic: Priority[];
}

const NON_CONTEXTS = new Set(['general', 'globals']);
export const LOCK_CHECK = /Gosub\s*\(\s*tollgate-check|DB_EXISTS\s*\(\s*tollgate\/lock\/|AGI\s*\(\s*agi:\/\/[^)]*tollgate/i;

export class Dialplan {
  readonly contexts = new Map<string, Context>();
  readonly globals = new Map<string, string>();
  readonly file: ConfFile | undefined;
  private readonly trunkEndpoints: Set<string>;
  private readonly trunkDialCache = new Map<Priority, TrunkDial | undefined>();
  private readonly edgeCache = new Map<Priority, { edges: Edge[]; dynamic: boolean }>();

  constructor(config: AsteriskConfig, endpointList: readonly Endpoint[]) {
    this.file = config.files.get('extensions.conf');
    this.trunkEndpoints = new Set(endpointList.filter((endpoint) => endpoint.trunk).map((endpoint) => `${endpoint.tech}/${endpoint.name}`.toLowerCase()));
    if (!this.file) return;
    for (const section of this.file.sections) {
      const lower = section.name.toLowerCase();
      if (lower === 'globals') {
        for (const value of section.values) this.globals.set(value.key, value.value);
        continue;
      }
      if (NON_CONTEXTS.has(lower) || section.isTemplate) continue;
      let context = this.contexts.get(lower);
      if (!context) {
        context = { name: section.name, at: section.at, sections: [], extensions: new Map(), includes: [] };
        this.contexts.set(lower, context);
      }
      context.sections.push(section);
      let lastExten: string | undefined;
      for (const value of section.values) {
        const key = value.key.toLowerCase();
        if (key === 'include') {
          context.includes.push({ name: value.value.split(',')[0]!.trim(), at: value.at });
          continue;
        }
        if (key !== 'exten' && key !== 'same') continue;
        let exten: string;
        let rest: string;
        if (key === 'exten') {
          const comma = value.value.indexOf(',');
          if (comma < 0) continue;
          exten = value.value.slice(0, comma).trim();
          rest = value.value.slice(comma + 1);
          lastExten = exten;
        } else {
          if (lastExten === undefined) continue;
          exten = lastExten;
          rest = value.value;
        }
        const comma = rest.indexOf(',');
        const priority = (comma < 0 ? rest : rest.slice(0, comma)).trim();
        if (priority.toLowerCase() === 'hint') continue;
        const appText = comma < 0 ? '' : rest.slice(comma + 1).trim();
        const { app, argText } = splitApp(appText);
        const entry: Priority = { context: section.name, exten, priority, app, argText, args: splitArgs(argText), raw: appText, at: value.at };
        const list = context.extensions.get(exten) ?? [];
        list.push(entry);
        context.extensions.set(exten, list);
      }
    }
  }

  context(name: string): Context | undefined {
    return this.contexts.get(name.toLowerCase());
  }

  /** Expands `${GLOBAL(X)}` and `${X}` for variables set in [globals]. */
  expand(text: string): string {
    return text.replace(/\$\{GLOBAL\((\w+)\)\}|\$\{(\w+)\}/g, (whole, a: string | undefined, b: string | undefined) => this.globals.get((a ?? b)!) ?? whole);
  }

  /** Every priority of the dialplan, in file order per context. */
  *priorities(): Generator<Priority> {
    for (const context of this.contexts.values()) for (const list of context.extensions.values()) yield* list;
  }

  /** The Dial() destinations of a priority that go out through a trunk (first one), if any. */
  trunkDial(priority: Priority): TrunkDial | undefined {
    if (this.trunkDialCache.has(priority)) return this.trunkDialCache.get(priority);
    let found: TrunkDial | undefined;
    const app = priority.app.toLowerCase();
    const first = (priority.args[0] ?? '').trim().toLowerCase();
    if ((app === 'macro' && /^dialout-(trunk|enum|dundi)$/.test(first)) || (app === 'gosub' && /^sub-dialout-(trunk|enum|dundi)$/.test(first))) {
      // FreePBX outbound routes dial their trunks through these (the trunk is a run-time variable there)
      found = { priority, destination: `${priority.app}(${priority.argText}) (FreePBX outbound route)` };
    } else if (app === 'dial' && priority.args[0]) {
      for (const destination of splitTop(this.expand(priority.args[0]), '&')) {
        if (this.isTrunkDestination(destination.trim())) {
          found = { priority, destination: destination.trim() };
          break;
        }
      }
    }
    this.trunkDialCache.set(priority, found);
    return found;
  }

  /** PJSIP/num@trunk, PJSIP/ep/sip:uri, SIP|IAX2/peer/num, SIP|IAX2/x@host, DAHDI/g1/num, a known trunk endpoint by name. */
  isTrunkDestination(destination: string): boolean {
    const slash = destination.indexOf('/');
    if (slash < 0) return false;
    const tech = destination.slice(0, slash).toLowerCase();
    const rest = destination.slice(slash + 1);
    if (tech === 'local') return false;
    if (tech === 'pjsip') return /@/.test(rest.split('/')[0]!) || /\/\s*sips?:/i.test(rest) || this.trunkEndpoints.has(`pjsip/${rest.split('/')[0]!.toLowerCase()}`);
    if (tech === 'sip' || tech === 'iax2') return rest.includes('/') || rest.includes('@') || this.trunkEndpoints.has(`${tech}/${rest.toLowerCase()}`);
    if (tech === 'dahdi' || tech === 'zap') return /^[gGrR]/.test(rest) || rest.includes('/');
    return false;
  }

  /** The jumps a priority makes (Goto, Gosub, Macro, Local channels, DISA, IVR prompts). */
  edges(priority: Priority): { edges: Edge[]; dynamic: boolean } {
    let cached = this.edgeCache.get(priority);
    if (!cached) {
      cached = this.computeEdges(priority);
      this.edgeCache.set(priority, cached);
    }
    return cached;
  }

  private computeEdges(priority: Priority): { edges: Edge[]; dynamic: boolean } {
    const edges: Edge[] = [];
    let dynamic = false;
    const self = priority.context;
    const add = (context: string, exten: string): void => {
      const expandedContext = this.expand(context.trim());
      const expandedExten = this.expand(exten.trim());
      if (expandedContext.includes('$')) {
        dynamic = true;
        return;
      }
      edges.push({ context: expandedContext, exten: expandedExten.includes('$') || expandedExten === '' ? '*' : expandedExten, via: priority.raw, at: priority.at });
    };
    const target = (label: string): void => {
      const parts = splitTop(label.trim(), ',').map((part) => part.trim());
      if (parts.length >= 3) add(parts[0]!, parts[1]!);
      else if (parts.length === 2) add(self, parts[0]!);
      // a bare priority/label stays in the same extension
    };
    const conditional = (text: string): void => {
      const question = lastTop(text, '?');
      if (question < 0) return;
      for (const branch of splitTop(text.slice(question + 1), ':')) if (branch.trim()) target(branch);
    };
    const visit = (app: string, argText: string, args: string[]): void => {
      const name = app.toLowerCase();
      if (name === 'goto' || name === 'gosub') target(argText);
      else if (name === 'gotoif' || name === 'gosubif' || name === 'gotoiftime') conditional(argText);
      else if (name === 'macro' || name === 'macroexclusive') {
        if (args[0]) add(`macro-${args[0]}`, 's');
      } else if (name === 'disa') add(args[1]?.split('@')[0] || 'disa', '*');
      else if (name === 'dial' || name === 'page' || name === 'queue' || name === 'originate') {
        for (const destination of splitTop(this.expand(args[0] ?? ''), '&')) {
          const local = /^\s*Local\/([^@]*)@([^/]+)/i.exec(destination);
          if (local) add(local[2]!, local[1]!);
        }
      } else if (name === 'background' || name === 'waitexten') add(self, '*');
      else if (name === 'execif') {
        const question = lastTop(argText, '?');
        if (question >= 0) {
          for (const branch of splitTop(argText.slice(question + 1), ':')) {
            const inner = splitApp(branch.trim());
            if (inner.app) visit(inner.app, inner.argText, splitArgs(inner.argText));
          }
        }
      }
    };
    visit(priority.app, priority.argText, priority.args);
    return { edges, dynamic };
  }

  /** Everything a caller who lands in `context` (any extension, or `exten`) can reach. */
  reach(contextName: string, exten = '*', options: { stopAtTrunk?: boolean } = {}): Reach {
    return this.walk([{ context: contextName, exten, source: 0 }], options.stopAtTrunk ?? false).reach;
  }

  /**
   * One walk from several starting contexts at once (every extension of each): which extensions
   * are reachable, and from which start (the index into `starts`) each was reached first.
   */
  reachFrom(starts: readonly string[]): { reach: Reach; sourceOf: Map<string, number> } {
    return this.walk(starts.map((context, source) => ({ context, exten: '*', source })), false);
  }

  private walk(starts: { context: string; exten: string; source: number }[], stopAtTrunk: boolean): { reach: Reach; sourceOf: Map<string, number> } {
    interface Node {
      context: string;
      exten: string;
      source: number;
      parent: number;
      step?: ReachStep;
    }
    const result: Reach = { extensions: [], contexts: new Set(), trunkDials: [], dynamic: [] };
    const sourceOf = new Map<string, number>();
    const nodes: Node[] = [];
    const seenStates = new Set<string>();
    const push = (node: Node): void => {
      const lower = node.context.toLowerCase();
      if (seenStates.has(`${lower}\u0000*`)) return;
      const key = `${lower}\u0000${node.exten}`;
      if (seenStates.has(key)) return;
      seenStates.add(key);
      nodes.push(node);
    };
    for (const start of starts) push({ ...start, parent: -1 });
    const pathOf = (index: number, last: ReachStep): ReachStep[] => {
      const steps: ReachStep[] = [last];
      for (let at = index; at >= 0; at = nodes[at]!.parent) if (nodes[at]!.step) steps.push(nodes[at]!.step!);
      return steps.reverse();
    };
    for (let index = 0; index < nodes.length; index++) {
      const node = nodes[index]!;
      const context = this.context(node.context);
      if (!context) continue;
      result.contexts.add(context.name);
      for (const [extension, priorities] of context.extensions) {
        if (node.exten !== '*' && extension !== node.exten && !extensionMatches(extension, node.exten)) continue;
        const extensionKey = `${context.name}\u0000${extension}`;
        if (sourceOf.has(extensionKey)) continue;
        sourceOf.set(extensionKey, node.source);
        result.extensions.push({ context, exten: extension });
        for (const priority of priorities) {
          const dial = this.trunkDial(priority);
          if (dial) {
            result.trunkDials.push({ dial, path: pathOf(index, { text: `${context.name},${extension}: ${priority.raw}`, at: priority.at }) });
            if (stopAtTrunk) return { reach: result, sourceOf };
          }
          const { edges, dynamic } = this.edges(priority);
          if (dynamic) result.dynamic.push(priority);
          for (const edge of edges) push({ context: edge.context, exten: edge.exten, source: node.source, parent: index, step: { text: `${context.name},${extension}: ${edge.via}`, at: edge.at } });
        }
      }
      for (const include of context.includes) push({ context: include.name, exten: node.exten, source: node.source, parent: index, step: { text: `include => ${include.name}`, at: include.at } });
    }
    return { reach: result, sourceOf };
  }
}

/** Asterisk extension pattern match (`_X.`, `_NXXNXXXXXX`, `_[1-5]XX`, `_00!`); literal names compare exactly. */
const patternCache = new Map<string, RegExp | null>();

export function extensionMatches(pattern: string, literal: string): boolean {
  const name = pattern.split('/')[0]!;
  if (!name.startsWith('_')) return name.toLowerCase() === literal.toLowerCase();
  let regex = patternCache.get(name);
  if (regex === undefined) {
    regex = patternRegExp(name);
    if (patternCache.size > 10_000) patternCache.clear();
    patternCache.set(name, regex);
  }
  return regex !== null && regex.test(literal);
}

function patternRegExp(name: string): RegExp | null {
  let source = '';
  const body = name.slice(1);
  for (let index = 0; index < body.length; index++) {
    const char = body[index]!;
    const upper = char.toUpperCase();
    if (upper === 'X') source += '[0-9]';
    else if (upper === 'Z') source += '[1-9]';
    else if (upper === 'N') source += '[2-9]';
    else if (char === '.') source += '.+';
    else if (char === '!') source += '.*';
    else if (char === '[') {
      const end = body.indexOf(']', index + 1);
      if (end < 0) source += '\\[';
      else {
        source += `[${body.slice(index + 1, end).replace(/\\/g, '\\\\').replace(/\^/g, '\\^')}]`;
        index = end;
      }
    } else source += char.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
  }
  try {
    return new RegExp(`^${source}$`, 'i');
  } catch {
    return null;
  }
}

/** `_X.`, `_.`, `_!`, `_X!`, `_N.`, `_Z.`, `_[0-9].`: match almost any number a caller dials. */
export function isWidePattern(pattern: string): boolean {
  return /^_(\[[^\]]*\]|[XNZxnz])?[.!]$/.test(pattern.split('/')[0]!);
}

function splitApp(text: string): { app: string; argText: string } {
  const open = text.indexOf('(');
  if (open < 0) return { app: text.trim(), argText: '' };
  const close = text.lastIndexOf(')');
  return { app: text.slice(0, open).trim(), argText: text.slice(open + 1, close > open ? close : undefined) };
}

/** Splits on `separator` outside (), [], {} and quotes. */
export function splitTop(text: string, separator: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let index = 0; index < text.length; index++) {
    const char = text[index]!;
    if (char === '"') quoted = !quoted;
    else if (quoted) continue;
    else if (char === '(' || char === '[' || char === '{') depth++;
    else if ((char === ')' || char === ']' || char === '}') && depth > 0) depth--;
    else if (char === separator && depth === 0) {
      out.push(text.slice(start, index));
      start = index + 1;
    }
  }
  out.push(text.slice(start));
  return out;
}

function lastTop(text: string, char: string): number {
  let depth = 0;
  let found = -1;
  for (let index = 0; index < text.length; index++) {
    const current = text[index]!;
    if (current === '(' || current === '[' || current === '{') depth++;
    else if ((current === ')' || current === ']' || current === '}') && depth > 0) depth--;
    else if (current === char && depth === 0) {
      found = index;
      break;
    }
  }
  return found;
}

function splitArgs(argText: string): string[] {
  return argText === '' ? [] : splitTop(argText, ',').map((arg) => arg.trim());
}

export function contextOfSection(section: ConfSection): string | undefined {
  return get(section, 'context')?.value;
}
