//! The wallet's safety pages: the payment password, fingerprint or face
//! (passkeys), the no-confirmation limits, freezing the wallet and closing
//! the account.

use tessera_core::error::Text;

const fn t(zh: &'static str, en: &'static str) -> Text {
    Text { zh, en }
}

pub const SAFETY_INTRO: Text = t(
    "在这里管理支付密码、指纹或面容、小额免密、冻结钱包，以及注销账户。",
    "Manage your payment password, fingerprint or face, no-confirmation limits, freezing the wallet, and closing your account.",
);
pub const BACK_TO_SAFETY: Text = t("返回支付安全", "Back to payment security");

pub const PP_TITLE: Text = t("支付密码", "Payment password");
pub const PP_IS_SET: Text = t(
    "已设置。付款、解冻钱包和修改安全设置时用它确认。",
    "Set. You confirm payments, unfreezing and safety changes with it.",
);
pub const PP_NOT_SET_YET: Text = t(
    "还没有设置。设置后，付款、解冻钱包和修改安全设置时都可以用它确认。",
    "Not set yet. Once set, you can confirm payments, unfreezing and safety changes with it.",
);
pub const PP_SET_ACTION: Text = t("设置支付密码", "Set a payment password");
pub const PP_CHANGE_ACTION: Text = t("修改支付密码", "Change the payment password");
pub const PP_FORGOT_ACTION: Text = t("忘记支付密码", "Forgot the payment password");
pub const PP_RULES: Text = t(
    "支付密码是 6 位数字。请选一组只有你自己知道的数字：不要用生日、手机号后六位，也不要用连续或重复的数字。",
    "A payment password is 6 digits. Choose digits only you know: not your birthday or the end of your phone number, and not digits in a row or repeated.",
);
pub const PP_NEW: Text = t(
    "新的支付密码（6 位数字）",
    "New payment password (6 digits)",
);
pub const PP_AGAIN: Text = t("再输入一次新的支付密码", "New payment password again");
pub const PP_OLD: Text = t("当前的支付密码", "Current payment password");
pub const PP_MISMATCH: Text = t(
    "两次输入的新支付密码不一样，请重新输入两次。",
    "The two entries of the new payment password differ. Enter it twice again.",
);
pub const PP_SAVE: Text = t("保存支付密码", "Save the payment password");
pub const PP_LOCK_RESET_HINT: Text = t(
    "也可以现在通过“忘记支付密码”重设，重设后立即解锁。",
    "You can also reset it now with “Forgot the payment password”, which lifts the lock at once.",
);
pub const PP_DONE_SET: Text = t("支付密码已设置。", "Your payment password is set.");
pub const PP_DONE_CHANGED: Text = t("支付密码已修改。", "Your payment password is changed.");
pub const PP_DONE_RESET: Text = t(
    "支付密码已重设，可以用新的支付密码了。",
    "Your payment password is reset; use the new one from now on.",
);
pub const PP_FORGOT_INTRO: Text = t(
    "重设支付密码需要两样东西：发到你手机上的短信验证码，以及你的完整身份证号。",
    "Resetting your payment password takes two things: a code texted to your phone, and your full ID number.",
);
pub const PP_CODE_GOES_TO: Text = t("验证码将发送到：", "The code goes to: ");
pub const PP_FULL_ID: Text = t("身份证号（18 位）", "ID number (all 18 characters)");
pub const PP_RESET_SAVE: Text = t("重设支付密码", "Reset the payment password");

