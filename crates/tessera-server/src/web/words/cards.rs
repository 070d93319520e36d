//! The wallet's card pages: adding a card, its text-message step, the
//! card's own page and the list of cards.

use tessera_core::error::Text;

const fn t(zh: &'static str, en: &'static str) -> Text {
    Text { zh, en }
}

pub const CARD_NUMBER: Text = t("卡号", "Card number");
pub const CARD_NUMBER_HINT: Text = t(
    "银行卡正面的卡号，只填数字，输入时会自动每四位隔开。",
    "The number on the front of the card. Digits only; it is spaced in fours as you type.",
);
pub const CARD_BIN_UNKNOWN: Text = t(
    "还认不出这张卡的发卡行，请核对卡号的前几位。",
    "We can't tell which bank issued this card yet. Check the first digits.",
);
pub const CARD_EXTRA_NOTE: Text = t(
    "信用卡需要填写有效期和安全码，借记卡不需要。",
    "Credit cards need the expiry date and the security code; debit cards don't.",
);
pub const CARD_EXPIRY: Text = t(
    "有效期（月/年，例如 08/29）",
    "Expiry date (MM/YY, for example 08/29)",
);
pub const CARD_CVC: Text = t("安全码", "Security code");
pub const CARD_CVC_HINT: Text = t(
    "卡片背面签名栏末尾的 3 位数字（美国运通卡是正面的 4 位数字）。",
    "The 3 digits at the end of the signature strip on the back (American Express: the 4 digits on the front).",
);
pub const CARD_HOLDER: Text = t("持卡人", "Cardholder");
pub const CARD_HOLDER_HINT: Text = t(
    "只能添加你本人名下的卡，所以持卡人就是你实名认证的姓名。",
    "Only cards in your own name can be added, so the cardholder is your verified name.",
);
pub const BANK_PHONE: Text = t(
    "银行预留手机号（选填）",
    "Phone number the bank has for this card (optional)",
);
pub const BANK_PHONE_HINT: Text = t(
    "办卡时留给银行的手机号。不填就用你注册钱包的手机号；银行可能会向这个号码发送验证码。",
    "The number you gave the bank for this card. Leave it empty to use your wallet's number; the bank may text a code to it.",
);
pub const ADD_THIS_CARD: Text = t("添加这张卡", "Add this card");
pub const CARD_DATA_NOTE: Text = t(
    "提交后，页面上不会再显示完整卡号；安全码只用于这次验证，不会保存。",
    "Once sent, the full card number is never shown on a page again; the security code is used for this check only and is not kept.",
);
pub const CARD_TYPE_AGAIN: Text = t(
    "为了安全，请重新输入卡号（信用卡还要重新输入有效期和安全码）。",
    "For your security, type the card number again (and, for a credit card, the expiry date and security code).",
);

pub const SMS_STEP: Text = t("输入银行发来的验证码", "Enter the code from your bank");
pub const SMS_STEP_INTRO: Text = t(
    "为了确认是你本人的卡，发卡行发送了一条短信验证码。输入后这张卡就添加好了。",
    "To make sure the card is yours, your bank has texted you a code. Enter it to finish adding the card.",
);
pub const CODE_VALID_UNTIL: Text = t("验证码有效期至：", "The code is valid until ");
pub const FINISH_ADDING: Text = t("完成添加", "Finish adding the card");
pub const TRIES_LEFT_BEFORE: Text = t("还可以再试 ", "Tries left: ");
pub const TRIES_LEFT_AFTER: Text = t(" 次。", ".");
pub const CARD_PENDING: Text = t("等待短信验证", "Waiting for the code from your bank");
pub const FINISH_THIS_CARD: Text = t("输入验证码，完成添加", "Enter the code to finish adding it");
pub const CARD_CODE_EXPIRED: Text = t(
    "验证码已过期，这张卡没有添加成功。请重新添加这张卡，银行会发送新的验证码。",
    "The code expired, so this card was not added. Add the card again and your bank will text a new code.",
);
pub const CARD_CODE_FAILED: Text = t(
    "验证码输错次数太多，这张卡没有添加成功。请重新添加这张卡；如果总是收不到正确的验证码，请联系发卡行核对预留手机号。",
    "The code was entered wrongly too many times, so this card was not added. Add the card again; if the right code never comes, ask your bank to check the phone number it has for you.",
);
pub const CARD_WAS_REMOVED: Text = t(
    "这张卡已从钱包解绑。需要时可以重新添加。",
    "This card has been removed from the wallet. You can add it again whenever you like.",
);
pub const CARD_CLOSED_BY_BANK: Text = t(
    "发卡行已注销这张卡。请添加银行给你的新卡。",
    "Your bank has closed this card. Add the new card your bank gave you.",
);
pub const ADD_CARD_AGAIN: Text = t("重新添加这张卡", "Add the card again");

pub const CARD_PAGE: Text = t("银行卡详情", "Card details");
pub const CARD_BANK: Text = t("发卡行", "Bank");
pub const CARD_KIND: Text = t("卡片类型", "Card type");
pub const CARD_PAYMENTS: Text = t("付款", "Payments");
pub const CAN_PAY: Text = t("可以付款", "Ready to pay");
pub const CANNOT_PAY_NOW: Text = t("暂时不能付款", "Can't pay right now");
pub const TOKEN_SUSPENDED: Text = t("已暂停使用", "Paused");
pub const TOKEN_INACTIVE: Text = t("尚未启用", "Not active yet");
pub const TOKEN_DELETED: Text = t("已停用", "Stopped");
pub const MAKE_DEFAULT: Text = t("设为默认卡", "Make this the default card");
pub const DEFAULT_HINT: Text = t(
    "付款时默认使用这张卡。",
    "Payments use this card unless you choose another.",
);
pub const UNBIND_CARD: Text = t("解绑这张卡", "Remove this card");
pub const UNBIND_INTRO: Text = t(
    "解绑后不能再用这张卡在钱包里付款；以后需要时可以重新添加。",
    "Once removed, the card can't pay from the wallet; you can add it again later.",
);
pub const UNBIND_SUBMIT: Text = t("确认解绑", "Remove the card");
pub const CARD_ADDED: Text = t(
    "银行卡已添加，可以付款了。",
    "The card has been added and can pay now.",
);
pub const CARD_REMOVED: Text = t("银行卡已解绑。", "The card has been removed.");
pub const DEFAULT_CHANGED: Text = t("默认卡已更换。", "Your default card has changed.");

pub const BRAND_UNIONPAY: Text = t("银联", "UnionPay");
pub const BRAND_MASTERCARD: Text = t("万事达", "Mastercard");
pub const BRAND_AMEX: Text = t("美国运通", "American Express");
pub const BRAND_DINERS: Text = t("大来", "Diners Club");
pub const BRAND_CN_DOMESTIC: Text = t("国内卡", "China domestic card");
pub const TYPE_DEBIT: Text = t("借记卡", "Debit card");
pub const TYPE_CREDIT: Text = t("信用卡", "Credit card");
pub const TYPE_SEMI_CREDIT: Text = t("准贷记卡", "Semi-credit card");
pub const TYPE_PREPAID: Text = t("预付费卡", "Prepaid card");
