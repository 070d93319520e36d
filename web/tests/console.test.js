// The support console in a real browser (Debian's Chromium, driven by
// playwright-core), against a running `tessera demo`:
// scripts/browser-tests.sh starts it and passes its address and keys.
//
// The demo person fails to bind a card and opens a ticket about it through
// the JSON API; support signs in with the keyboard only, finds them by
// phone, reads the failed attempt's verdict and answers the ticket; the
// person reads the answer through the JSON API.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const need = (name) => {
  const value = process.env[name];
  assert.ok(value, `${name} is not set (run scripts/browser-tests.sh)`);
  return value;
};
const base = need('TESSERA_BASE');
const supportKey = need('TESSERA_SUPPORT_KEY');
const phone = need('TESSERA_DEMO_PHONE');
const password = need('TESSERA_DEMO_PASSWORD');
const holder = need('TESSERA_DEMO_NAME');
const failingCard = need('TESSERA_FAILING_CARD');

const hostile = '<script>window.hacked=1</script><img src=x onerror="window.hacked=2">';

let context;
let userDataDir;
let page;
/** Every address the browser asked for, to prove the key was never one. */
const visited = [];
/** Dialogs any page opened: a script that ran where it must not. */
const dialogs = [];
/** What the person's JSON API said, shared by the scenario's steps. */
const person = {};

async function api(method, path, { token, body, headers = {} } = {}) {
  const response = await fetch(base + path, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body ? { 'content-type': 'application/json' } : {}),
      ...headers,
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: response.status, headers: response.headers, body: await response.json() };
}

before(async () => {
  userDataDir = mkdtempSync(join(tmpdir(), 'tessera-chromium-'));
  // A fresh profile each run: nothing remembered from another.
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    locale: 'zh-CN',
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
  page = context.pages()[0] ?? await context.newPage();
  // Each step's page answers in well under a second on a debug build.
  page.setDefaultTimeout(10_000);
  page.on('request', (request) => visited.push(request.url()));
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    dialog.dismiss();
  });

  // The person: signs in, fails to add a card, opens a ticket about it.
  const session = await api('POST', '/v1/sessions', { body: { phone, password } });
  assert.equal(session.status, 201, JSON.stringify(session.body));
  person.token = session.body.token;
  const bind = await api('POST', '/v1/cards', {
    token: person.token,
    body: { number: failingCard, holder_name: holder },
  });
  assert.ok(bind.status >= 400, `the failing card bound: ${JSON.stringify(bind.body)}`);
  person.traceId = bind.headers.get('x-request-id');
  assert.ok(person.traceId, 'the failed binding has no trace id');
  const ticket = await api('POST', '/v1/tickets', {
    token: person.token,
    body: { trace_id: person.traceId, message: `绑卡一直失败 ${hostile}` },
    headers: { 'idempotency-key': `browser-${Date.now()}` },
  });
  assert.equal(ticket.status, 201, JSON.stringify(ticket.body));
  person.ticketId = ticket.body.id;
});

after(async () => {
  await context?.close();
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
});

test('support signs in with the keyboard only', async () => {
  await page.goto(`${base}/support`);
  assert.equal(await page.getAttribute('html', 'lang'), 'zh-CN');
  // Tab from the top of the page until the key field has the focus.
  await page.locator('body').focus();
  for (let i = 0; i < 10; i++) {
    if (await page.evaluate(() => document.activeElement?.id) === 'key') break;
    await page.keyboard.press('Tab');
  }
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'key');
  await page.keyboard.type(supportKey);
  await Promise.all([page.waitForURL(`${base}/support`), page.keyboard.press('Enter')]);
  await page.getByRole('heading', { level: 1, name: '查找用户' }).waitFor();
  const cookies = await context.cookies();
  const session = cookies.find((cookie) => cookie.name === 'tessera_console');
  assert.ok(session, 'no session cookie');
  assert.equal(session.httpOnly, true);
  assert.equal(session.sameSite, 'Strict');
  assert.equal(session.path, '/support');
  assert.ok(!session.value.includes(supportKey), 'the cookie holds the key');
});

