// The wallet's card pages in a real browser: a debit card added with its
// bank shown from the first digits, a mistyped number caught before
// sending and a declined card explained beside the number, a credit card
// sent over a connection that drops (one card, however often retried),
// the bank's text-message step, the default card, and unbinding with a
// texted code. Each checks what the person sees and what the API holds.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DESKTOP, api, apiSession, base, latestCode, need, openBrowser, screenshot, signUp,
} from './wallet-helpers.js';

const APPROVE = need('TESSERA_APPROVE_CARD');
const OTP = need('TESSERA_OTP_CARD');
const DECLINED = need('TESSERA_DECLINED_CARD');
const CREDIT = need('TESSERA_CREDIT_CARD');

let browser;
let page;
let person;
let token;
const consoleErrors = [];

before(async () => {
  browser = await openBrowser();
  page = browser.page;
  page.on('console', (message) => {
    // A refused form answers 4xx on purpose; a script or style the page's
    // policy blocks does not.
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) {
      consoleErrors.push(message.text());
    }
  });
  person = await signUp(page);
  token = await apiSession(person);
});

after(async () => {
  await browser?.close();
});

/** The person's cards as the API holds them (`all`: ended ones too). */
async function cards(all = false) {
  const answer = await api('GET', `/v1/cards${all ? '?status=all' : ''}`, { token });
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  return answer.body.data;
}

/** The newest code texted to `phone` once it is not `previous`: some
 *  texts are sent after the answer that asked for them. */
