#!/usr/bin/env node
/**
 * Renders the HTML of every mail kind (src/act/mail/gallery.ts, built into dist/) and takes a
 * headless Chromium screenshot of each, to look at the mails as an admin's mail client shows them.
 *
 *   npm run mail:screenshots                 # → .scratch/mail-screenshots/<kind>.html and .png
 *   npm run mail:screenshots -- --out dir    # somewhere else
 *   CHROMIUM=/path/to/chrome npm run mail:screenshots
 *
 * The output directory is gitignored: screenshots are looked at, never committed. Chromium comes
 * from the system (Debian: `apt-get install chromium`); nothing is added to the package.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const outIndex = args.indexOf('--out');
const out = resolve(outIndex >= 0 && args[outIndex + 1] ? args[outIndex + 1] : join(root, '.scratch', 'mail-screenshots'));
const width = 900;

const gallery = join(root, 'dist', 'act', 'mail', 'gallery.js');
if (!existsSync(gallery)) {
  console.error('dist/ is missing or stale: run `npm run build` first (npm run mail:screenshots does).');
  process.exit(1);
}
const browser = [process.env.CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].find((path) => path && existsSync(path));
if (!browser) {
  console.error('No Chromium found: install it (Debian: `apt-get install -y chromium`) or set CHROMIUM=/path/to/chrome.');
  process.exit(1);
}

const { mailGallery } = await import(gallery);
mkdirSync(out, { recursive: true });
for (const { kind, mail } of mailGallery()) {
  const html = join(out, `${kind}.html`);
  const png = join(out, `${kind}.png`);
  writeFileSync(html, mail.html);
  // Long mails need a tall window: estimate from the plain text's line count.
  const height = Math.min(6000, Math.max(700, mail.text.split('\n').length * 24 + 200));
  // A fresh profile per shot, no network beyond the file: nothing is fetched, nothing is kept.
  const profile = mkdtempSync(join(tmpdir(), 'tollgate-chromium-'));
  try {
    execFileSync(
      browser,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--hide-scrollbars',
        `--user-data-dir=${profile}`,
        `--screenshot=${png}`,
        `--window-size=${width},${height}`,
        `file://${html}`,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'], timeout: 60_000 },
    );
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
  console.log(`${kind.padEnd(22)} ${png}  (${mail.subject})`);
}
