#!/usr/bin/env node
// Opens a report.html in Debian's headless Chromium, offline (every request that
// is not file:// is refused and recorded), waits until the page is ready (plots
// drawn, the selected run's model run on the bundled images) and reports the
// load time; optionally writes a screenshot. The browser test drives pages with
// the same functions.
//
//   node scripts/report-page.mjs <report.html> [--screenshot out.png] [--interact] [--rounds N]
//
// --interact, before the screenshot: hover the knee (its tooltip shows) and draw a 7
// on the canvas (the selected run's network predicts it). The README's screenshot
// of the Reiners quick run is made this way.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/** Debian's chromium, or $MOPRUNE_CHROMIUM. */
export function chromiumPath() {
  const fromEnv = process.env.MOPRUNE_CHROMIUM;
  if (fromEnv !== undefined && existsSync(fromEnv)) return fromEnv;
  for (const p of ['/usr/bin/chromium', '/usr/bin/chromium-browser']) if (existsSync(p)) return p;
  try {
    return execFileSync('which', ['chromium'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error(
      "the browser tests need Debian's 'chromium' package (apt-get install chromium; scripts/setup.sh installs it) or MOPRUNE_CHROMIUM=<path to a Chrome/Chromium binary>",
    );
  }
}

/** Headless Chromium through puppeteer-core (its own browser download cannot work here). */
export async function launchChromium() {
  let puppeteer;
  try {
    puppeteer = await import('puppeteer-core');
  } catch (e) {
    throw new Error(
      "the browser tests need the 'puppeteer-core' package (pnpm install at the repository root)",
      {
        cause: e,
      },
    );
  }
  return puppeteer.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
}

/**
 * Opens `file` (a report.html) in a new page of `browser` with the network cut
 * off, and waits for `window.moprune.ready`.
 * @returns the page, the console errors and page errors, the refused requests and the load time (ms from
 *   navigation start to ready, as the page measures it)
 */
export async function openReport(browser, file, { width = 1400, height = 1000 } = {}) {
  const page = await browser.newPage();
  await page.setViewport({ width, height });
  const errors = [];
  const refused = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`page: ${String(e)}`));
  await page.setRequestInterception(true);
  page.on('request', (r) => {
    if (r.url().startsWith('file:') || r.url().startsWith('data:')) return void r.continue();
    refused.push(r.url());
    void r.abort();
  });
  await page.goto(pathToFileURL(resolve(file)).href, { waitUntil: 'load' });
  await page.waitForFunction(() => window.moprune !== undefined, { timeout: 60_000 });
  await page.evaluate(() => window.moprune.ready);
  const loadMs = await page.evaluate(() => window.moprune.loadMs());
  return { page, errors, refused, loadMs };
}

/** Draws a 7 on the page's canvas and hovers the front's knee (or its first point). */
export async function interact(page) {
  const canvas = await page.$('#draw');
  if (canvas !== null) {
    const b = await canvas.boundingBox();
    const at = (x, y) => page.mouse.move(b.x + b.width * x, b.y + b.height * y, { steps: 8 });
    await at(0.25, 0.22);
    await page.mouse.down();
    await at(0.72, 0.22);
    await at(0.45, 0.82);
    await page.mouse.up();
    await page.waitForFunction(() => window.moprune.drawnPrediction() !== null, { timeout: 10_000 });
  }
  const point = await page.$('#plot-0 svg .knee_point_marks path, #plot-0 svg path.mark-symbol');
  if (point !== null) {
    await page.evaluate(() => document.getElementById('plot-0').scrollIntoView({ block: 'start' }));
    const b = await point.boundingBox();
    await page.mouse.move(b.x + b.width / 2, b.y + b.height / 2);
    await page.waitForSelector('#moprune-tooltip:not([hidden])', { timeout: 10_000 });
  }
}

async function cli() {
  const args = process.argv.slice(2);
  const file = args.find((a) => !a.startsWith('--') && !/^\d+$/.test(a));
  const opt = (name) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  if (file === undefined) {
    console.error('usage: node scripts/report-page.mjs <report.html> [--screenshot out.png] [--rounds N]');
    process.exit(2);
  }
  const rounds = Number(opt('--rounds') ?? 3);
  const browser = await launchChromium();
  try {
    const times = [];
    for (let r = 0; r < rounds; r++) {
      const { page, errors, refused, loadMs } = await openReport(browser, file);
      times.push(loadMs);
      if (errors.length > 0) console.log(`errors: ${errors.join('\n')}`);
      if (refused.length > 0) console.log(`refused requests: ${refused.join(', ')}`);
      const shot = opt('--screenshot');
      if (shot !== undefined && r === rounds - 1) {
        if (args.includes('--interact')) await interact(page);
        await page.screenshot({ path: shot, fullPage: false });
        console.log(`screenshot: ${shot}`);
      }
      await page.close();
    }
    const sorted = [...times].sort((a, b) => a - b);
    console.log(
      `load to ready (plots drawn, selected model run on the bundled images), ${rounds} fresh pages: ` +
        `${times.map((t) => `${t.toFixed(0)} ms`).join(', ')}; median ${sorted[Math.floor(rounds / 2)].toFixed(0)} ms`,
    );
  } finally {
    await browser.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await cli();