async function codeAfter(phone, previous) {
  for (let i = 0; i < 50; i += 1) {
    const code = await latestCode(phone);
    if (code !== previous) {
      return code;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`no new code was texted to ${phone}`);
}

/** Whether `card` is the one with this number (its first six and last four). */
const isCard = (number) => (card) => card.first6 === number.slice(0, 6) && card.last4 === number.slice(-4);

/** Types a card number key by key, as a person does. */
async function typeNumber(number) {
  const field = page.getByLabel('卡号', { exact: true });
  await field.fill('');
  await field.pressSequentially(number);
}

test('a debit card is added with its bank shown from the first digits', async () => {
  await page.getByRole('link', { name: '添加银行卡' }).click();
  await page.getByRole('heading', { name: '添加银行卡' }).waitFor();
  assert.equal(await page.getByLabel('持卡人').inputValue(), person.name);
  assert.equal(await page.getByLabel('持卡人').getAttribute('readonly'), '');
  await typeNumber(APPROVE);
  const grouped = APPROVE.replace(/(\d{4})(?=\d)/g, '$1 ');
  assert.equal(await page.getByLabel('卡号', { exact: true }).inputValue(), grouped);
  await page.locator('#number-bin').filter({ hasText: '中国农业银行 · 银联 · 借记卡' }).waitFor();
  // A debit card needs no expiry or security code: not shown, not required.
  assert.equal(await page.locator('#card-extra').isVisible(), false);
  assert.equal(await page.locator('#expiry').isDisabled(), true);
  await screenshot(page, 'add-card');
  await page.getByRole('button', { name: '添加这张卡' }).click();
  await page.getByText('银行卡已添加，可以付款了。').waitFor();
  assert.equal(new URL(page.url()).pathname, '/');
  const [card] = await cards();
  assert.equal(card.status, 'active');
  assert.equal(card.last4, APPROVE.slice(-4));
  assert.equal(card.is_default, true);
  const item = page.locator('li.card', { hasText: `尾号${card.last4}` });
  assert.match(await item.innerText(), /中国农业银行 · 银联 · 尾号\d{4}/);
  assert.match(await item.innerText(), /借记卡 · 可以付款/);
  assert.match(await item.innerText(), /默认卡/);
});

test('a mistyped number is caught before sending; a declined card is explained beside it', async () => {
  await page.goto(`${base}/cards/new`);
  const posts = [];
  const count = (request) => {
    if (request.method() === 'POST') {
      posts.push(request.url());
    }
  };
  page.on('request', count);
  const last = Number(APPROVE.slice(-1));
  await typeNumber(APPROVE.slice(0, -1) + String((last + 1) % 10));
  await page.getByRole('button', { name: '添加这张卡' }).click();
  const check = page.locator('#number-check-digit');
  await check.waitFor();
  assert.match(await check.innerText(), /卡号有误，请核对后重新输入/);
  assert.match(await check.innerText(), /逐位核对/);
  assert.equal(await check.getByRole('link').getAttribute('href'), '/help/errors/incorrect_number?lang=zh');
  const number = page.getByLabel('卡号', { exact: true });
  assert.equal(await number.getAttribute('aria-invalid'), 'true');
  assert.match(await number.getAttribute('aria-describedby'), /number-check-digit/);
  assert.deepEqual(posts, [], 'nothing was sent');

  await typeNumber(DECLINED);
  await page.getByRole('button', { name: '添加这张卡' }).click();
  const refusal = page.locator('#number-problem');
  await refusal.waitFor();
  page.off('request', count);
  // What happened, and what to do about it (do_not_honor's own remedy).
  assert.match(await refusal.innerText(), /发卡行拒绝了这张卡/);
  assert.match(await refusal.innerText(), /请致电发卡行确认卡片状态，或换一张卡/);
  assert.equal(await refusal.getByRole('link').getAttribute('href'), '/help/errors/card_declined?lang=zh');
  assert.equal(await number.getAttribute('aria-invalid'), 'true');
  assert.match(await number.getAttribute('aria-describedby'), /number-problem/);
  // Never written back: the field is empty and the page does not hold it.
  assert.equal(await number.inputValue(), '');
  assert.ok(!(await page.content()).includes(DECLINED), 'the declined number is not on the page');
  assert.ok(await page.getByText('为了安全，请重新输入卡号').isVisible());
  assert.equal((await cards()).length, 1, 'no card was added');
});

test('a credit card sent over a dropped connection and retried is added once', async () => {
  await page.goto(`${base}/cards/new`);
  await typeNumber(CREDIT);
  await page.locator('#number-bin').filter({ hasText: '信用卡' }).waitFor();
  // A credit card needs both: shown and required now.
  await page.getByLabel('有效期').waitFor();
  assert.equal(await page.getByLabel('安全码').getAttribute('required'), '');
  await page.getByLabel('有效期').pressSequentially('1230');
  assert.equal(await page.getByLabel('有效期').inputValue(), '12/30');
  await page.getByLabel('安全码').fill('12');
  await page.getByRole('button', { name: '添加这张卡' }).click();
  const cvcCheck = page.locator('#cvc-check');
  await cvcCheck.waitFor();
  assert.match(await cvcCheck.innerText(), /安全码/);
  await page.getByLabel('安全码').fill('123');

  // The first sending reaches the server, and its answer is lost.
  let dropped = 0;
  await page.route('**/cards/new*', async (route) => {
    if (route.request().method() !== 'POST' || dropped > 0) {
      await route.continue();
      return;
    }
    dropped += 1;
    await route.fetch();
    await route.abort('connectionreset');
  });
  await page.getByRole('button', { name: '添加这张卡' }).click();
  const problem = page.locator('#network-problem');
  await problem.waitFor();
  assert.match(await problem.innerText(), /网络连接中断/);
  assert.equal(dropped, 1);
  const bound = (await cards()).filter(isCard(CREDIT));
  assert.equal(bound.length, 1, 'the first sending bound the card');
  await page.getByRole('button', { name: '重试' }).click();
  await page.getByText('银行卡已添加，可以付款了。').waitFor();
  await page.unroute('**/cards/new*');
  const after = (await cards(true)).filter(isCard(CREDIT));
  assert.equal(after.length, 1, 'retrying bound no second card');
  assert.equal(after[0].id, bound[0].id);
  assert.equal(after[0].card_type, 'credit');
});

let pendingId;

test('a card the bank confirms by text message: its code step survives a reload', async () => {
  await page.goto(`${base}/cards/new`);
  await typeNumber(OTP);
  await page.locator('#number-bin').filter({ hasText: '中国农业银行' }).waitFor();
  await page.getByRole('button', { name: '添加这张卡' }).click();
  await page.getByRole('heading', { name: '输入银行发来的验证码' }).waitFor();
  pendingId = new URL(page.url()).pathname.split('/')[2];
  const pending = await api('GET', `/v1/cards/${pendingId}`, { token });
  assert.equal(pending.body.status, 'pending_verification');
  const masked = `${person.phone.slice(0, 3)}****${person.phone.slice(-4)}`;
  assert.equal(pending.body.next_action.sent_to, masked);
  const notice = page.locator('p.notice');
  assert.match(await notice.innerText(), new RegExp(`验证码已发送至：${masked.replace(/\*/g, '\\*')}`));
  assert.match(await notice.innerText(), /验证码有效期至：\d{4}-\d{2}-\d{2} \d{2}:\d{2}/);
  const resend = page.getByRole('button', { name: '重新发送验证码' });
  assert.equal(await resend.isDisabled(), true, 'another code waits for the countdown');
  assert.match(await page.locator('form span.meta').innerText(), /\d+秒后可重新发送/);
  await screenshot(page, 'sms-step');

  await page.reload();
  await page.getByRole('heading', { name: '输入银行发来的验证码' }).waitFor();
  await page.goto(`${base}/`);
  const item = page.locator('li.card', { hasText: '等待短信验证' });
  await item.getByRole('link', { name: '输入验证码，完成添加' }).click();
  await page.getByRole('heading', { name: '输入银行发来的验证码' }).waitFor();
  assert.equal(new URL(page.url()).pathname, `/cards/${pendingId}`);

  const code = await latestCode(person.phone);
  const wrong = code === '000000' ? '111111' : '000000';
  await page.getByLabel('短信验证码').fill(wrong);
  await page.getByRole('button', { name: '完成添加' }).click();
  const refusal = page.locator('#otp-problem');
  await refusal.waitFor();
  assert.match(await refusal.innerText(), /验证码不正确/);
  assert.ok(await page.getByText('还可以再试 4 次。').isVisible());
  const otp = page.getByLabel('短信验证码');
  assert.equal(await otp.getAttribute('aria-invalid'), 'true');
  await otp.fill(code);
  await page.getByRole('button', { name: '完成添加' }).click();
  await page.getByText('银行卡已添加，可以付款了。').waitFor();
  const done = await api('GET', `/v1/cards/${pendingId}`, { token });
  assert.equal(done.body.status, 'active');
});

test('another card is made the default', async () => {
  await page.goto(`${base}/`);
  const item = page.locator('li.card').filter({ has: page.locator(`a[href="/cards/${pendingId}"]`) }).first();
  await item.getByRole('button', { name: '设为默认卡' }).click();
  await page.getByText('默认卡已更换。').waitFor();
  const defaults = (await cards()).filter((card) => card.is_default);
  assert.deepEqual(defaults.map((card) => card.id), [pendingId]);
  const tagged = page.locator('li.card', { has: page.locator('span.tag') });
  assert.equal(await tagged.count(), 1);
  assert.equal(await tagged.locator(`a[href="/cards/${pendingId}"]`).count(), 2);
  await screenshot(page, 'my-cards');
});

test('a card is unbound with a texted code, also when the answer is lost', async () => {
  const approve = (await cards()).find(isCard(APPROVE));
  await page.goto(`${base}/cards/${approve.id}`);
  await page.getByRole('heading', { name: '银行卡详情' }).waitFor();
  assert.ok(await page.getByText('可以付款', { exact: true }).isVisible());
  await screenshot(page, 'card-detail');
  const before = await latestCode(person.phone);
  await page.getByRole('button', { name: '获取验证码' }).click();
  await page.getByText('验证码已发送到你的手机').waitFor();
  await page.getByLabel('短信验证码').fill(await codeAfter(person.phone, before));
  // The unbinding reaches the server and its answer is lost: the retry
  // carries the code the first sending spent, and still ends well.
  let dropped = 0;
  await page.route('**/unbind*', async (route) => {
    if (dropped > 0) {
      await route.continue();
      return;
    }
    dropped += 1;
    await route.fetch();
    await route.abort('connectionreset');
  });
  await page.getByRole('button', { name: '确认解绑' }).click();
  await page.locator('#network-problem').waitFor();
  assert.equal((await api('GET', `/v1/cards/${approve.id}`, { token })).body.status, 'unbound');
  await page.getByRole('button', { name: '重试' }).click();
  await page.getByText('银行卡已解绑。').waitFor();
  await page.unroute('**/unbind*');
  const gone = await api('GET', `/v1/cards/${approve.id}`, { token });
  assert.equal(gone.body.status, 'unbound');
  assert.ok(!(await cards()).some((card) => card.id === approve.id));
  assert.equal(await page.locator(`a[href="/cards/${approve.id}"]`).count(), 0);
  assert.deepEqual(browser.problems, []);
  assert.deepEqual(consoleErrors, []);
});

test('on a desktop screen: a card is added, and wrong codes end a bank step with what to do', async () => {
  const desktop = await openBrowser(DESKTOP);
  try {
    const { page: wide } = desktop;
    const someone = await signUp(wide);
    await wide.goto(`${base}/cards/new`);
    await wide.getByLabel('卡号', { exact: true }).pressSequentially(APPROVE);
    await wide.locator('#number-bin').filter({ hasText: '中国农业银行' }).waitFor();
    await wide.getByRole('button', { name: '添加这张卡' }).click();
    await wide.getByText('银行卡已添加，可以付款了。').waitFor();
    const theirToken = await apiSession(someone);
    const theirs = await api('GET', '/v1/cards', { token: theirToken });
    assert.deepEqual(theirs.body.data.map((card) => card.last4), [APPROVE.slice(-4)]);

    // Wrong codes until the bank's step ends: what to do is said.
    await wide.goto(`${base}/cards/new`);
    await wide.getByLabel('卡号', { exact: true }).pressSequentially(OTP);
    await wide.locator('#number-bin').filter({ hasText: '中国农业银行' }).waitFor();
    await wide.getByRole('button', { name: '添加这张卡' }).click();
    await wide.getByRole('heading', { name: '输入银行发来的验证码' }).waitFor();
    const id = new URL(wide.url()).pathname.split('/')[2];
    const code = await latestCode(someone.phone);
    const wrong = code === '000000' ? '111111' : '000000';
    for (const left of [4, 3, 2, 1]) {
      await wide.getByLabel('短信验证码').fill(wrong);
      await wide.getByRole('button', { name: '完成添加' }).click();
      await wide.getByText(`还可以再试 ${left} 次。`).waitFor();
    }
    await wide.getByLabel('短信验证码').fill(wrong);
    await wide.getByRole('button', { name: '完成添加' }).click();
    await wide.getByText('验证码输错次数太多，这张卡没有添加成功。').waitFor();
    assert.equal(await wide.getByLabel('短信验证码').count(), 0, 'no code is asked for any more');
    await wide.getByRole('link', { name: '重新添加这张卡' }).waitFor();
    const failed = await api('GET', `/v1/cards/${id}`, { token: theirToken });
    assert.equal(failed.body.status, 'verification_failed');

    // The same pages in English, the bank's name too.
    await wide.goto(`${base}/cards/new?lang=en`);
    await wide.getByRole('heading', { name: 'Add a card' }).waitFor();
    await wide.getByLabel('Card number', { exact: true }).pressSequentially(CREDIT.slice(0, 8));
    await wide.locator('#number-bin').filter({ hasText: 'UnionPay · Credit card' }).waitFor();
    await wide.getByLabel('Expiry date').waitFor();
    await wide.goto(`${base}/`);
    assert.match(await wide.locator('li.card').first().innerText(), /UnionPay · ending \d{4}/);
    assert.deepEqual(desktop.problems, []);
  } finally {
    await desktop.close();
  }
});
