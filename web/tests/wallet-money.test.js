// The wallet's money pages in a real browser: a fresh person with a card
// pays at the sandbox's demo checkout (once within the no-confirmation
// limit, once above it with a texted code), sends a transfer after seeing
// its fee, finds both in the records, filters them, downloads them as a
// CSV file, and reports a payment as not theirs.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  DESKTOP, api, apiSession, base, latestCode, openBrowser, operatorKey, screenshot, signUp,
} from './wallet-helpers.js';

/** A sandbox debit card of the ABC test range that binds at once. */
const CARD = '6228489675415650001';
/** A CMB credit card: another bank, so a transfer to it has a fee. */
const OTHER_BANK = '6225755344360008';

/** The newest text to `phone`, whole. */
async function newestText(phone) {
  const sms = await api('GET', `/v1/sandbox/sms?phone=${phone}`, { token: operatorKey });
  assert.equal(sms.status, 200, JSON.stringify(sms.body));
  return JSON.stringify(sms.body.data[0] ?? null);
}

/** Presses `button` and answers the code it has texted: a confirmation
 *  code is sent after the page answers, so wait for a new text. */
async function codeFrom(button) {
  const before = await newestText(person.phone);
  await button.click();
  await page.getByText('验证码已发送到你的手机').waitFor();
  for (let i = 0; i < 50 && (await newestText(person.phone)) === before; i += 1) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return latestCode(person.phone);
}

let browser;
let page;
let person;
let token;
let card;

before(async () => {
  browser = await openBrowser();
  page = browser.page;
  person = await signUp(page);
  token = await apiSession(person);
  const bound = await api('POST', '/v1/cards', {
    token, body: { number: CARD, holder_name: person.name },
  });
  assert.equal(bound.status, 201, JSON.stringify(bound.body));
  card = bound.body;
});

after(async () => {
  await browser?.close();
});

test('the demo shop is paid with the wallet, within the no-confirmation limit', async () => {
  await page.goto(`${base}/demo/checkout`);
  await page.getByLabel('订单金额（元）').fill('12.34');
  await page.getByRole('button', { name: '用 Tessera 钱包付款' }).click();
  await page.getByRole('heading', { name: '用 Tessera 钱包付款' }).waitFor();
  assert.ok(await page.getByText('12.34 元').isVisible());
  assert.ok(await page.getByRole('radio', { name: /尾号0001/ }).isChecked());
  await screenshot(page, 'checkout');
  await page.getByRole('button', { name: '确认付款' }).click();
  await page.getByRole('heading', { name: '付款成功' }).waitFor();
  const shown = await page.locator('main').innerText();
  assert.match(shown, /12\.34 元/);
  assert.match(shown, /尾号0001/);
  const payments = await api('GET', '/v1/payments', { token });
  const paid = payments.body.data.find((p) => p.amount === 1234);
  assert.ok(paid, JSON.stringify(payments.body));
  assert.equal(paid.status, 'approved');
  assert.equal(paid.merchant_id, 'TESSERA-DEMO-SHOP');
  assert.equal(paid.card_id, card.id);
  assert.equal(paid.consent, 'none');
});

test('above the limit the checkout asks for the texted code, then pays', async () => {
  await page.goto(`${base}/demo/checkout`);
  await page.getByLabel('订单金额（元）').fill('500');
  await page.getByRole('button', { name: '用 Tessera 钱包付款' }).click();
  await page.getByRole('button', { name: '确认付款' }).click();
  await page.getByText('超过了你的免密额度').waitFor();
  assert.match(await page.locator('#problem').innerText(), /需要你确认/);
  const code = await codeFrom(page.getByRole('button', { name: '获取验证码' }));
  await page.getByLabel('短信验证码').fill(code);
  await page.getByRole('button', { name: '确认付款' }).click();
  await page.getByRole('heading', { name: '付款成功' }).waitFor();
  assert.match(await page.locator('main').innerText(), /500\.00 元/);
  const payments = await api('GET', '/v1/payments', { token });
  const paid = payments.body.data.find((p) => p.amount === 50000);
  assert.equal(paid?.status, 'approved', JSON.stringify(payments.body));
  assert.equal(paid.consent, 'sms_code');
});

