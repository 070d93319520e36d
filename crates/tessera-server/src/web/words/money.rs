//! The web wallet's money pages: transaction records and their file,
//! reporting a payment, transfers, and the sandbox's demo shop.

use tessera_core::error::Text;

const fn t(zh: &'static str, en: &'static str) -> Text {
    Text { zh, en }
}

pub const RECORDS_FILTER: Text = t("筛选", "Filter");
pub const RECORDS_CARD: Text = t("银行卡", "Card");
pub const RECORDS_ANY_CARD: Text = t("全部银行卡", "Every card");
pub const RECORDS_KIND: Text = t("交易类型", "Type");
pub const RECORDS_ANY_KIND: Text = t("全部类型", "Every type");
pub const RECORDS_STATE: Text = t("交易状态", "Status");
pub const RECORDS_ANY_STATE: Text = t("全部状态", "Any status");
pub const RECORDS_FROM: Text = t("开始日期", "From");
pub const RECORDS_TO: Text = t("结束日期", "To");
pub const RECORDS_DATES_HINT: Text = t(
    "日期按钱包所在时区计算，包含开始和结束当天。",
    "Days are counted in the wallet's time zone, both ends included.",
);
pub const RECORDS_APPLY: Text = t("查看", "Show");
pub const RECORDS_CLEAR: Text = t("清除筛选", "Clear filters");
pub const RECORDS_NONE: Text = t("没有符合条件的交易记录。", "No transactions match.");
pub const RECORDS_MORE: Text = t("查看更多", "More");
pub const RECORDS_DOWNLOAD: Text = t(
    "下载交易明细（CSV 表格）",
    "Download these transactions (CSV spreadsheet)",
);
pub const RECORDS_DOWNLOAD_HINT: Text = t(
    "表格包含所有符合筛选条件的交易，最多一万条，可以用 Excel 或 WPS 打开。",
    "The spreadsheet holds every transaction that matches the filters (up to 10,000) and opens in Excel or Numbers.",
);
pub const RECORDS_FEE: Text = t("手续费：", "Fee: ");
pub const RECORDS_WHY_DECLINED: Text = t("未成功原因：", "Why it did not go through: ");
pub const RECORDS_NOT_ME: Text = t("这笔不是我付的", "I did not make this payment");

pub const KIND_PAYMENT: Text = t("付款", "Payment");
pub const KIND_DECLINE: Text = t("付款未成功", "Declined payment");
pub const KIND_REFUND: Text = t("退款", "Refund");
pub const KIND_TRANSFER: Text = t("转账", "Transfer");
pub const KIND_REPORT: Text = t("已举报的付款", "Reported payment");

pub const STATE_PENDING: Text = t("处理中", "Pending");
pub const STATE_APPROVED: Text = t("支付成功", "Paid");
pub const STATE_FAILED: Text = t("未完成（款项没有变动）", "Not completed (no money moved)");
pub const STATE_DECLINED: Text = t("被拒绝", "Declined");
pub const STATE_ACCEPTED: Text = t("退款成功", "Refunded");
pub const STATE_SETTLED: Text = t("转账成功", "Sent");
pub const STATE_REPORTED: Text = t("已举报", "Reported");

pub const REPORT_TITLE: Text = t("举报这笔付款", "Report this payment");
pub const REPORT_INTRO: Text = t(
    "如果这笔付款不是你本人或你授权的人付的，请举报。举报后：",
    "If neither you nor someone you allowed made this payment, report it. When you do:",
);
pub const REPORT_WILL_PAUSE: Text = t(
    "付这笔款的银行卡会立即暂停，暂停期间不能用它付款；",
    "The card it was paid with is paused at once: it cannot pay while paused.",
);
pub const REPORT_WILL_TELL: Text = t(
    "客服会收到一张附带这笔付款的工单，并在工单里回复你。",
    "Support gets a ticket with this payment attached and answers you on it.",
);
pub const REPORT_MESSAGE: Text = t(
    "补充说明（选填）",
    "Anything support should know (optional)",
);
pub const REPORT_MESSAGE_HINT: Text = t(
    "例如你最后一次自己用这张卡是什么时候。请不要填写完整卡号或密码。",
    "For example, when you last used this card yourself. Never write a full card number or a password here.",
);
pub const REPORT_SEND: Text = t("确认举报", "Report it");
pub const REPORT_CANCEL: Text = t("返回交易记录", "Back to transactions");
pub const REPORT_DONE: Text = t("已举报这笔付款", "The payment is reported");
pub const REPORT_CARD_PAUSED: Text = t(
    "付这笔款的银行卡已暂停使用。",
    "The card it was paid with is paused.",
);
pub const REPORT_NEXT: Text = t("接下来", "What happens next");
pub const REPORT_TICKET: Text = t("工单编号：", "Ticket: ");
pub const REPORT_WHEN: Text = t("举报时间：", "Reported: ");
pub const PAYMENT_AMOUNT: Text = t("金额：", "Amount: ");
pub const PAYMENT_MERCHANT: Text = t("商户：", "Merchant: ");
pub const PAYMENT_TIME: Text = t("时间：", "Time: ");
pub const PAYMENT_CARD: Text = t("银行卡：", "Card: ");

