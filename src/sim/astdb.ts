/**
 * An in-memory AstDB: Asterisk stores each entry under the path `/family/key` (keys may contain
 * `/` themselves), and DBDelTree removes a path and everything below it.
 */
export class AstDb {
  private readonly entries = new Map<string, string>();

  get size(): number {
    return this.entries.size;
  }

  get(family: string, key: string): string | undefined {
    return this.entries.get(path(family, key));
  }

  put(family: string, key: string, value: string): void {
    this.entries.set(path(family, key), value);
  }

  /** Removes one entry; false when it did not exist. */
  del(family: string, key: string): boolean {
    return this.entries.delete(path(family, key));
  }

  /** Removes `/family` (or `/family/key`) and every entry below it; returns how many went. */
  delTree(family: string, key?: string): number {
    const prefix = key === undefined || key.length === 0 ? `/${family}` : path(family, key);
    let removed = 0;
    for (const entryPath of [...this.entries.keys()]) {
      if (entryPath === prefix || entryPath.startsWith(`${prefix}/`)) {
        this.entries.delete(entryPath);
        removed++;
      }
    }
    return removed;
  }

  clear(): void {
    this.entries.clear();
  }

  /** Every entry as `{ "/family/key": value }`, sorted by path (what `database show` lists). */
  toObject(): Record<string, string> {
    const record: Record<string, string> = {};
    for (const entryPath of [...this.entries.keys()].sort()) record[entryPath] = this.entries.get(entryPath)!;
    return record;
  }
}

function path(family: string, key: string): string {
  return `/${family}/${key}`;
}