test('a transfer shows its fee first, and is confirmed with a texted code', async () => {
  await page.goto(`${base}/transfers/new`);
  await page.getByLabel('收款卡号').fill(OTHER_BANK);
  await page.getByLabel('收款人姓名').fill('李四');
  await page.getByLabel('转账金额（元）').fill('123.45');
  await page.getByRole('button', { name: '下一步：查看手续费' }).click();
  await page.getByRole('heading', { name: '确认转账' }).waitFor();
  assert.equal((await page.locator('#fee').innerText()).trim(), '1.00 元');
  assert.equal((await page.locator('#total').innerText()).trim(), '124.45 元');
  const html = await page.content();
  assert.ok(!html.includes(OTHER_BANK), 'the destination number is never on the page');
  assert.match(html, /622575\*+0008/);
  await screenshot(page, 'transfer-quote');
  const code = await codeFrom(page.getByRole('button', { name: '获取验证码' }));
  assert.ok(!(await page.content()).includes(OTHER_BANK));
  await page.getByLabel('短信验证码').fill(code);
  await page.getByRole('button', { name: '确认转账' }).click();
  await page.getByRole('heading', { name: '转账结果' }).waitFor();
  const shown = await page.locator('main').innerText();
  assert.match(shown, /转账成功/);
  assert.match(shown, /123\.45 元/);
  const transfers = await api('GET', '/v1/transfers', { token });
  const sent = transfers.body.data[0];
  assert.equal(sent.amount, 12345);
  assert.equal(sent.fee, 100);
  assert.equal(sent.status, 'settled');
  assert.equal(sent.to_card, '622575******0008');
});

test('the records list every kind, filter by type and date, and download', async () => {
  await page.goto(`${base}/`);
  await page.getByRole('link', { name: '交易记录' }).first().click();
  await page.getByRole('heading', { name: '交易记录', level: 1 }).waitFor();
  const all = await page.locator('.records .entry').allInnerTexts();
  assert.equal(all.length, 3, all.join('\n'));
  assert.match(all[0], /转账/);
  assert.match(all[0], /手续费：1\.00 元/);
  assert.ok(all.some((e) => /付款/.test(e) && /12\.34 元/.test(e) && /支付成功/.test(e)));
  await screenshot(page, 'records');

  await page.getByLabel('交易类型').selectOption('transfer');
  await page.getByRole('button', { name: '查看' }).click();
  await page.waitForURL(/type=transfer/);
  const transfers = await page.locator('.records .entry').allInnerTexts();
  assert.equal(transfers.length, 1);
  assert.match(transfers[0], /123\.45 元/);

  const today = new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 10);
  const tomorrow = new Date(Date.now() + 32 * 3600_000).toISOString().slice(0, 10);
  await page.goto(`${base}/records?from=${tomorrow}`);
  assert.ok(await page.getByText('没有符合条件的交易记录。').isVisible());
  await page.goto(`${base}/records?from=${tomorrow}&to=${today}`);
  const to = page.getByLabel('结束日期');
  assert.equal(await to.getAttribute('aria-invalid'), 'true');
  assert.match(await to.getAttribute('aria-describedby'), /to-problem/);

  await page.goto(`${base}/records?type=payment`);
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: /下载交易明细/ }).click(),
  ]);
  assert.match(download.suggestedFilename(), /^tessera-transactions-\d{8}\.csv$/);
  const bytes = readFileSync(await download.path());
  assert.deepEqual([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'a UTF-8 BOM first');
  const text = bytes.toString('utf8');
  assert.match(text, /交易号/);
  assert.match(text, /12\.34 CNY/);
  assert.match(text, /500\.00 CNY/);
  assert.ok(!text.includes('123.45 CNY'), 'only the filtered type');
});

test('a payment reported as not theirs pauses its card', async () => {
  await page.goto(`${base}/records?type=payment`);
  const entry = page.locator('.records .entry', { hasText: '12.34 元' });
  await entry.getByRole('link', { name: '这笔不是我付的' }).click();
  await page.getByRole('heading', { name: '举报这笔付款' }).waitFor();
  assert.match(await page.locator('main').innerText(), /立即暂停/);
  await screenshot(page, 'report');
  await page.getByLabel('补充说明（选填）').fill('我当时在睡觉，没有买东西。');
  await page.getByRole('button', { name: '确认举报' }).click();
  await page.getByRole('heading', { name: '已举报这笔付款' }).waitFor();
  assert.ok(await page.getByText('付这笔款的银行卡已暂停使用。').isVisible());
  const cards = await api('GET', '/v1/cards', { token });
  const paused = cards.body.data.find((c) => c.id === card.id);
  assert.equal(paused.payable, false);
  assert.ok(paused.token.suspended_by.includes('cardholder'), JSON.stringify(paused.token));
  await page.goto(`${base}/records?type=report`);
  assert.match(await page.locator('.records').innerText(), /已举报/);
  assert.deepEqual(browser.problems, []);
});

test('the records and transfers read well on a desktop too', async () => {
  await page.setViewportSize(DESKTOP);
  await page.goto(`${base}/records`);
  assert.equal(await page.locator('.records .entry').count(), 4);
  await page.goto(`${base}/transfers`);
  assert.match(await page.locator('.records').innerText(), /李四/);
  await page.goto(`${base}/records?lang=en`);
  assert.match(await page.locator('main').innerText(), /CNY 123\.45/);
  await page.goto(`${base}/records?lang=zh`);
  assert.deepEqual(browser.problems, []);
});