test('support finds the person by phone and reads the failed attempt\'s verdict', async () => {
  await page.getByLabel('手机号', { exact: true }).fill(phone);
  await page.getByRole('search').getByRole('button', { name: '查找' }).click();
  const found = page.getByRole('region', { name: '查找结果' }).getByRole('link');
  assert.equal(await found.count(), 1);
  await found.click();
  await page.getByRole('heading', { name: '时间线（最新在前）' }).waitFor();
  const body = await page.textContent('main');
  assert.match(body, /138\*{4}8000/, 'the phone is not masked');
  assert.ok(!body.includes(phone), 'the full phone is on the page');
  assert.ok(!body.includes(failingCard), 'the full card number is on the page');
  await page.getByRole('link', { name: '查看完整诊断' }).first().click();
  await page.waitForURL(/\/support\/diagnosis\?/);
  assert.ok(page.url().includes(encodeURIComponent(person.traceId)) || page.url().includes(person.traceId));
  await page.getByRole('heading', { name: '建议用户下一步' }).waitFor();
  await page.getByRole('heading', { name: '客服下一步' }).waitFor();
  assert.match(await page.textContent('h1'), /^诊断：/);
});

test('support replies to the ticket, escaped, and the person reads the reply', async () => {
  await page.getByRole('link', { name: '工单', exact: true }).click();
  await page.getByRole('link', { name: /绑卡一直失败/ }).first().click();
  await page.waitForURL(`${base}/support/tickets/${person.ticketId}`);
  // The person's hostile text is shown as text, and ran nothing.
  assert.ok((await page.textContent('main')).includes('<script>window.hacked=1</script>'));
  assert.equal(await page.evaluate(() => window.hacked), undefined);
  assert.deepEqual(dialogs, []);
  const reply = '您好，这张卡的发卡行暂不支持绑定，请换一张一类账户的借记卡。';
  await page.getByLabel('回复用户', { exact: true }).fill(reply);
  await page.getByLabel('状态').selectOption('waiting_for_person');
  await page.getByRole('button', { name: '提交' }).click();
  await page.getByRole('status').filter({ hasText: '已保存' }).waitFor();
  const conversation = await api('GET', `/v1/tickets/${person.ticketId}`, { token: person.token });
  assert.equal(conversation.status, 200, JSON.stringify(conversation.body));
  assert.ok(
    conversation.body.replies.some((r) => r.author === 'support' && r.message === reply),
    JSON.stringify(conversation.body),
  );
  assert.equal(conversation.body.ticket.status, 'waiting_for_person');
});

test('the console speaks English on request and Chinese again after', async () => {
  await page.goto(`${base}/support?lang=en`);
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  await page.getByRole('heading', { level: 1, name: 'Find a person' }).waitFor();
  // The choice is remembered without ?lang=.
  await page.goto(`${base}/support/tickets`);
  await page.getByRole('heading', { level: 1, name: 'Tickets' }).waitFor();
  await page.getByRole('link', { name: '中文' }).click();
  await page.getByRole('heading', { level: 1, name: '工单' }).waitFor();
  assert.equal(await page.getAttribute('html', 'lang'), 'zh-CN');
});

test('sign-out ends the session, and the key was never in an address', async () => {
  await page.goto(`${base}/support`);
  await page.getByRole('button', { name: '退出登录' }).click();
  await page.getByText('你已退出登录。').waitFor();
  await page.goto(`${base}/support/tickets`);
  await page.getByRole('heading', { level: 1, name: '登录' }).waitFor();
  assert.ok(visited.length > 10, `only ${visited.length} requests seen`);
  for (const url of visited) {
    assert.ok(!url.includes(supportKey), `the key appeared in ${url}`);
    assert.ok(!url.includes('tsk_'), `a key appeared in ${url}`);
  }
});
