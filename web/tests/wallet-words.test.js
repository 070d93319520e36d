// The words a person reads, in a real browser: the help center speaks of
// the wallet's own screens and names no code, the developers' page keeps
// the codes, and a locked sign-in says how long the lock lasts.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { api, base, openBrowser, screenshot, signUp } from './wallet-helpers.js';

let browser;
let page;

before(async () => {
  browser = await openBrowser();
  page = browser.page;
});

after(async () => {
  await browser?.close();
});

/** What the page shows, as one text. */
const shown = () => page.locator('main').innerText();

/** Codes and developer words a person's page must not show. */
function assertForPeople(text) {
  for (const word of ['HTTP', 'JSON', 'openapi', '幂等', 'param', 'invalid_number', 'card_declined', 'do_not_honor']) {
    assert.ok(!text.includes(word), `a page for people shows ${word}`);
  }
  assert.doesNotMatch(text, /[\u4e00-\u9fff][,:;()?]|[,:;()?][\u4e00-\u9fff]/, 'half-width punctuation in Chinese');
}

test('the help center describes the wallet\'s own screens, without codes', async () => {
  await page.goto(`${base}/help?lang=zh`);
  const text = await shown();
  for (const screen of ['我的银行卡', '添加银行卡', '交易记录', '支付安全', '绑卡记录', '联系客服', '忘记密码', '注册']) {
    assert.ok(text.includes(screen), `the help center names ${screen}`);
  }
  assertForPeople(text);
  await screenshot(page, 'help-center');
  // Its footer leads to the developers' page.
  const link = page.locator('footer').getByRole('link', { name: '开发者说明' });
  assert.equal(await link.getAttribute('href'), '/help/developers?lang=zh');
});

test('an error page explains the bank\'s reasons in words', async () => {
  await page.goto(`${base}/help/errors/card_declined?lang=zh`);
  assert.equal(await page.getByRole('heading', { level: 1 }).innerText(), '发卡行拒绝了这张卡');
  const text = await shown();
  assert.ok(text.includes('发卡行提示这张卡已登记为被盗'));
  assertForPeople(text);
  await screenshot(page, 'help-error');
});

test('the developers\' page lists every code with its HTTP status', async () => {
  await page.locator('footer').getByRole('link', { name: '开发者说明' }).click();
  await page.getByRole('heading', { name: '全部错误代码' }).waitFor();
  const row = page.getByRole('row', { name: /invalid_number/ });
  assert.match(await row.innerText(), /422/);
  assert.ok((await shown()).includes('Idempotency-Key'));
  await screenshot(page, 'help-developers');
});

test('a locked sign-in says how long it lasts, and the API holds the lock', async () => {
  const person = await signUp(page);
  await page.getByRole('button', { name: '退出登录' }).click();
  await page.getByText('你已退出登录。').waitFor();
  let message = '';
  for (let tries = 0; tries < 10 && !message.includes('自动解锁'); tries++) {
    await page.getByLabel('手机号').fill(person.phone);
    await page.getByLabel('登录密码').fill('not-the-password-1');
    await page.getByRole('button', { name: '登录' }).click();
    await page.locator('#problem').waitFor();
    message = await page.locator('#problem').innerText();
    if (!message.includes('自动解锁')) {
      assert.match(message, /手机号或密码不正确/, 'a wrong password is said as such, not as signed out');
    }
  }
  assert.match(message, /\d+分钟后自动解锁/);
  assert.match(message, /忘记密码/);
  assertForPeople(message);
  await screenshot(page, 'sign-in-locked');
  // Even the right password is refused until then.
  const session = await api('POST', '/v1/sessions', {
    body: { phone: person.phone, password: person.password },
  });
  assert.equal(session.status, 429);
  assert.equal(session.body.error.code, 'too_many_attempts');
  assert.ok(Date.parse(session.body.error.locked_until) > Date.now());
  assert.deepEqual(browser.problems, []);
});
