// The wallet's failed attempts and support pages in a real browser: a new
// person fails to add a card, reads why at /attempts, contacts support
// (the ticket carries the error as shown and the device, checked with the
// support key), support answers through the JSON API, and the person
// reads the answer and replies. Hostile text is shown as text. Then the
// same pages once at a desktop's size.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import {
  DESKTOP, api, apiSession, base, need, openBrowser, screenshot, signUp,
} from './wallet-helpers.js';

const supportKey = need('TESSERA_SUPPORT_KEY');
const failingCard = need('TESSERA_FAILING_CARD');

const hostile = '<script>window.hacked=1</script><img src=x onerror="window.hacked=2">';

let browser;
let page;
let person;
/** What the API holds about the person's failed attempt and ticket. */
const seen = {};

/** The page never scrolls sideways at its size. */
async function fitsWidth(page) {
  const { scroll, width } = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    width: window.innerWidth,
  }));
  assert.ok(scroll <= width, `the page is ${scroll}px wide in a ${width}px window`);
}

before(async () => {
  browser = await openBrowser();
  page = browser.page;
});

after(async () => {
  await browser?.close();
});

test('a failed binding is explained at /attempts, with help and support', async () => {
  person = await signUp(page);
  person.token = await apiSession(person);
  const bind = await api('POST', '/v1/cards', {
    token: person.token,
    body: { number: failingCard, holder_name: person.name },
    headers: { 'idempotency-key': `support-test-${Date.now()}` },
  });
  assert.ok(bind.status >= 400, `the failing card bound: ${JSON.stringify(bind.body)}`);
  seen.traceId = bind.headers.get('x-request-id');
  assert.ok(seen.traceId, 'the failed binding has no trace id');
  const attempts = await api('GET', '/v1/cards/attempts', {
    token: person.token,
    headers: { 'accept-language': 'zh-CN' },
  });
  assert.equal(attempts.status, 200, JSON.stringify(attempts.body));
  seen.attempt = attempts.body.data.find((a) => a.trace_id === seen.traceId);
  assert.ok(seen.attempt, JSON.stringify(attempts.body));

  await page.getByRole('link', { name: '绑卡记录' }).click();
  await page.getByRole('heading', { level: 1, name: '绑卡记录' }).waitFor();
  const item = page.locator('li.card').filter({ hasText: seen.traceId });
  assert.equal(await item.count(), 1);
  const text = await item.innerText();
  assert.ok(text.includes(seen.attempt.happened), text);
  assert.ok(text.includes(seen.attempt.message), text);
  if (seen.attempt.remedy) assert.ok(text.includes(seen.attempt.remedy), text);
  // The card as the API gives it (first six, last four), its bank.
  assert.ok(text.includes(seen.attempt.card.masked_pan), text);
  if (seen.attempt.card.issuer_name) assert.ok(text.includes(seen.attempt.card.issuer_name), text);
  assert.ok(!(await page.textContent('main')).includes(failingCard), 'the full card number is shown');
  // The time in the wallet's zone, as `2026-12-07 21:45`.
  assert.match(text, /\d{4}-\d{2}-\d{2} \d{2}:\d{2}/);
  assert.equal(
    await item.getByRole('link', { name: '查看详细说明' }).getAttribute('href'),
    `${seen.attempt.help_url}?lang=zh`,
  );
  const help = await fetch(`${base}${seen.attempt.help_url}?lang=zh`);
  assert.equal(help.status, 200, 'the help page answers');
  await fitsWidth(page);
  await screenshot(page, 'attempts');
});

