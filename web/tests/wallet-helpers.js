// What the web wallet's browser tests share: the demo's address and keys
// (scripts/browser-tests.sh passes them), a browser at a phone's or a
// desktop's size, a fresh person for each test, and the sandbox phone's
// text messages.

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const need = (name) => {
  const value = process.env[name];
  assert.ok(value, `${name} is not set (run scripts/browser-tests.sh)`);
  return value;
};

// `localhost`, not 127.0.0.1: WebAuthn accepts only a domain as its
// relying party, and the demo's is localhost.
export const base = need('TESSERA_BASE').replace('127.0.0.1', 'localhost');
export const operatorKey = need('TESSERA_OPERATOR_KEY');
export const merchantKey = need('TESSERA_MERCHANT_KEY');

export const PHONE = { width: 390, height: 844 };
export const DESKTOP = { width: 1280, height: 900 };

/** Screenshots go to docs/screenshots, committed and shown in the README. */
const screenshots = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'docs', 'screenshots');

/** A browser of its own with a fresh profile, its pages at `viewport`. */
export async function openBrowser(viewport = PHONE) {
  const userDataDir = mkdtempSync(join(tmpdir(), 'tessera-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    locale: 'zh-CN',
    viewport,
    acceptDownloads: true,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
  const page = context.pages()[0] ?? await context.newPage();
  page.setDefaultTimeout(10_000);
  const problems = [];
  page.on('pageerror', (error) => problems.push(String(error)));
  page.on('dialog', (dialog) => {
    problems.push(`dialog: ${dialog.message()}`);
    dialog.dismiss();
  });
  return {
    context,
    page,
    /** Script errors and dialogs seen: a test asserts there were none. */
    problems,
    async close() {
      await context.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

/** Saves the page as docs/screenshots/NAME.png. */
export async function screenshot(page, name) {
  mkdirSync(screenshots, { recursive: true });
  await page.screenshot({ path: join(screenshots, `${name}.png`), fullPage: true });
}

/** A JSON API call, as a backend would make it. */
export async function api(method, path, { token, body, headers = {} } = {}) {
  const response = await fetch(base + path, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body ? { 'content-type': 'application/json' } : {}),
      ...headers,
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : null };
}

/** The newest six-digit code texted to `phone` in the sandbox. Some codes
 *  are sent after the page answers (so that a page never tells whether a
 *  number has an account): with `notCode`, waits for a newer one. */
export async function latestCode(phone, { notCode } = {}) {
  for (let tries = 0; tries < 50; tries += 1) {
    const sms = await api('GET', `/v1/sandbox/sms?phone=${phone}`, { token: operatorKey });
    assert.equal(sms.status, 200, JSON.stringify(sms.body));
    const code = /(\d{6})/.exec(sms.body.data[0]?.body ?? '');
    if (code && code[1] !== notCode) {
      return code[1];
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.fail(`no new code texted to ${phone}`);
}

let seq = 0;

/** A mobile number nobody has used in this demo. */
export function freshPhone() {
  seq += 1;
  const tail = String((Date.now() * 7 + process.pid * 13 + seq * 7919) % 1e8).padStart(8, '0');
  return `139${tail}`;
}

/** A valid resident ID number that the sandbox identity provider matches
 *  to any name (its sequence digits avoid 990-992). */
export function freshIdNumber() {
  const sequence = String(100 + ((Date.now() + seq) % 800)).padStart(3, '0');
  const body = `11010119900307${sequence}`;
  const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const sum = [...body].reduce((total, digit, i) => total + Number(digit) * weights[i], 0);
  return body + '10X98765432'[sum % 11];
}

/** Signs a new person up through the wallet's pages; answers who. */
export async function signUp(page, { name = '张三' } = {}) {
  const person = { phone: freshPhone(), password: 'wallet-2026', name, idNumber: freshIdNumber() };
  await page.goto(`${base}/sign-up`);
  await page.getByLabel('手机号').fill(person.phone);
  await page.getByRole('button', { name: '获取验证码' }).click();
  await page.getByLabel('短信验证码').waitFor();
  await page.getByLabel('短信验证码').fill(await latestCode(person.phone));
  await page.getByLabel('真实姓名').fill(person.name);
  await page.getByLabel('身份证号').fill(person.idNumber);
  await page.getByLabel('设置登录密码').fill(person.password);
  await page.getByRole('button', { name: '注册', exact: true }).click();
  await page.getByRole('heading', { name: '我的银行卡' }).waitFor();
  return person;
}

/** The same person's JSON API session, for what a test checks behind the
 *  page (never for what the page itself should do). */
export async function apiSession(person) {
  const session = await api('POST', '/v1/sessions', {
    body: { phone: person.phone, password: person.password },
  });
  assert.equal(session.status, 201, JSON.stringify(session.body));
  return session.body.token;
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** axe-core's serious and critical findings on the page as it is now.
 *  Evaluated through the browser's debugging protocol, which the pages'
 *  strict CSP does not govern (an injected script tag would be refused). */
export async function accessibilityProblems(page) {
  await page.evaluate(`${axeSource}\n;0`);
  const result = await page.evaluate(() => window.axe.run(document, {
    resultTypes: ['violations'],
  }));
  return result.violations
    .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
    .map((violation) => `${violation.id} (${violation.impact}): ${violation.nodes
      .slice(0, 3).map((node) => node.target.join(' ')).join(', ')}`);
}
