//! Every word of the support console, in zh-CN and en, from this one
//! catalogue (the way `tessera_core::error`'s catalogue keeps its texts).
//! Templates say `chrome.t(w::NAME)`; a word missing here fails the build.

use tessera_core::error::Text;

const fn t(zh: &'static str, en: &'static str) -> Text {
    Text { zh, en }
}

pub const CONSOLE: Text = t("客服工作台", "Support console");
pub const SKIP_TO_CONTENT: Text = t("跳到正文", "Skip to content");
pub const SWITCH_LANGUAGE: Text = t("English", "中文");
pub const MAIN_MENU: Text = t("主菜单", "Main menu");

pub const SIGN_IN: Text = t("登录", "Sign in");
pub const SIGN_IN_INTRO: Text = t(
    "请输入客服或操作员的 API 密钥。密钥只在这里输入一次，登录后由浏览器保存会话，不会出现在网址里。",
    "Enter a support or operator API key. You type it here once; after signing in the browser keeps a session, and the key never appears in a web address.",
);
pub const API_KEY: Text = t("API 密钥", "API key");
pub const API_KEY_HINT: Text = t("以 tsk_ 开头", "Starts with tsk_");
pub const SIGN_IN_REFUSED: Text = t(
    "无法登录：密钥不对、已被吊销，或者不是客服或操作员的密钥。",
    "Could not sign in: the key is wrong, has been revoked, or is not a support or operator key.",
);
pub const SESSION_ENDED: Text = t(
    "会话已结束（闲置太久、到期或密钥已被吊销），请重新登录。",
    "Your session has ended (idle too long, expired, or its key was revoked). Please sign in again.",
);
pub const SIGNED_OUT: Text = t("你已退出登录。", "You have signed out.");
pub const SIGN_OUT: Text = t("退出登录", "Sign out");
pub const SIGNED_IN_AS: Text = t("当前登录：", "Signed in as ");

pub const FIND_PERSON: Text = t("查找用户", "Find a person");
pub const PEOPLE: Text = t("用户", "People");
pub const TICKETS: Text = t("工单", "Tickets");
pub const HEALTH: Text = t("绑卡健康度", "Binding health");
pub const KEYS: Text = t("API 密钥", "API keys");
pub const MAINTENANCE: Text = t("维护窗口", "Maintenance");

pub const BY_PHONE: Text = t("手机号", "Phone number");
pub const BY_TRACE: Text = t("追踪编号（trace id）", "Trace id");
pub const BY_USER_ID: Text = t("用户编号", "User id");
pub const BY_NAME: Text = t("姓名", "Name");
pub const BY_ID_LAST4: Text = t("身份证号后四位", "Last four of the ID number");
pub const BY_CARD: Text = t(
    "卡号前六位和后四位",
    "Card's first six and last four digits",
);
pub const CARD_FIRST6: Text = t("卡号前六位", "Card's first six digits");
pub const CARD_LAST4: Text = t("卡号后四位", "Card's last four digits");
pub const SEARCH: Text = t("查找", "Search");
pub const SEARCH_HINT: Text = t(
    "每次只填一种方式。每次查找都会记入审计日志。",
    "Fill in one way at a time. Every search is recorded in the audit log.",
);
pub const NOBODY_FOUND: Text = t("没有找到符合条件的用户。", "Nobody matches this search.");
pub const FOUND: Text = t("查找结果", "Search results");

pub const PROFILE: Text = t("基本资料（已脱敏）", "Profile (masked)");
pub const PHONE: Text = t("手机号", "Phone");
pub const NAME: Text = t("姓名", "Name");
pub const ID_NUMBER: Text = t("身份证号", "ID number");
pub const SIGNED_UP: Text = t("注册时间", "Signed up");
pub const WALLET_FROZEN: Text = t("钱包已冻结", "Wallet frozen");
pub const WALLET_OPEN: Text = t("钱包正常", "Wallet in use");
pub const CARDS: Text = t("银行卡", "Cards");
pub const NO_CARDS: Text = t("没有银行卡。", "No cards.");
pub const TIMELINE: Text = t("时间线（最新在前）", "Timeline (newest first)");
pub const NOTHING_YET: Text = t("还没有任何记录。", "Nothing has happened yet.");
pub const OLDER: Text = t("更早的记录", "Older entries");
pub const ENTRY_TYPE: Text = t("记录类型", "Entry type");
pub const ANY_TYPE: Text = t("全部类型", "Every type");
pub const SINCE: Text = t(
    "起始时间（如 2h、7d，或 RFC 3339 时间）",
    "Since (such as 2h, 7d, or an RFC 3339 time)",
);
pub const NEWEST: Text = t("回到最新", "Back to the newest");
pub const VERDICT: Text = t("诊断结论", "Verdict");
pub const VERDICT_LABEL: Text = t("诊断结论：", "Verdict: ");
pub const FULL_DIAGNOSIS: Text = t("查看完整诊断", "Full diagnosis");
pub const OPEN_TICKET: Text = t("查看工单", "Open the ticket");

pub const DIAGNOSIS: Text = t("诊断", "Diagnosis");
pub const DIAGNOSIS_OF: Text = t("诊断：", "Diagnosis: ");
pub const STORY: Text = t("经过", "What happened");
pub const DEVICE: Text = t("设备", "Device");
pub const NEXT_STEP_PERSON: Text = t("建议用户下一步", "Next step for the person");
pub const NEXT_STEP_SUPPORT: Text = t("客服下一步", "Next step for support");
pub const EVIDENCE: Text = t("依据", "Evidence");
pub const INCIDENTS: Text = t("发卡行异常", "Issuer incidents");
pub const NO_INCIDENTS: Text = t("目前没有发卡行异常。", "No issuer incidents now.");
pub const ERROR_CODE: Text = t("错误代码", "Error code");
pub const CARD: Text = t("卡片", "Card");
pub const TIME: Text = t("时间", "Time");
pub const TRACE: Text = t("追踪编号", "Trace id");
pub const THE_PERSON: Text = t("查看这位用户", "See this person");

