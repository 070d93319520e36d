// The wallet's account pages in a real browser, at a phone's size and a
// desktop's: sign up with the text message's code, sign out, a wrong
// password explained, a forgotten password reset by code, and signing in
// again.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DESKTOP, PHONE, api, base, latestCode, openBrowser, screenshot, signUp,
} from './wallet-helpers.js';

for (const [size, viewport] of [['phone', PHONE], ['desktop', DESKTOP]]) {
  describe(`account pages at the ${size} size`, () => {
    let browser;
    let page;
    let person;
    const shoot = (name) => (size === 'phone' ? screenshot(page, name) : undefined);

    before(async () => {
      browser = await openBrowser(viewport);
      page = browser.page;
    });

    after(async () => {
      await browser?.close();
    });

    test('a new person signs up with the code texted to their phone', async () => {
      await page.goto(`${base}/`);
      assert.match(page.url(), /\/sign-in\?next=%2F/);
      await shoot('sign-in');
      person = await signUp(page);
      person.signUpCode = await latestCode(person.phone);
      assert.equal(new URL(page.url()).pathname, '/');
      assert.ok(await page.getByText('还没有绑定银行卡').isVisible());
      const cookies = await browser.context.cookies(base);
      const session = cookies.find((cookie) => cookie.name === 'tessera_wallet');
      assert.ok(session?.httpOnly, 'the session cookie is HttpOnly');
      assert.equal(session.sameSite, 'Strict');
    });

    test('signing out ends the session the cookie held', async () => {
      const token = (await browser.context.cookies(base)).find((c) => c.name === 'tessera_wallet').value;
      await page.getByRole('button', { name: '退出登录' }).click();
      await page.getByText('你已退出登录。').waitFor();
      const me = await api('GET', '/v1/me', { token });
      assert.equal(me.status, 401, 'the ended session opens nothing');
    });

    test('a wrong password is explained, with its help page and trace', async () => {
      await page.getByLabel('手机号').fill(person.phone);
      await page.getByLabel('登录密码').fill('not-the-password-1');
      await page.getByRole('button', { name: '登录' }).click();
      const alert = page.locator('#problem');
      await alert.waitFor();
      assert.match(await alert.innerText(), /手机号或密码不正确/);
      assert.match(await alert.innerText(), /req_/);
      assert.equal(await alert.getByRole('link').getAttribute('href'), '/help/errors/invalid_credentials?lang=zh');
    });

    test('a forgotten password is reset with a code, and the new one signs in', async () => {
      await page.getByRole('link', { name: '忘记密码' }).click();
      await page.getByLabel('手机号').fill(person.phone);
      await page.getByRole('button', { name: '获取验证码' }).click();
      await page.getByLabel('短信验证码').waitFor();
      await shoot('forgot-password');
      await page.getByLabel('短信验证码').fill(await latestCode(person.phone, { notCode: person.signUpCode }));
      person.password = 'new-wallet-2027';
      await page.getByLabel('设置登录密码').fill(person.password);
      await page.getByRole('button', { name: '设置新密码' }).click();
      await page.getByText('登录密码已重设').waitFor();
      await page.getByLabel('手机号').fill(person.phone);
      await page.getByLabel('登录密码').fill(person.password);
      await page.getByRole('button', { name: '登录' }).click();
      await page.getByRole('heading', { name: '我的银行卡' }).waitFor();
      assert.deepEqual(browser.problems, []);
    });

    test('the pages speak English on request, and remember it', async () => {
      await page.goto(`${base}/?lang=en`);
      await page.getByRole('heading', { name: 'My cards' }).waitFor();
      assert.equal(await page.getAttribute('html', 'lang'), 'en');
      await page.goto(`${base}/`);
      await page.getByRole('heading', { name: 'My cards' }).waitFor();
      await page.getByRole('link', { name: '中文' }).click();
      await page.getByRole('heading', { name: '我的银行卡' }).waitFor();
    });
  });
}
