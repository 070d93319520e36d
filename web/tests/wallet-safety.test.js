// The wallet's safety pages in a real browser, at a phone's size: a
// payment password set (a guessable one refused first, with its reason),
// changed (a wrong old one tells the tries left) and reset by a texted
// code; the no-confirmation limits lowered, raised with a confirmation and
// turned off; the wallet frozen and unfrozen with the payment password;
// a fingerprint added on Chromium's virtual authenticator and the wallet
// unfrozen with it, then removed. Then one pass at a desktop's size.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DESKTOP, api, apiSession, base, openBrowser, operatorKey, screenshot, signUp,
} from './wallet-helpers.js';

let browser;
let page;
let person;
let token;

const PASSWORD = '284917';
const CHANGED = '395172';
const RESET = '730518';

before(async () => {
  browser = await openBrowser();
  page = browser.page;
});

after(async () => {
  await browser?.close();
});

/** What the API holds for the person at `path`. */
async function held(path) {
  const answer = await api('GET', path, { token });
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  return answer.body;
}

/** Nothing wider than the screen: no sideways scrolling. */
async function assertFits(where) {
  const [scroll, width] = await where.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
  assert.ok(scroll <= width, `the page is ${scroll}px wide on a ${width}px screen`);
}

/** The code of the newest text whose words include `words`, waiting for it
 *  (reset codes are sent after the page answers). */
