//! The web wallet's words: its menu, account pages and shared parts. Each
//! group of wallet pages keeps its words in a file of its own beside this
//! one; all are one catalogue (`web/words.rs`).

use tessera_core::error::Text;

const fn t(zh: &'static str, en: &'static str) -> Text {
    Text { zh, en }
}

pub const WALLET: Text = t("Tessera 钱包", "Tessera Wallet");
pub const MY_CARDS: Text = t("我的银行卡", "My cards");
pub const RECORDS: Text = t("交易记录", "Transactions");
pub const SAFETY: Text = t("支付安全", "Payment security");
pub const MY_ATTEMPTS: Text = t("绑卡记录", "Card adding history");
pub const MORE_HELP: Text = t("查看详细说明", "Read more about this");
pub const TRACE_FOR_SUPPORT: Text = t("联系客服时请提供编号：", "Reference for support: ");
pub const BACK_TO_WALLET: Text = t("返回钱包首页", "Back to the wallet");
pub const WALLET_FORM_REFUSED: Text = t(
    "这个页面已过期，或者不是从钱包里提交的，所以没有做任何更改。请刷新页面后再试一次。",
    "This page has expired or was not sent from the wallet, so nothing was changed. Reload the page and try again.",
);
pub const WALLET_SESSION_ENDED: Text = t(
    "登录已过期，请重新登录。",
    "You have been signed out. Please sign in again.",
);
pub const PASSWORD_WAS_RESET: Text = t(
    "登录密码已重设，所有设备都已退出登录。请用新密码登录。",
    "Your password has been reset and every device has been signed out. Sign in with the new password.",
);

pub const PASSWORD: Text = t("登录密码", "Password");
pub const FORGOT_PASSWORD: Text = t("忘记密码", "Forgot password");
pub const SIGN_UP: Text = t("注册", "Sign up");
pub const SIGN_UP_INTRO: Text = t(
    "先验证手机号：我们会给它发一条短信验证码。",
    "First prove your mobile number: we will text a code to it.",
);
pub const SEND_CODE: Text = t("获取验证码", "Send code");
pub const CODE_SENT_TO: Text = t("验证码已发送至：", "Code sent to: ");
pub const SMS_CODE: Text = t("短信验证码", "Code from the text message");
pub const RESEND_CODE: Text = t("重新发送验证码", "Send the code again");
pub const RESEND_IN: Text = t("秒后可重新发送", " s until you can send again");
pub const REAL_NAME: Text = t("真实姓名", "Full legal name");
pub const NEW_PASSWORD: Text = t("设置登录密码", "Choose a password");
pub const PASSWORD_HINT: Text = t(
    "至少 8 位，同时包含字母和数字。",
    "At least 8 characters, with both letters and digits.",
);
pub const CREATE_ACCOUNT: Text = t("注册", "Create account");
pub const HAVE_ACCOUNT: Text = t("已有账户？去登录", "Already have an account? Sign in");
pub const FORGOT_INTRO: Text = t(
    "输入注册时用的手机号，我们会发送验证码，验证后即可设置新密码。",
    "Enter the mobile number you signed up with. We will text you a code; with it you can set a new password.",
);
pub const RESET_CODE_SENT: Text = t(
    "如果这个手机号注册过钱包，验证码已经发出。",
    "If this number has a wallet account, a code is on its way.",
);
pub const SET_NEW_PASSWORD: Text = t("设置新密码", "Set the new password");

pub const ADD_CARD: Text = t("添加银行卡", "Add a card");
pub const NO_CARDS_YET: Text = t(
    "还没有绑定银行卡。添加一张，就可以用钱包付款了。",
    "No cards yet. Add one to start paying with the wallet.",
);
pub const ENDING_IN: Text = t("尾号", "ending ");
pub const DEFAULT_CARD: Text = t("默认卡", "Default");
pub const CARD_DETAILS: Text = t("查看详情", "Details");
pub const UNKNOWN_BANK: Text = t("银行卡", "Bank card");

pub const NETWORK_FAILED: Text = t(
    "网络连接中断，没有收到结果。请检查网络后点“重试”：同一次提交重试不会重复办理。",
    "The connection dropped before an answer came. Check your network and press Retry: retrying the same submission never does it twice.",
);
pub const RETRY: Text = t("重试", "Retry");

pub const CONFIRM_LEGEND: Text = t("确认是你本人", "Confirm it is you");
pub const PAYMENT_PASSWORD: Text = t("支付密码（6 位数字）", "Payment password (6 digits)");
pub const PAYMENT_PASSWORD_LOCKED_UNTIL: Text = t(
    "支付密码输错次数太多，已暂时锁定，解锁时间：",
    "Too many wrong payment passwords: it is locked until ",
);
pub const VERIFICATION_CODE_SENT: Text = t(
    "验证码已发送到你的手机，请在 5 分钟内输入。",
    "A code has been texted to your phone. Enter it within 5 minutes.",
);