pub const PK_TITLE: Text = t("指纹或面容", "Fingerprint or face");
pub const PK_ADDED_BEFORE: Text = t("已添加 ", "");
pub const PK_ADDED_AFTER: Text = t(" 个", " added");
pub const PK_NONE: Text = t(
    "还没有添加。添加后，可以用设备上的指纹或面容代替支付密码来确认。",
    "None yet. Once added, your device's fingerprint or face can confirm in place of the payment password.",
);
pub const PK_MANAGE: Text = t("管理指纹或面容", "Manage fingerprint or face");
pub const PK_INTRO: Text = t(
    "添加后，在这台设备上付款或确认操作时，可以用指纹或面容代替支付密码。指纹和面容信息只留在你的设备上，钱包只保存一把用来核对的公钥。",
    "Once added, you can confirm payments and other steps on this device with your fingerprint or face instead of the payment password. Your fingerprint or face stays on your device; the wallet keeps only a public key to check against.",
);
pub const PK_NAME: Text = t("设备名称（选填）", "Device name (optional)");
pub const PK_NAME_HINT: Text = t(
    "例如“我的手机”，方便以后认出它。",
    "For example “My phone”, so that you can tell it apart later.",
);
pub const PK_ADD: Text = t("添加指纹或面容", "Add fingerprint or face");
pub const PK_YOURS: Text = t("已添加的设备", "Devices added");
pub const PK_ADDED_AT: Text = t("添加时间：", "Added ");
pub const PK_LAST_USED: Text = t("上次使用：", "Last used ");
pub const PK_NEVER_USED: Text = t("还没有用过", "Not used yet");
pub const PK_REMOVE: Text = t("移除", "Remove");
pub const PK_REMOVE_TITLE: Text = t("移除指纹或面容", "Remove a fingerprint or face");
pub const PK_REMOVE_INTRO: Text = t(
    "移除后，就不能再用它确认付款和其他操作了；需要时可以重新添加。",
    "Once removed, it can no longer confirm payments or other steps; you can add one again whenever you like.",
);
pub const PK_DONE_ADDED: Text = t(
    "指纹或面容已添加，下次确认时就可以使用了。",
    "Fingerprint or face added: you can confirm with it from now on.",
);
pub const PK_DONE_REMOVED: Text = t("已移除。", "Removed.");
pub const PK_UNSUPPORTED: Text = t(
    "这个浏览器不支持指纹或面容验证。请换用设备自带的浏览器，或者用支付密码确认。",
    "This browser cannot check a fingerprint or face. Use your device's own browser, or confirm with the payment password.",
);
pub const PK_CANCELLED: Text = t(
    "指纹或面容验证没有完成，没有做任何更改。可以再试一次。",
    "The fingerprint or face check was not completed, so nothing changed. You can try again.",
);
pub const PK_WORKING: Text = t(
    "请按设备上的提示验证指纹或面容……",
    "Follow your device's prompt to check your fingerprint or face…",
);
pub const PK_START_FAILED: Text = t(
    "暂时无法开始指纹或面容验证，请稍后再试，或者用支付密码确认。",
    "The fingerprint or face check could not start. Try again later, or confirm with the payment password.",
);
pub const PK_USE: Text = t("用指纹或面容确认", "Confirm with fingerprint or face");
pub const PK_OR_PASSWORD: Text = t(
    "也可以在下面输入支付密码。",
    "Or enter your payment password below.",
);

pub const LIMITS_TITLE: Text = t("小额免密", "No-confirmation limits");
pub const LIMITS_EXPLAINED: Text = t(
    "单笔金额不超过单笔限额、并且当天免密付款的总额不超过每日限额时，付款不用输入支付密码；超过任何一项，都要先确认是你本人。",
    "A payment within the per-payment limit, while the day's payments without confirmation stay within the daily limit, needs no payment password; above either, you confirm it is you first.",
);
pub const LIMITS_PER_PAYMENT: Text = t("单笔限额（元）", "Per payment (yuan)");
pub const LIMITS_PER_DAY: Text = t("每日限额（元）", "Per day (yuan)");
pub const LIMITS_PER_PAYMENT_NOW: Text = t("单笔限额：", "Per payment: ");
pub const LIMITS_PER_DAY_NOW: Text = t("每日限额：", "Per day: ");
pub const LIMITS_USED_TODAY: Text = t("今天已免密付款：", "Paid without confirming today: ");
pub const LIMITS_YUAN: Text = t(" 元", " yuan");
pub const LIMITS_OFF: Text = t(
    "已关闭：每笔付款都要确认。",
    "Off: every payment is confirmed.",
);
pub const LIMITS_DEFAULTS: Text = t(
    "这是钱包的默认设置，你还没有自己修改过。",
    "These are the wallet's defaults; you have not chosen your own yet.",
);
pub const LIMITS_CHANGE: Text = t("修改限额", "Change the limits");
pub const LIMITS_HOW: Text = t(
    "金额以元为单位，最多两位小数，例如 300 或 300.50。填 0 表示关闭：每笔付款都要确认。每日限额不能低于单笔限额。",
    "Amounts in yuan with at most two decimals, such as 300 or 300.50. Enter 0 to turn it off: every payment is then confirmed. The daily limit cannot be below the per-payment limit.",
);
pub const LIMITS_RANGE: Text = t("可设置范围：0 至 ", "Allowed: 0 to ");
pub const LIMITS_BAD_AMOUNT: Text = t(
    "请填写金额，例如 300 或 300.50（最多两位小数）。",
    "Enter an amount such as 300 or 300.50 (at most two decimals).",
);
pub const LIMITS_RAISING: Text = t(
    "提高限额需要先确认是你本人；降低限额则不需要。",
    "Raising a limit needs you to confirm it is you first; lowering one does not.",
);
pub const LIMITS_SAVE: Text = t("保存限额", "Save the limits");
pub const LIMITS_DONE: Text = t(
    "小额免密限额已保存。",
    "Your no-confirmation limits are saved.",
);