async function codeTexted(phone, words) {
  for (let i = 0; i < 50; i += 1) {
    const sms = await api('GET', `/v1/sandbox/sms?phone=${phone}`, { token: operatorKey });
    const text = sms.body?.data?.[0]?.body ?? '';
    const code = /(\d{6})/.exec(text);
    if (text.includes(words) && code) {
      return code[1];
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.fail(`no text about ${words} reached ${phone}`);
}

test('the safety page shows each setting, from the menu', async () => {
  person = await signUp(page);
  token = await apiSession(person);
  await page.getByRole('navigation').getByRole('link', { name: '支付安全' }).click();
  await page.getByRole('heading', { level: 1, name: '支付安全' }).waitFor();
  for (const heading of ['支付密码', '指纹或面容', '小额免密', '冻结钱包']) {
    assert.ok(await page.getByRole('heading', { level: 2, name: heading }).isVisible(), heading);
  }
  assert.ok(await page.getByText('还没有设置。').isVisible());
  assert.ok(await page.getByText('钱包正常使用中。').isVisible());
  const limits = await held('/v1/me/payment-limits');
  assert.ok(await page.getByText(`单笔限额：${limits.per_payment / 100} 元`).isVisible());
  await assertFits(page);
  await screenshot(page, 'safety');
});

test('a payment password anyone would guess is refused with its reason; a good one is set', async () => {
  await page.getByRole('link', { name: '设置支付密码' }).click();
  await page.getByRole('heading', { level: 1, name: '设置支付密码' }).waitFor();
  const fresh = page.getByLabel('新的支付密码（6 位数字）');
  await fresh.fill('123456');
  await page.getByLabel('再输入一次新的支付密码').fill('123456');
  await page.getByRole('button', { name: '保存支付密码' }).click();
  const refusal = page.locator('#payment_password-problem');
  await refusal.waitFor();
  assert.match(await refusal.innerText(), /支付密码不能是连续的数字/, 'the reason: digits in a row');
  assert.equal(await fresh.getAttribute('aria-invalid'), 'true');
  assert.match(await fresh.getAttribute('aria-describedby'), /payment_password-problem/);
  assert.equal(await fresh.inputValue(), '', 'a password is never typed back into the form');
  assert.equal((await held('/v1/me/payment-password')).set, false);
  await assertFits(page);
  await screenshot(page, 'payment-password');

  await fresh.fill(PASSWORD);
  await page.getByLabel('再输入一次新的支付密码').fill('284918');
  await page.getByRole('button', { name: '保存支付密码' }).click();
  await page.locator('#payment_password_again-problem').waitFor();
  assert.match(await page.locator('#payment_password_again-problem').innerText(), /两次输入的新支付密码不一样/);
  assert.equal((await held('/v1/me/payment-password')).set, false, 'two entries that differ are never sent');

  await fresh.fill(PASSWORD);
  await page.getByLabel('再输入一次新的支付密码').fill(PASSWORD);
  await page.getByRole('button', { name: '保存支付密码' }).click();
  await page.getByText('支付密码已设置。').waitFor();
  assert.equal(new URL(page.url()).pathname, '/safety');
  const state = await held('/v1/me/payment-password');
  assert.equal(state.set, true);
});

test('changing it: a wrong old one tells the tries left; the right one changes it', async () => {
  await page.getByRole('link', { name: '修改支付密码' }).click();
  await page.getByRole('heading', { level: 1, name: '修改支付密码' }).waitFor();
  const before = (await held('/v1/me/payment-password')).attempts_left;
  await page.getByLabel('当前的支付密码').fill('000000');
  await page.getByLabel('新的支付密码（6 位数字）').fill(CHANGED);
  await page.getByLabel('再输入一次新的支付密码').fill(CHANGED);
  await page.getByRole('button', { name: '保存支付密码' }).click();
  const refusal = page.locator('#old_payment_password-problem');
  await refusal.waitFor();
  const left = (await held('/v1/me/payment-password')).attempts_left;
  assert.equal(left, before - 1);
  assert.match(await refusal.innerText(), new RegExp(`支付密码不正确，还可尝试${left}次`));
  assert.equal(await page.getByLabel('当前的支付密码').getAttribute('aria-invalid'), 'true');

  await page.getByLabel('当前的支付密码').fill(PASSWORD);
  await page.getByLabel('新的支付密码（6 位数字）').fill(CHANGED);
  await page.getByLabel('再输入一次新的支付密码').fill(CHANGED);
  await page.getByRole('button', { name: '保存支付密码' }).click();
  await page.getByText('支付密码已修改。').waitFor();
  // The new one confirms; the old one no longer does.
  const confirmed = await api('POST', '/v1/me/verifications', {
    token, body: { purpose: 'security_settings', payment_password: CHANGED },
  });
  assert.equal(confirmed.status, 201, JSON.stringify(confirmed.body));
});

test('a forgotten payment password is reset with a texted code and the ID number', async () => {
  await page.getByRole('link', { name: '忘记支付密码' }).click();
  await page.getByRole('heading', { level: 1, name: '忘记支付密码' }).waitFor();
  assert.ok(await page.getByText(`${person.phone.slice(0, 3)}****${person.phone.slice(-4)}`).isVisible());
  await page.getByRole('button', { name: '获取验证码' }).click();
  await page.getByLabel('短信验证码').waitFor();
  await page.getByLabel('短信验证码').fill(await codeTexted(person.phone, '重设支付密码'));
  await page.getByLabel('身份证号（18 位）').fill(person.idNumber);
  await page.getByLabel('新的支付密码（6 位数字）').fill(RESET);
  await page.getByLabel('再输入一次新的支付密码').fill(RESET);
  await page.getByRole('button', { name: '重设支付密码' }).click();
  await page.getByText('支付密码已重设').waitFor();
  const confirmed = await api('POST', '/v1/me/verifications', {
    token, body: { purpose: 'security_settings', payment_password: RESET },
  });
  assert.equal(confirmed.status, 201, JSON.stringify(confirmed.body));
});

test('the no-confirmation limits: lowered at once, raised with the payment password, 0 turns them off', async () => {
  await page.goto(`${base}/safety/limits`);
  await page.getByRole('heading', { level: 1, name: '小额免密' }).waitFor();
  const { max_per_payment: maxPerPayment } = await held('/v1/me/payment-limits');
  assert.ok(await page.getByText(`可设置范围：0 至 ${maxPerPayment / 100} 元`).isVisible());

  await page.getByLabel('单笔限额（元）').fill('3e2');
  await page.getByRole('button', { name: '保存限额' }).click();
  await page.locator('#per_payment-problem').waitFor();
  assert.match(await page.locator('#per_payment-problem').innerText(), /例如 300 或 300.50/);
  assert.equal(await page.getByLabel('单笔限额（元）').getAttribute('aria-invalid'), 'true');

  await page.getByLabel('单笔限额（元）').fill('200.5');
  await page.getByLabel('每日限额（元）').fill('800');
  await page.getByRole('button', { name: '保存限额' }).click();
  await page.getByText('小额免密限额已保存。').waitFor();
  let limits = await held('/v1/me/payment-limits');
  assert.deepEqual([limits.per_payment, limits.per_day, limits.chosen], [20050, 80000, true]);

  await page.goto(`${base}/safety/limits`);
  assert.equal(await page.getByLabel('单笔限额（元）').inputValue(), '200.50');
  await page.getByLabel('单笔限额（元）').fill('500.07');
  await page.getByLabel('每日限额（元）').fill('2000');
  await page.getByRole('button', { name: '保存限额' }).click();
  await page.getByText('提高限额需要先确认是你本人').waitFor();
  assert.equal((await held('/v1/me/payment-limits')).per_payment, 20050, 'nothing raised unconfirmed');
  await assertFits(page);
  await screenshot(page, 'limits');
  await page.getByLabel('支付密码（6 位数字）').fill(RESET);
  await page.getByRole('button', { name: '保存限额' }).click();
  await page.getByText('小额免密限额已保存。').waitFor();
  limits = await held('/v1/me/payment-limits');
  assert.deepEqual([limits.per_payment, limits.per_day], [50007, 200000]);

  await page.goto(`${base}/safety/limits`);
  await page.getByLabel('单笔限额（元）').fill('0');
  await page.getByLabel('每日限额（元）').fill('0');
  await page.getByRole('button', { name: '保存限额' }).click();
  await page.getByText('已关闭：每笔付款都要确认。').waitFor();
  limits = await held('/v1/me/payment-limits');
  assert.deepEqual([limits.per_payment, limits.per_day], [0, 0]);
});

test('freezing takes one press; unfreezing takes the payment password', async () => {
  await page.goto(`${base}/safety`);
  await page.getByRole('link', { name: '冻结或解冻钱包' }).click();
  await page.getByRole('heading', { level: 1, name: '冻结钱包' }).waitFor();
  assert.ok(await page.getByText('冻结不需要密码').isVisible());
  await page.getByRole('button', { name: '立即冻结钱包' }).click();
  await page.getByText('钱包已冻结：所有银行卡已暂停使用').waitFor();
  assert.equal((await held('/v1/me/freeze')).frozen, true);
  assert.ok(await page.getByText('钱包已冻结，冻结时间：').isVisible());
  await assertFits(page);
  await screenshot(page, 'freeze');

  await page.getByLabel('支付密码（6 位数字）').fill('000000');
  await page.getByRole('button', { name: '解冻钱包' }).click();
  await page.locator('#payment_password-problem').waitFor();
  assert.match(await page.locator('#payment_password-problem').innerText(), /支付密码不正确，还可尝试\d次/);
  assert.equal((await held('/v1/me/freeze')).frozen, true);

  await page.getByLabel('支付密码（6 位数字）').fill(RESET);
  await page.getByRole('button', { name: '解冻钱包' }).click();
  await page.getByText('钱包已解冻').waitFor();
  assert.equal((await held('/v1/me/freeze')).frozen, false);
});

test('a fingerprint is added on the device and then unfreezes the wallet', async () => {
  const cdp = await browser.context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
    },
  });
  await page.goto(`${base}/safety/passkeys`);
  await page.getByRole('heading', { level: 1, name: '指纹或面容' }).waitFor();
  await page.getByLabel('设备名称（选填）').fill('我的手机');
  await page.getByLabel('支付密码（6 位数字）').fill(RESET);
  await page.getByRole('button', { name: '添加指纹或面容' }).click();
  await page.getByText('指纹或面容已添加').waitFor();
  assert.ok(await page.getByRole('listitem').filter({ hasText: '我的手机' }).isVisible());
  const passkeys = await held('/v1/me/passkeys');
  assert.equal(passkeys.data.length, 1);
  assert.equal(passkeys.data[0].name, '我的手机');
  assert.equal(passkeys.data[0].last_used_at, null);
  const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
  assert.equal(credentials.length, 1, 'the device holds the passkey');
  await assertFits(page);
  await screenshot(page, 'passkeys');

  await page.goto(`${base}/safety/freeze`);
  await page.getByRole('button', { name: '立即冻结钱包' }).click();
  await page.getByText('钱包已冻结：所有银行卡已暂停使用').waitFor();
  assert.equal((await held('/v1/me/freeze')).frozen, true);
  await page.getByRole('button', { name: '用指纹或面容确认' }).click();
  await page.getByText('钱包已解冻').waitFor();
  assert.equal((await held('/v1/me/freeze')).frozen, false);
  assert.notEqual((await held('/v1/me/passkeys')).data[0].last_used_at, null, 'the passkey confirmed it');

  await page.goto(`${base}/safety/passkeys`);
  await page.getByRole('link', { name: '移除 我的手机' }).click();
  await page.getByRole('heading', { level: 1, name: '移除指纹或面容' }).waitFor();
  await page.getByLabel('支付密码（6 位数字）').fill(RESET);
  await page.getByRole('button', { name: '移除' }).click();
  await page.getByText('已移除。').waitFor();
  assert.equal((await held('/v1/me/passkeys')).data.length, 0);
  assert.deepEqual(browser.problems, []);
});

