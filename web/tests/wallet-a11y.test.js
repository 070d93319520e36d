// Every page a person or support opens, checked with axe-core at a
// phone's and a desktop's size: no serious or critical accessibility
// violation, and at most 100 KB of assets (stylesheet and scripts) on any
// page. Pages are reached as a person reaches them, signed out and then
// signed in.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DESKTOP, PHONE, accessibilityProblems, api, apiSession, base, need, openBrowser, signUp,
} from './wallet-helpers.js';

/** What a page loaded besides itself, in bytes (cached files count too). */
async function assetBytes(page) {
  return page.evaluate(() => performance.getEntriesByType('resource')
    .reduce((total, entry) => total + entry.decodedBodySize, 0));
}

/** Opens each path and gathers what is wrong with it. */
async function check(page, paths) {
  const found = [];
  for (const path of paths) {
    const response = await page.goto(base + path);
    if (response.status() >= 400) {
      found.push(`${path}: answered ${response.status()}`);
    }
    const bytes = await assetBytes(page);
    if (bytes === 0 || bytes > 100 * 1024) {
      found.push(`${path}: ${bytes} bytes of assets`);
    }
    for (const problem of await accessibilityProblems(page)) {
      found.push(`${path}: ${problem}`);
    }
  }
  return found;
}

const signedOut = [
  '/sign-in', '/sign-up', '/forgot-password', '/help', '/help/errors/card_declined',
  '/help/developers', '/support',
];

/** The console's pages, as an operator (who sees them all) opens them. */
const console = [
  '/support', '/support/tickets', '/support/health', '/support/keys', '/support/maintenance',
];
const signedIn = [
  '/', '/cards/new', '/records', '/transfers', '/transfers/new', '/safety',
  '/safety/payment-password', '/safety/payment-password/forgot', '/safety/limits',
  '/safety/freeze', '/safety/passkeys', '/attempts', '/tickets', '/demo/checkout',
];

/** A bound card, a failed attempt and a ticket, so that their own pages
 *  can be opened too; answers those pages' paths. */
async function personalPages(person) {
  const token = await apiSession(person);
  const bound = await api('POST', '/v1/cards', {
    token, body: { number: need('TESSERA_APPROVE_CARD'), holder_name: person.name },
  });
  assert.equal(bound.status, 201, JSON.stringify(bound.body));
  const failed = await api('POST', '/v1/cards', {
    token, body: { number: need('TESSERA_FAILING_CARD'), holder_name: person.name },
  });
  const traceId = failed.headers.get('x-request-id');
  const ticket = await api('POST', '/v1/tickets', {
    token,
    body: { trace_id: traceId, message: '绑不上卡' },
    headers: { 'idempotency-key': `a11y-${Date.now()}` },
  });
  assert.equal(ticket.status, 201, JSON.stringify(ticket.body));
  return [
    `/cards/${bound.body.id}`, `/tickets/new?trace_id=${traceId}`, `/tickets/${ticket.body.id}`,
  ];
}

for (const [size, viewport] of [['phone', PHONE], ['desktop', DESKTOP]]) {
  let browser;

  before(async () => {
    browser = await openBrowser(viewport);
  });

  after(async () => {
    await browser?.close();
  });

  test(`every page signed out passes axe at the ${size} size`, async () => {
    assert.deepEqual(await check(browser.page, signedOut), []);
  });

  test(`every page signed in passes axe at the ${size} size`, async () => {
    const person = await signUp(browser.page);
    const pages = [...signedIn, ...await personalPages(person)];
    assert.deepEqual(await check(browser.page, pages), []);
    // The console, signed in with the operator's key, a person found.
    await browser.page.goto(`${base}/support`);
    await browser.page.locator('#key').fill(need('TESSERA_OPERATOR_KEY'));
    await browser.page.locator('#key').press('Enter');
    await browser.page.getByRole('heading', { level: 1, name: '查找用户' }).waitFor();
    const found = await api('GET', `/v1/support/users?phone=${person.phone}`, {
      token: need('TESSERA_OPERATOR_KEY'),
    });
    assert.equal(found.status, 200, JSON.stringify(found.body));
    const someone = `/support/people/${found.body.data[0].user_id}`;
    assert.deepEqual(await check(browser.page, [...console, someone]), []);
    assert.deepEqual(browser.problems, []);
  });
}

test('the check finds what it should: a field without a label', async () => {
  const browser = await openBrowser(PHONE);
  try {
    await browser.page.setContent('<!doctype html><html lang="en"><title>t</title><main><input></main></html>');
    const problems = await accessibilityProblems(browser.page);
    assert.ok(problems.some((problem) => problem.startsWith('label ')), problems.join('\n'));
  } finally {
    await browser.close();
  }
});