pub const FREEZE_TITLE: Text = t("冻结钱包", "Freeze the wallet");
pub const FREEZE_STATE_OFF: Text = t("钱包正常使用中。", "Your wallet is in normal use.");
pub const FREEZE_MANAGE: Text = t("冻结或解冻钱包", "Freeze or unfreeze the wallet");
pub const FREEZE_INTRO: Text = t(
    "如果手机丢了，或者担心有人在用你的账户，可以立即冻结钱包：所有银行卡马上暂停使用，任何付款都不会成功，客服也会看到这次冻结，以便协助你。冻结不需要密码，解冻时需要确认是你本人。",
    "If your phone is lost or you fear someone is using your account, freeze the wallet now: every card is paused at once, no payment goes through, and support sees the freeze so that they can help you. Freezing needs no password; unfreezing needs you to confirm it is you.",
);
pub const FREEZE_NOW: Text = t("立即冻结钱包", "Freeze the wallet now");
pub const FROZEN_SINCE: Text = t("钱包已冻结，冻结时间：", "Your wallet is frozen, since ");
pub const UNFREEZE_INTRO: Text = t(
    "确认手机和账户都安全后，就可以解冻。解冻后银行卡恢复使用；因为举报可疑付款而暂停的卡仍然保持暂停。",
    "Once you are sure your phone and account are safe, unfreeze. Your cards work again; a card paused because you reported a payment stays paused.",
);
pub const UNFREEZE: Text = t("解冻钱包", "Unfreeze the wallet");
pub const FREEZE_DONE: Text = t(
    "钱包已冻结：所有银行卡已暂停使用，付款都不会成功。",
    "Your wallet is frozen: every card is paused and no payment will go through.",
);
pub const UNFREEZE_DONE: Text = t(
    "钱包已解冻，银行卡已恢复使用（因举报而暂停的卡除外）。",
    "Your wallet is unfrozen and your cards work again (except any paused because of a report).",
);

pub const CLOSE_TITLE: Text = t("注销账户", "Close my account");
pub const CLOSE_MANAGE: Text = t("了解并注销账户", "Read about closing and close my account");
pub const CLOSE_SUMMARY: Text = t(
    "不再使用钱包时，可以注销账户。注销后不能恢复。",
    "When you no longer use the wallet, you can close your account. A closure cannot be undone.",
);
pub const CLOSE_WHAT_GOES: Text = t(
    "注销后：所有银行卡立即解绑，支付凭证全部删除，完整卡号从钱包中抹去；所有设备都会退出登录，账户不能再登录。",
    "When you close it: every card is unbound at once, every payment token is deleted and the full card numbers are erased from the wallet; every device is signed out, and the account can no longer sign in.",
);
pub const CLOSE_WHAT_STAYS: Text = t(
    "按规定，付款、转账和绑卡记录会保留一段时间，只保留打了掩码的内容（卡号只留前六位和后四位），到期后一并删除。",
    "As the rules require, your payment, transfer and card-adding records are kept for a while, masked only (a card number keeps just its first six and last four digits), and deleted when that period ends.",
);
pub const CLOSE_NOW: Text = t("确认注销账户", "Close my account now");
pub const ACCOUNT_CLOSED_NOTICE: Text = t(
    "你的账户已注销，所有设备都已退出登录。",
    "Your account is closed and every device has been signed out.",
);
