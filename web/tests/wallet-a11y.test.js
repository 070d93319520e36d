// Every page a person or support opens, checked with axe-core at a
// phone's and a desktop's size: no serious or critical accessibility
// violation. Pages are reached as a person reaches them, signed out and
// then signed in.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DESKTOP, PHONE, accessibilityProblems, base, openBrowser, signUp,
} from './wallet-helpers.js';

const signedOut = ['/sign-in', '/sign-up', '/forgot-password', '/help', '/help/errors/card_declined', '/support'];
const signedIn = ['/'];

for (const [size, viewport] of [['phone', PHONE], ['desktop', DESKTOP]]) {
  let browser;

  before(async () => {
    browser = await openBrowser(viewport);
  });

  after(async () => {
    await browser?.close();
  });

  test(`every page signed out passes axe at the ${size} size`, async () => {
    const found = [];
    for (const path of signedOut) {
      await browser.page.goto(base + path);
      for (const problem of await accessibilityProblems(browser.page)) {
        found.push(`${path}: ${problem}`);
      }
    }
    assert.deepEqual(found, []);
  });

  test(`every page signed in passes axe at the ${size} size`, async () => {
    await signUp(browser.page);
    const found = [];
    for (const path of signedIn) {
      await browser.page.goto(base + path);
      for (const problem of await accessibilityProblems(browser.page)) {
        found.push(`${path}: ${problem}`);
      }
    }
    assert.deepEqual(found, []);
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