test('in English too', async () => {
  await page.goto(`${base}/safety?lang=en`);
  await page.getByRole('heading', { level: 1, name: 'Payment security' }).waitFor();
  assert.ok(await page.getByText('Off: every payment is confirmed.').isVisible());
  await page.goto(`${base}/safety/freeze?lang=en`);
  assert.ok(await page.getByRole('button', { name: 'Freeze the wallet now' }).isVisible());
  await page.goto(`${base}/safety?lang=zh`);
});

test('at a desktop size: the pages read the same, and a locked payment password says when it lifts', async () => {
  const desktop = await openBrowser(DESKTOP);
  const at = desktop.page;
  try {
    const someone = await signUp(at);
    const theirs = await apiSession(someone);
    for (const path of ['/safety', '/safety/payment-password', '/safety/limits', '/safety/freeze', '/safety/passkeys']) {
      await at.goto(`${base}${path}`);
      assert.equal(await at.getByRole('heading', { level: 1 }).count(), 1, path);
      assert.ok(await at.getByRole('main').isVisible(), path);
      await assertFits(at);
    }
    await at.goto(`${base}/safety/payment-password`);
    await at.getByLabel('新的支付密码（6 位数字）').fill(PASSWORD);
    await at.getByLabel('再输入一次新的支付密码').fill(PASSWORD);
    await at.getByRole('button', { name: '保存支付密码' }).click();
    await at.getByText('支付密码已设置。').waitFor();
    for (let wrong = 0; wrong < 10; wrong += 1) {
      await at.goto(`${base}/safety/payment-password`);
      if (await at.getByText('解锁时间：').count()) {
        break;
      }
      await at.getByLabel('当前的支付密码').fill('000000');
      await at.getByLabel('新的支付密码（6 位数字）').fill(CHANGED);
      await at.getByLabel('再输入一次新的支付密码').fill(CHANGED);
      await at.getByRole('button', { name: '保存支付密码' }).click();
      await at.locator('#old_payment_password-problem').waitFor();
    }
    const state = (await api('GET', '/v1/me/payment-password', { token: theirs })).body;
    assert.ok(state.locked_until, JSON.stringify(state));
    const lock = at.getByText('支付密码输错次数太多，已暂时锁定，解锁时间：');
    assert.match(await lock.innerText(), /解锁时间：\d{4}-\d{2}-\d{2} \d{2}:\d{2}$/);
    assert.ok(await at.getByText('重设后立即解锁').isVisible());
    assert.deepEqual(desktop.problems, []);
  } finally {
    await desktop.close();
  }
});
