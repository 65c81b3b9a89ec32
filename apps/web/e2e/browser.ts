import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import { chromium } from 'playwright-core';
import type { Browser, Locator, Page } from 'playwright-core';

/** Debian's chromium (tools/infra.sh installs it); playwright-core never downloads a browser. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** Screenshots of every page the suite visits (git-ignored). */
export const SCREENSHOT_DIR = resolve(__dirname, '../../../.artifacts/screenshots');

/** A loaded 2-core machine: waits are generous, and always wait on a condition, never on time. */
export const WAIT_MS = 60_000;

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS, timeout: 120_000 });
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
}

/** axe-core on the page as it is now: no serious or critical violation. */
export async function expectAccessible(page: Page, what: string): Promise<void> {
  const result = await new AxeBuilder({ page }).analyze();
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  const report = bad.map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
  expect({ page: what, violations: report }).toEqual({ page: what, violations: [] });
}

/** Waits until the locator is visible; returns it. */
export async function see(locator: Locator, timeout = WAIT_MS): Promise<Locator> {
  await locator.first().waitFor({ state: 'visible', timeout });
  return locator;
}

/** Waits until the locator shows no more. */
export async function gone(locator: Locator, timeout = WAIT_MS): Promise<void> {
  await locator.first().waitFor({ state: 'hidden', timeout });
}

/** Every word a person can read or copy out of the page: its text and the values of its fields. */
export function pageText(page: Page): Promise<string> {
  return page.evaluate(() => {
    const values = [...document.querySelectorAll('input, textarea')].map((el) => (el as HTMLInputElement).value);
    return `${document.body.innerText}\n${values.join('\n')}`;
  });
}

/** The text an element's aria-describedby points to (hint, error): what a screen reader reads with it. */
export function descriptionOf(locator: Locator): Promise<string> {
  return locator.evaluate((el) =>
    (el.getAttribute('aria-describedby') ?? '')
      .split(/\s+/)
      .map((id) => document.getElementById(id)?.textContent ?? '')
      .join(' '),
  );
}

/**
 * From a Latchkey page offering "Sign in with <provider>" through the OpenID test provider's own
 * login and consent forms (tools/oidc-test-provider), back on Latchkey.
 */
export async function signInAtProvider(page: Page, at: { latchkeyUrl: string; issuer: string; account: string; provider?: string }): Promise<void> {
  await (await see(page.getByRole('link', { name: `Sign in with ${at.provider ?? 'Okta'}` }))).click();
  await page.waitForURL((url) => url.origin === at.issuer);
  await page.locator('input[name="login"]').fill(at.account);
  await page.locator('input[name="password"]').fill('any password');
  await page.locator('button[type="submit"]').click();
  // The provider's consent page, then the redirect back to Latchkey.
  await page.waitForURL((url) => url.origin === at.latchkeyUrl || url.pathname.includes('/interaction/'));
  if (new URL(page.url()).origin !== at.latchkeyUrl) {
    await page.locator('button[type="submit"]').click();
    await page.waitForURL((url) => url.origin === at.latchkeyUrl);
  }
}