pub const TRANSFER_NEW: Text = t("转账到银行卡", "Send money to a bank card");
pub const TRANSFER_INTRO: Text = t(
    "从你绑定的银行卡转出。确认之前，会先显示手续费和合计扣款金额。",
    "The money leaves one of your cards. Before you confirm, you see the fee and the total taken from your card.",
);
pub const TRANSFER_FROM: Text = t("付款银行卡", "From your card");
pub const TRANSFER_TO_NUMBER: Text = t("收款卡号", "Recipient's card number");
pub const TRANSFER_TO_NAME: Text = t("收款人姓名", "Recipient's name");
pub const TRANSFER_AMOUNT: Text = t("转账金额（元）", "Amount (yuan)");
pub const TRANSFER_AMOUNT_HINT: Text = t(
    "例如 100 或 100.50，最多两位小数。",
    "Such as 100 or 100.50: at most two decimals.",
);
pub const TRANSFER_AMOUNT_INVALID: Text =
    t("金额格式不对", "The amount is not a valid amount of yuan");
pub const TRANSFER_AMOUNT_REMEDY: Text = t(
    "请填写大于 0 的金额，例如 100 或 100.50，最多两位小数。",
    "Enter an amount above 0, such as 100 or 100.50, with at most two decimals.",
);
pub const TRANSFER_NO_CARD: Text = t(
    "你还没有可以付款的银行卡，请先添加一张。",
    "You have no card that can pay yet. Add one first.",
);
pub const TRANSFER_SEE_FEE: Text = t("下一步：查看手续费", "Next: see the fee");
pub const TRANSFER_QUOTE: Text = t("确认转账", "Confirm the transfer");
pub const TRANSFER_TO: Text = t("收款卡：", "To card: ");
pub const TRANSFER_TO_HOLDER: Text = t("收款人：", "Recipient: ");
pub const TRANSFER_FROM_CARD: Text = t("付款卡：", "From card: ");
pub const TRANSFER_SUM: Text = t("转账金额：", "Amount: ");
pub const TRANSFER_FEE: Text = t("手续费：", "Fee: ");
pub const TRANSFER_TOTAL: Text = t("合计扣款：", "Total taken from your card: ");
pub const TRANSFER_SAME_BANK: Text = t(
    "收款卡和付款卡属于同一家银行，免手续费。",
    "Both cards are of the same bank: no fee.",
);
pub const TRANSFER_SEND: Text = t("确认转账", "Send the money");
pub const TRANSFER_CHANGE: Text = t("修改转账信息", "Change the details");
pub const TRANSFER_DONE: Text = t("转账结果", "Transfer");
pub const TRANSFER_STATE: Text = t("状态：", "Status: ");
pub const TRANSFER_WHEN: Text = t("时间：", "Time: ");
pub const TRANSFER_SETTLED_NOTE: Text = t(
    "转账成功，钱已转到收款卡。",
    "Done: the money has gone to the recipient's card.",
);
pub const TRANSFER_ANOTHER: Text = t("再转一笔", "Send another");
pub const TRANSFER_LIST: Text = t("转账记录", "Transfers");
pub const TRANSFER_NONE: Text = t("还没有转账记录。", "No transfers yet.");

pub const CHECKOUT_SHOP: Text = t("演示商店（沙箱）", "Demo shop (sandbox)");
pub const CHECKOUT_INTRO: Text = t(
    "这是沙箱里的演示商店：付款走钱包真实的流程，但不会动用真实的钱。",
    "This is the sandbox's demo shop: payments take the wallet's real steps, but no real money moves.",
);
pub const CHECKOUT_ORDER: Text = t("订单号：", "Order: ");
pub const CHECKOUT_ITEM: Text = t("演示商品", "Demo item");
pub const CHECKOUT_AMOUNT: Text = t("订单金额（元）", "Order amount (yuan)");
pub const CHECKOUT_PAY_WITH: Text = t("用 Tessera 钱包付款", "Pay with Tessera");
pub const CHECKOUT_CHOOSE: Text = t("选择付款银行卡", "Choose the card to pay with");
pub const CHECKOUT_PAY: Text = t("确认付款", "Pay");
pub const CHECKOUT_TO_PAY: Text = t("应付金额：", "To pay: ");
pub const CHECKOUT_MERCHANT: Text = t("Tessera 演示商店", "Tessera Demo Shop");
pub const CHECKOUT_PAID: Text = t("付款成功", "Paid");
pub const CHECKOUT_PAID_WITH: Text = t("付款银行卡：", "Paid with: ");
pub const CHECKOUT_SEE_RECORDS: Text = t("在交易记录中查看", "See it in your transactions");
pub const CHECKOUT_BACK: Text = t("回到演示商店", "Back to the demo shop");
pub const CHECKOUT_CONFIRM_NEEDED: Text = t(
    "这笔金额超过了你的免密额度，请先确认是你本人，然后再点“确认付款”。",
    "This amount is above your no-confirmation limit: confirm it is you, then press Pay again.",
);
pub const CHECKOUT_ALREADY: Text = t(
    "这个订单已经提交过付款。请在交易记录中查看结果，不要重复付款。",
    "This order was already submitted for payment. Check your transactions for the result before paying again.",
);
pub const CHECKOUT_NO_CARD: Text = t(
    "你还没有可以付款的银行卡，请先在钱包里添加一张。",
    "You have no card that can pay yet. Add one in the wallet first.",
);
