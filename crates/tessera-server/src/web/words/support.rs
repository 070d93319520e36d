//! The web wallet's words for its failed attempts, contacting support and
//! the person's tickets (`web/wallet/support.rs`).

use tessera_core::error::Text;

const fn t(zh: &'static str, en: &'static str) -> Text {
    Text { zh, en }
}

pub const SUP_MY_TICKETS: Text = t("我的客服工单", "My support requests");
pub const SUP_ATTEMPTS_INTRO: Text = t(
    "这里是最近 7 天没有成功的绑卡。每一条都写明发生了什么、该怎么做；需要帮助时可以直接联系客服。",
    "These are your attempts to add a card in the last 7 days that did not succeed. Each says what happened and what to do; if you need help, contact support from here.",
);
pub const SUP_NO_FAILED_ATTEMPTS: Text = t(
    "最近 7 天没有失败的绑卡。",
    "No attempt to add a card has failed in the last 7 days.",
);
pub const SUP_ATTEMPTS_SUMMARY: Text = t("总的来说：", "In short: ");
pub const SUP_WHAT_TO_DO: Text = t("怎么办：", "What to do: ");
pub const SUP_ATTEMPT_AT: Text = t("时间：", "When: ");
pub const SUP_ATTEMPT_CARD: Text = t("银行卡：", "Card: ");
pub const SUP_CARD_NUMBER_SHOWN: Text = t("卡号：", "Card number: ");
pub const SUP_CONTACT_SUPPORT: Text = t("联系客服", "Contact support");
pub const SUP_CONTACT_SUPPORT_ABOUT: Text = t(
    "联系客服：这次绑卡没有成功",
    "Contact support about this card",
);
pub const SUP_CONTACT_INTRO: Text = t(
    "客服会看到这次绑卡的记录、页面上显示的提示，以及你正在使用的设备：浏览器能提供的型号、系统和网络，还有钱包的版本。这些不用你再描述一遍。",
    "Support will see the record of this attempt, the message you were shown, and the device you are using: its model, system and network as far as your browser tells them, and the wallet's version. You do not have to describe them.",
);
pub const SUP_ERROR_SHOWN: Text = t("当时的提示", "The message you were shown");
pub const SUP_YOUR_WORDS: Text = t("想补充的话（可不填）", "Anything to add (optional)");
pub const SUP_YOUR_WORDS_HINT: Text = t(
    "请不要填写完整卡号、密码或验证码；客服不会向你索要这些。",
    "Do not write a full card number, password or code here: support never asks for them.",
);
pub const SUP_SEND_TO_SUPPORT: Text = t("提交给客服", "Send to support");
pub const SUP_DEFAULT_TICKET_WORDS: Text = t(
    "请帮我看看这次为什么没有成功。",
    "Please help me find out why this did not work.",
);
pub const SUP_ATTEMPT_GONE: Text = t(
    "找不到这次绑卡的记录：只能就最近的绑卡联系客服。请回到绑卡记录重新选择。",
    "This attempt could not be found: you can contact support about recent attempts only. Go back to your card adding history and choose again.",
);
pub const SUP_BACK_TO_ATTEMPTS: Text = t("返回绑卡记录", "Back to card adding history");
pub const SUP_TICKETS_INTRO: Text = t(
    "你联系客服的记录都在这里，客服的回复也会显示在这里。",
    "Every request you sent to support is here, and so are support's replies.",
);
pub const SUP_NO_TICKETS_YET: Text = t(
    "你还没有联系过客服。绑卡失败时，可以在绑卡记录里联系客服。",
    "You have not contacted support yet. If adding a card fails, you can contact support from your card adding history.",
);
pub const SUP_TICKET_OPENED: Text = t(
    "已提交给客服。客服的回复会显示在这个页面上。",
    "Sent to support. Their reply will appear on this page.",
);
pub const SUP_REPLY_SENT: Text = t("你的回复已发送。", "Your reply has been sent.");
pub const SUP_TICKET_STATUS: Text = t("状态：", "Status: ");
pub const SUP_TICKET_ABOUT: Text = t("关于：", "About: ");
pub const SUP_TICKET_OPENED_AT: Text = t("提交时间：", "Sent: ");
pub const SUP_TICKET_LAST_ACTIVITY: Text = t("最近更新：", "Last update: ");
pub const SUP_TICKET_REPLIES: Text = t("回复：", "Replies: ");
pub const SUP_TICKET_VIEW: Text = t("查看对话", "Open the conversation");
pub const SUP_CONVERSATION: Text = t("对话", "Conversation");
pub const SUP_CONVERSATION_ABOUT: Text = t("客服对话：", "Support conversation: ");
pub const SUP_COLON: Text = t("：", ": ");
pub const SUP_NO_REPLIES_YET: Text = t("客服还没有回复。", "Support has not replied yet.");
pub const SUP_FROM_YOU: Text = t("你", "You");
pub const SUP_FROM_SUPPORT: Text = t("客服", "Support");
pub const SUP_YOUR_REPLY: Text = t("回复客服", "Reply to support");
pub const SUP_YOUR_REPLY_WORDS: Text = t("你的回复", "Your reply");
pub const SUP_SEND_REPLY: Text = t("发送回复", "Send reply");
pub const SUP_TICKET_NOT_FOUND: Text = t(
    "找不到这条客服记录。",
    "This support request could not be found.",
);
pub const SUP_BACK_TO_TICKETS: Text = t("返回我的客服工单", "Back to my support requests");
pub const SUP_TICKET_REFERENCE: Text = t("编号：", "Reference: ");

pub const SUP_STATUS_OPEN: Text = t("等待客服回复", "Waiting for support");
pub const SUP_STATUS_WAITING_FOR_PERSON: Text =
    t("客服已回复，等你答复", "Support replied: your turn");
pub const SUP_STATUS_RESOLVED: Text = t("已解决", "Resolved");
pub const SUP_STATUS_OTHER: Text = t("处理中", "In progress");

pub const SUP_ABOUT_BINDING: Text = t("一次绑卡", "Adding a card");
pub const SUP_ABOUT_PAYMENT: Text = t("一笔支付", "A payment");
pub const SUP_ABOUT_TRANSFER: Text = t("一笔转账", "A transfer");
pub const SUP_ABOUT_PAYMENT_REPORT: Text = t("一笔不是你本人的支付", "A payment you did not make");
pub const SUP_ABOUT_WALLET_FREEZE: Text = t("冻结钱包", "Freezing the wallet");
pub const SUP_ABOUT_OTHER: Text = t("其他问题", "Something else");

pub const SUP_DEBIT_CARD: Text = t("借记卡", "debit card");
pub const SUP_CREDIT_CARD: Text = t("信用卡", "credit card");