test('contacting support sends the error as shown and the device', async () => {
  const item = page.locator('li.card').filter({ hasText: seen.traceId });
  await item.getByRole('link', { name: '联系客服' }).click();
  await page.getByRole('heading', { level: 1, name: /联系客服/ }).waitFor();
  assert.equal(await page.locator('#error-text').innerText(), seen.attempt.message);
  // support.js has filled the device fields from the browser.
  await page.waitForFunction(() => document.querySelector('input[name=device_os]').value !== '');
  const network = await page.evaluate(() => navigator.connection?.effectiveType ?? null);
  await fitsWidth(page);
  await screenshot(page, 'contact-support');

  const words = `一直绑不上，卡号 ${failingCard} ${hostile}`;
  await page.getByLabel('想补充的话（可不填）').fill(words);
  await page.getByRole('button', { name: '提交给客服' }).click();
  await page.waitForURL(/\/tickets\/tkt_[A-Za-z0-9]+\?opened=1$/);
  await page.getByRole('status').filter({ hasText: '已提交给客服' }).waitFor();
  seen.ticketId = new URL(page.url()).pathname.split('/').pop();

  // What support reads: the attempt, the error as shown, the device.
  const ticket = await api('GET', `/v1/support/tickets/${seen.ticketId}`, { token: supportKey });
  assert.equal(ticket.status, 200, JSON.stringify(ticket.body));
  const t = ticket.body.ticket;
  assert.equal(t.trace_id, seen.traceId);
  assert.equal(t.kind, 'binding');
  assert.equal(t.status, 'open');
  const reported = t.details.reported;
  assert.equal(reported.error_text, seen.attempt.message);
  assert.match(reported.device.app_version, /^web \d+\.\d+\.\d+/);
  assert.ok(reported.device.model, JSON.stringify(reported.device));
  assert.match(reported.device.os, /Linux/);
  assert.equal(reported.device.locale, 'zh-CN');
  if (network) assert.equal(reported.device.network_type, network);
  // The card number typed is masked; the page never echoes it.
  const last4 = failingCard.slice(-4);
  assert.ok(t.message.includes(`****${last4}`), t.message);
  assert.ok(!JSON.stringify(ticket.body).includes(failingCard), 'support read the full card number');
  const main = await page.textContent('main');
  assert.ok(!main.includes(failingCard), 'the page shows the full card number');
  // The hostile words are shown as text and ran nothing.
  assert.ok(main.includes('<script>window.hacked=1</script>'), main);
  assert.equal(await page.evaluate(() => window.hacked), undefined);
});

test('the person\'s tickets list says whose turn it is', async () => {
  await page.getByRole('link', { name: '我的客服工单', exact: true }).click();
  await page.getByRole('heading', { level: 1, name: '我的客服工单' }).waitFor();
  const item = page.locator('li.card').filter({ has: page.locator(`a[href="/tickets/${seen.ticketId}"]`) });
  assert.equal(await item.count(), 1);
  const text = await item.innerText();
  assert.ok(text.includes('等待客服回复'), text);
  assert.ok(text.includes('一次绑卡'), text);
  assert.ok(text.includes(seen.attempt.message), text);
  await fitsWidth(page);
  await screenshot(page, 'tickets');
});

test('support replies; the person reads the reply and answers', async () => {
  const reply = `您好，这张卡的发卡行暂不支持绑定，请换一张借记卡。${hostile}`;
  const answered = await api('POST', `/v1/support/tickets/${seen.ticketId}/replies`, {
    token: supportKey,
    body: { message: reply, status: 'waiting_for_person' },
  });
  assert.equal(answered.status, 201, JSON.stringify(answered.body));

  await page.goto(`${base}/tickets`);
  const item = page.locator('li.card').filter({ has: page.locator(`a[href="/tickets/${seen.ticketId}"]`) });
  assert.ok((await item.innerText()).includes('客服已回复，等你答复'));
  await item.getByRole('link').click();
  await page.getByRole('heading', { level: 1, name: '客服对话：一次绑卡' }).waitFor();
  assert.equal(await page.locator('#ticket-status').innerText(), '客服已回复，等你答复');
  const fromSupport = page.locator('.said.by-support');
  assert.equal(await fromSupport.count(), 1);
  assert.equal(await fromSupport.locator('.words').innerText(), reply);
  assert.equal(await page.evaluate(() => window.hacked), undefined);

  const answer = '好的，我换一张借记卡试试。谢谢！';
  await page.getByLabel('你的回复').fill(answer);
  await page.getByRole('button', { name: '发送回复' }).click();
  await page.getByRole('status').filter({ hasText: '你的回复已发送。' }).waitFor();
  assert.equal(await page.locator('#latest .words').innerText(), answer);
  assert.equal(await page.locator('#ticket-status').innerText(), '等待客服回复');
  await fitsWidth(page);
  await screenshot(page, 'ticket');

  const conversation = await api('GET', `/v1/tickets/${seen.ticketId}`, { token: person.token });
  assert.equal(conversation.status, 200, JSON.stringify(conversation.body));
  assert.equal(conversation.body.ticket.status, 'open');
  assert.deepEqual(
    conversation.body.replies.map((r) => [r.author, r.message]),
    [['support', reply], ['person', answer]],
  );
  assert.deepEqual(browser.problems, []);
});