pub const STATUS: Text = t("状态", "Status");
pub const ANY_STATUS: Text = t("全部状态", "Any status");
pub const STATUS_OPEN: Text = t("待处理", "Open");
pub const STATUS_WAITING: Text = t("等待用户回复", "Waiting for the person");
pub const STATUS_RESOLVED: Text = t("已解决", "Resolved");
pub const OLDER_THAN: Text = t(
    "闲置超过（如 2h、1d）",
    "Idle for more than (such as 2h, 1d)",
);
pub const SHOW: Text = t("显示", "Show");
pub const NO_TICKETS: Text = t("没有符合条件的工单。", "No tickets match.");
pub const MORE_TICKETS: Text = t("下一页工单", "Next page of tickets");
pub const OPENED: Text = t("提交时间", "Opened");
pub const LAST_ACTIVITY: Text = t("最近活动", "Last activity");
pub const REPLIES: Text = t("回复数", "Replies");
pub const TICKET: Text = t("工单", "Ticket");
pub const CONVERSATION: Text = t("对话", "Conversation");
pub const FROM_PERSON: Text = t("用户", "The person");
pub const FROM_SUPPORT: Text = t("客服", "Support");
pub const INTERNAL_NOTE: Text = t(
    "内部备注（用户看不到）",
    "Internal note (the person never sees it)",
);
pub const INTERNAL_NOTE_LABEL: Text = t("内部备注：", "Internal note: ");
pub const STATUS_SET: Text = t("状态改为", "Status set to");
pub const REPLY: Text = t("回复用户", "Reply to the person");
pub const KEEP_STATUS: Text = t("保持当前状态", "Keep the current status");
pub const SEND: Text = t("提交", "Send");
pub const WRITTEN: Text = t("已保存。", "Saved.");

pub const WINDOW: Text = t("时间段", "Window");
pub const ISSUER: Text = t("发卡行", "Issuer");
pub const ATTEMPTS: Text = t("尝试次数", "Attempts");
pub const SUCCESS_RATE: Text = t("成功率", "Success rate");
pub const FAILED: Text = t("失败", "Failed");
pub const BREAKER: Text = t("熔断状态", "Breaker");
pub const OVERALL: Text = t("全部", "Overall");

pub const KEY_ID: Text = t("编号", "Id");
pub const ROLE_SUPPORT: Text = t("客服", "Support");
pub const ROLE_MERCHANT: Text = t("商户", "Merchant");
pub const ROLE_ISSUER: Text = t("发卡行", "Issuer");
pub const ROLE: Text = t("角色", "Role");
pub const HOLDER: Text = t("持有人", "Holder");
pub const LABEL: Text = t("备注名", "Label");
pub const SCOPE: Text = t(
    "范围（商户号或发卡行代码，用逗号分隔）",
    "Scope (merchant ids or issuer codes, separated by commas)",
);
pub const CREATED: Text = t("创建时间", "Created");
pub const REVOKED: Text = t("已吊销", "Revoked");
pub const LIVE: Text = t("有效", "Live");
pub const REVOKE: Text = t("吊销", "Revoke");
pub const CREATE_KEY: Text = t("新建密钥", "Create a key");
pub const NEW_KEY_ONCE: Text = t(
    "新密钥只显示这一次，请立即交给持有人妥善保存：",
    "The new key is shown only this once; hand it to its holder now:",
);
pub const SIGNING_SECRET_ONCE: Text = t(
    "事件签名密钥（同样只显示一次）：",
    "Event signing secret (also shown only once):",
);

pub const MAINTENANCE_ON: Text = t("维护中，截止：", "In maintenance until ");
pub const MAINTENANCE_OFF: Text = t("现在没有维护窗口。", "No maintenance window now.");
pub const MINUTES: Text = t("持续分钟数", "Minutes from now");
pub const MESSAGE_ZH: Text = t("中文提示", "Notice in Chinese");
pub const MESSAGE_EN: Text = t("英文提示", "Notice in English");
pub const START_MAINTENANCE: Text = t("开始维护", "Start maintenance");
pub const END_MAINTENANCE: Text = t("结束维护", "End maintenance");

pub const REFUSED_TITLE: Text = t("请求被拒绝", "Request refused");
pub const REFUSED_FORM: Text = t(
    "这个表单已过期，或者不是从本工作台提交的，所以没有做任何更改。请返回、刷新页面后再试。",
    "This form has expired or did not come from this console, so nothing was changed. Go back, reload the page and try again.",
);
pub const NOT_YOURS: Text = t(
    "这一页只有操作员可以使用。",
    "Only operators can use this page.",
);
pub const SOMETHING_WRONG: Text = t("出了点问题", "Something went wrong");
pub const GO_HOME: Text = t("回到工作台首页", "Back to the console");
pub const MASKED: Text = t("已脱敏", "masked");

pub const HELP_CENTER: Text = t("帮助中心", "Help center");
pub const ERROR_MESSAGES: Text = t("错误提示说明", "Error messages");

mod wallet;
pub use wallet::*;
mod support;
pub use support::*;
mod cards;
pub use cards::*;
mod safety;
pub use safety::*;
mod money;
pub use money::*;
mod help;
pub use help::*;