test('an empty reply is refused beside the field, and sends nothing', async () => {
  // The browser's own check is bypassed to reach the server's.
  await page.locator('#message').evaluate((field) => field.removeAttribute('required'));
  await page.getByRole('button', { name: '发送回复' }).click();
  const field = page.locator('#message');
  await page.locator('#message-problem').waitFor();
  assert.equal(await field.getAttribute('aria-invalid'), 'true');
  assert.match(await field.getAttribute('aria-describedby'), /message-problem/);
  const conversation = await api('GET', `/v1/tickets/${seen.ticketId}`, { token: person.token });
  assert.equal(conversation.body.replies.length, 2);
});

test('the same pages at a desktop\'s size', async () => {
  const desktop = await openBrowser(DESKTOP);
  try {
    const { page } = desktop;
    await page.goto(`${base}/tickets`);
    await page.getByLabel('手机号').fill(person.phone);
    await page.getByLabel('登录密码').fill(person.password);
    await page.getByRole('button', { name: '登录' }).click();
    await page.getByRole('heading', { level: 1, name: '我的客服工单' }).waitFor();
    await fitsWidth(page);
    for (const [path, heading] of [
      ['/attempts', '绑卡记录'],
      [`/tickets/new?trace_id=${seen.traceId}`, /联系客服/],
      [`/tickets/${seen.ticketId}`, '客服对话：一次绑卡'],
    ]) {
      await page.goto(`${base}${path}`);
      await page.getByRole('heading', { level: 1, name: heading }).waitFor();
      await fitsWidth(page);
      assert.equal(await page.locator('h1').count(), 1);
    }
    // In English on request: the page's words and the API's.
    await page.goto(`${base}/tickets/${seen.ticketId}?lang=en`);
    await page.getByRole('heading', { level: 1, name: 'Support conversation: Adding a card' }).waitFor();
    assert.equal(await page.locator('#ticket-status').innerText(), 'Waiting for support');
    await page.goto(`${base}/attempts`);
    await page.getByRole('heading', { level: 1, name: 'Card adding history' }).waitFor();
    await page.getByRole('link', { name: 'Contact support' }).first().waitFor();
    await page.goto(`${base}/attempts?lang=zh`);
    // Another person's ticket, or a made-up one, is simply not found.
    const response = await page.goto(`${base}/tickets/tkt_madeup`);
    assert.equal(response.status(), 404);
    await page.getByText('找不到这条客服记录。').waitFor();
    assert.deepEqual(desktop.problems, []);
  } finally {
    await desktop.close();
  }
});

test('without JavaScript the server fills in the device from the browser\'s agent', async () => {
  const plain = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run'],
  });
  try {
    const agent = 'Mozilla/5.0 (Linux; Android 14; 23127PN0CC Build/UKQ1) AppleWebKit/537.36 '
      + '(KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36';
    const context = await plain.newContext({
      javaScriptEnabled: false, locale: 'zh-CN', viewport: DESKTOP, userAgent: agent,
    });
    const page = await context.newPage();
    await page.goto(`${base}/tickets/new?trace_id=${seen.traceId}`);
    await page.getByLabel('手机号').fill(person.phone);
    await page.getByLabel('登录密码').fill(person.password);
    await page.getByRole('button', { name: '登录' }).click();
    await page.getByRole('heading', { level: 1, name: /联系客服/ }).waitFor();
    assert.equal(await page.locator('input[name=device_os]').inputValue(), '');
    await page.getByRole('button', { name: '提交给客服' }).click();
    await page.waitForURL(/\/tickets\/tkt_[A-Za-z0-9]+\?opened=1$/);
    const id = new URL(page.url()).pathname.split('/').pop();
    assert.notEqual(id, seen.ticketId);
    const ticket = await api('GET', `/v1/support/tickets/${id}`, { token: supportKey });
    assert.equal(ticket.status, 200, JSON.stringify(ticket.body));
    const { device, error_text: errorText } = ticket.body.ticket.details.reported;
    assert.equal(errorText, seen.attempt.message);
    assert.equal(device.model, '23127PN0CC');
    assert.equal(device.os, 'Android 14');
    assert.match(device.app_version, /^web \d+\.\d+\.\d+/);
    assert.equal(device.network_type, null);
    // Nothing typed: the ticket says plainly what is asked.
    assert.equal(ticket.body.ticket.message, '请帮我看看这次为什么没有成功。');
  } finally {
    await plain.close();
  }
});
