//! The help center: the FAQ and one page per error code, in zh-CN or en,
//! rendered with the templates in web/templates/help (escaped by askama).
//! Error pages are generated from the error catalogue (message, why it
//! happens, remedy), so a code cannot exist without its page. No page shows
//! card data.

use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;
use tessera_core::error::{
    CATALOGUE, CatalogEntry, Cause, DeclineCode, ErrorCode, Lang, NotSupportedReason, Text,
};

use crate::web::{self, Chrome, words as w};

const fn t(zh: &'static str, en: &'static str) -> Text {
    Text { zh, en }
}

/// A help page's layout: the help center's menu, not the console's.
fn chrome(lang: Lang, title: &str, path: &str) -> Chrome {
    let mut chrome = Chrome::new(lang, title, path);
    chrome.help = true;
    chrome
}

/// The cause of a code, in words.
pub fn cause_words(cause: Cause) -> Text {
    match cause {
        Cause::Input => t("输入有误", "Input mistake"),
        Cause::CardNotSupported => t("卡片不受支持", "Card not supported"),
        Cause::Network => t("网络或发卡行不稳定", "Unstable network or bank"),
        Cause::System => t("系统故障或维护", "System failure or maintenance"),
        Cause::Account => t("钱包账户规则", "A wallet account rule"),
        Cause::Security => t("安全保护", "Security protection"),
    }
}

/// What the cause means for the person, one sentence.
fn cause_sentence(cause: Cause) -> Text {
    match cause {
        Cause::Input => t(
            "这是输入的问题：改正后即可再试。",
            "This is an input problem: correct what was entered and try again.",
        ),
        Cause::CardNotSupported => t(
            "问题在卡片本身：换一张卡比重试更有用。",
            "The card itself is the obstacle: another card helps more than retrying.",
        ),
        Cause::Network => t(
            "是网络或发卡行不稳定，不是你的错：稍后重试即可，重试不会重复操作。",
            "The network or the bank is unsteady, not you: retrying later helps and never does anything twice.",
        ),
        Cause::System => t(
            "是系统故障或维护，不是你的错：稍后重试即可。",
            "The system is failing or in maintenance, not you: try again later.",
        ),
        Cause::Account => t(
            "是钱包账户的规则拦下了它：满足规则后即可继续。",
            "A wallet account rule stopped it: it goes on once the rule is met.",
        ),
        Cause::Security => t(
            "这是保护你账户的安全措施。",
            "This is a safety measure that protects your account.",
        ),
    }
}

const CAUSES: [Cause; 6] = [
    Cause::Input,
    Cause::CardNotSupported,
    Cause::Network,
    Cause::System,
    Cause::Account,
    Cause::Security,
];

fn reason_text(reason: NotSupportedReason) -> Text {
    match reason {
        NotSupportedReason::UnknownBin => t(
            "无法从卡号前几位识别发卡行：请核对卡号，或换一张主流银行的卡。",
            "The bank cannot be recognised from the first digits: check the number, or use a card from a major bank.",
        ),
        NotSupportedReason::Brand => t(
            "这个卡组织的卡暂不支持：请换一张其他卡组织（如银联）的卡。",
            "Cards of this brand are not accepted: use a card of another brand, such as UnionPay.",
        ),
        NotSupportedReason::CardType => t(
            "这类卡（例如预付费卡）暂不支持：请换一张本人名下的借记卡或信用卡。",
            "This kind of card (prepaid cards, for example) is not accepted: use a debit or credit card in your own name.",
        ),
        NotSupportedReason::Country => t(
            "暂不支持这个国家或地区发行的卡：请换一张中国大陆银行发行的卡。",
            "Cards issued in this country or region are not accepted: use a card from a bank in mainland China.",
        ),
        NotSupportedReason::Issuer => t(
            "这家银行的卡暂不支持，或这张卡是二类、三类账户：许多银行只允许一类账户绑定第三方支付，请向银行确认账户类别。",
            "Cards from this bank are not accepted, or the card is a Class II or III account: many banks let only Class I accounts bind to third-party payment, so ask the bank which class yours is.",
        ),
        NotSupportedReason::AccountClass => t(
            "银行说这张卡是二类或三类账户：只有一类账户的卡可以绑定。请换一张一类账户的借记卡（通常是在柜台开户时办的卡），或请银行把账户升级为一类账户。",
            "The bank says this card is a Class II or III account: only Class I accounts can be added. Use a Class I debit card (usually the one you got when you opened the account at a branch), or ask the bank to upgrade the account to Class I.",
        ),
    }
}

const REASONS: [NotSupportedReason; 6] = [
    NotSupportedReason::UnknownBin,
    NotSupportedReason::Brand,
    NotSupportedReason::CardType,
    NotSupportedReason::Country,
    NotSupportedReason::Issuer,
    NotSupportedReason::AccountClass,
];

const STILL_STUCK: Text = t(
    "仍然无法解决？每条错误提示都带有追踪编号。请在App中从这次失败的记录直接联系客服：工单会自动附上错误、卡号前6位和后4位，以及手机型号、系统版本、App版本和网络类型，无需截图。客服绝不会索要完整卡号、安全码、短信验证码或密码。",
    "Still stuck? Every error comes with a trace id. Contact support from the failed attempt in the app: the ticket carries the error, the first 6 and last 4 digits of the card, and your phone model, system version, app version and network, so no screenshot is needed. Support will never ask for your full card number, security code, SMS code or password.",
);

/// A heading and its rows, on an error page.
#[derive(Debug)]
struct Listing<T> {
    heading: &'static str,
    rows: Vec<T>,
}

#[derive(Debug)]
struct DeclineRow {
    code: &'static str,
    message: &'static str,
    remedy: &'static str,
}

#[derive(Debug, Template)]
#[template(path = "help/error.html")]
pub struct ErrorPage {
    chrome: Chrome,
    code: &'static str,
    message: &'static str,
    cause_label: &'static str,
    cause: &'static str,
    status: u16,
    retry: &'static str,
    what_it_means: &'static str,
    cause_sentence: &'static str,
    /// (heading, text): why it happens, what to do.
    sections: Vec<(&'static str, &'static str)>,
    /// The reasons of `card_not_supported`: (code, explanation).
    reasons: Option<Listing<(&'static str, &'static str)>>,
    /// The bank's decline codes of `card_declined`.
    declines: Option<Listing<DeclineRow>>,
    still_stuck: &'static str,
}

/// The page of one error code.
pub fn error_page(entry: &CatalogEntry, lang: Lang) -> ErrorPage {
    let code = entry.code.as_str();
    let reasons = (entry.code == ErrorCode::CardNotSupported).then(|| Listing {
        heading: t("具体原因（reason）", "The reasons (reason)").get(lang),
        rows: REASONS
            .iter()
            .map(|reason| (reason.as_str(), reason_text(*reason).get(lang)))
            .collect(),
    });
    let declines = (entry.code == ErrorCode::CardDeclined).then(|| Listing {
        heading: t(
            "银行的拒绝代码（decline_code）",
            "The bank's decline codes (decline_code)",
        )
        .get(lang),
        rows: DeclineCode::all()
            .iter()
            .map(|decline| DeclineRow {
                code: decline.as_str(),
                message: decline.message().get(lang),
                remedy: decline.remedy().get(lang),
            })
            .collect(),
    });
    ErrorPage {
        chrome: chrome(
            lang,
            entry.message.get(lang),
            &format!("/help/errors/{code}"),
        ),
        code,
        message: entry.message.get(lang),
        cause_label: t("原因类别：", "Cause: ").get(lang),
        cause: cause_words(entry.cause).get(lang),
        status: entry.http_status,
        retry: if entry.retryable {
            t("可以稍后重试", "Retrying later can help")
        } else {
            t("重试前需要先处理", "Fix it before retrying")
        }
        .get(lang),
        what_it_means: t("这是什么意思", "What it means").get(lang),
        cause_sentence: cause_sentence(entry.cause).get(lang),
        sections: vec![
            (
                t("为什么会出现", "Why it happens").get(lang),
                entry.why.get(lang),
            ),
            (t("怎么办", "What to do").get(lang), entry.remedy.get(lang)),
        ],
        reasons,
        declines,
        still_stuck: STILL_STUCK.get(lang),
    }
}

/// The rendered page of one error code.
pub fn error_response(entry: &CatalogEntry, lang: Lang, remember: bool) -> Response {
    web::page(StatusCode::OK, lang, &error_page(entry, lang), remember)
}

#[derive(Template)]
#[template(path = "help/unknown.html")]
struct UnknownCodePage {
    chrome: Chrome,
    heading: &'static str,
    text: &'static str,
}

/// The page for a code that does not exist: 404.
pub fn unknown_code_response(lang: Lang, remember: bool) -> Response {
    let heading = t("没有这个错误代码", "No such error code").get(lang);
    let page = UnknownCodePage {
        chrome: chrome(lang, heading, "/help"),
        heading,
        text: t(
            "请检查地址，或在帮助中心的错误代码列表中查找。",
            "Check the address, or find the code in the help center's list of error codes.",
        )
        .get(lang),
    };
    web::page(StatusCode::NOT_FOUND, lang, &page, remember)
}

/// The FAQ, in our own words.
fn faq(card_limit: u32, wallets_per_card: u32) -> Vec<(Text, Vec<String>, Vec<String>)> {
    let para = |zh: &str, en: &str| (zh.to_owned(), en.to_owned());
    let items: Vec<(Text, Vec<(String, String)>)> = vec![
        (
            t("可以绑定几张银行卡？", "How many cards can I add?"),
            vec![
                (
                    format!(
                        "每个钱包最多可以同时绑定{card_limit}张银行卡，正在等待短信验证的卡也算在内。已满时，先解绑一张不常用的卡即可添加新卡。"
                    ),
                    format!(
                        "A wallet holds up to {card_limit} cards at a time, and cards still waiting for their SMS code count too. When it is full, remove a card you no longer use and add the new one."
                    ),
                ),
                para(
                    "只能绑定本人名下的卡：持卡人姓名必须与钱包实名认证的姓名一致。同一张卡在一个钱包里只能绑定一次。",
                    "Only cards in your own name can be added: the cardholder name must match the real name verified on the wallet. A card can be in one wallet once.",
                ),
                (
                    format!(
                        "同一张银行卡最多同时绑定在{wallets_per_card}个钱包账户中。已满时，请先在其中一个钱包里解绑这张卡，名额就会空出来。"
                    ),
                    format!(
                        "One bank card can be in at most {wallets_per_card} wallet accounts at once. When it is, remove it from one of them and its place is free again."
                    ),
                ),
            ],
        ),
        (
            t("为什么要绑定几张卡？", "Why add several cards?"),
            vec![para(
                "不同的卡可以各有用途，例如日常消费用借记卡、大额购物用信用卡。你可以把最常用的卡设为默认卡，付款时也可以临时换一张。每张卡都有自己的支付凭证，一张卡挂失或解绑不影响其他卡。",
                "Different cards can serve different purposes, say a debit card for everyday spending and a credit card for large purchases. Make the one you use most the default card, and pick another at payment time when you like. Each card has its own payment token, so losing or removing one leaves the others working.",
            )],
        ),
        (
            t("怎样解绑一张卡？", "How do I remove a card?"),
            vec![para(
                "打开“我的-银行卡”，选择要解绑的卡，点击“解绑”，再输入支付密码确认；还没有设置支付密码的话，用发到手机上的短信验证码确认。解绑后这张卡在钱包中的支付凭证立即删除，不能再用于支付，加密保存的卡号也会销毁。以后需要时可以重新绑定同一张卡。",
                "Open Me > Cards, choose the card and tap Remove, then confirm with your payment password, or, if you have not set one, with the code texted to your phone. The card's payment token is deleted at once, so it can no longer pay, and its encrypted card number is destroyed. You can add the same card again later if you need it.",
            )],
        ),
        (
            t("绑卡收费吗？", "Does adding a card cost anything?"),
            vec![para(
                "绑卡、解绑都是免费的。部分转账或提现可能收取手续费，手续费会在你确认之前显示出来，不会事后扣收。",
                "Adding and removing cards is always free. Some transfers or withdrawals may carry a fee; it is shown before you confirm, never charged afterwards.",
            )],
        ),
        (
            t("怎样保障资金安全？", "How do I keep my money safe?"),
            vec![
                para(
                    "设置6位数字的支付密码，不要用生日、手机号后六位或123456这样容易猜到的数字；连续输错几次会暂时锁定，忘记时可以用短信验证码和身份证号码重设。还可以登记手机上的指纹或面容（通行密钥），确认支付、解绑等操作时代替支付密码。不要把短信验证码、支付密码告诉任何人，钱包工作人员也不会向你索要。定期查看交易记录，发现不是本人的操作，请立即联系客服。",
                    "Set a 6-digit payment password that is not your birthday, the end of your phone number or something like 123456; a few wrong entries in a row lock it for a while, and if you forget it you can reset it with a text-message code and your ID number. You can also register your phone's fingerprint or face (a passkey) to confirm payments, card removals and the like in place of the payment password. Never tell anyone an SMS code or your payment password; wallet staff will never ask for them. Look through your transaction records now and then, and if you see something you did not do, contact support at once.",
                ),
                para(
                    "钱包不会以可读形式保存你的完整卡号，也从不保存安全码。每笔支付都使用一次性的动态密码，即使支付凭证被盗也无法直接使用。",
                    "The wallet never keeps your full card number in readable form and never stores the security code. Every payment uses a one-time cryptogram, so a stolen payment token is of no use on its own.",
                ),
            ],
        ),
        (
            t("什么是免密支付额度？", "What is the no-confirmation limit?"),
            vec![
                para(
                    "单笔不超过“单笔额度”、当天累计不超过“每日额度”的支付，不需要再次确认。超过时需要确认：用手机付款时，在手机上验证指纹、面容或锁屏密码；在应用或网页里付款时，输入支付密码，没有设置支付密码的用短信验证码。默认单笔300元、每日1000元。你可以随时调低，也可以设为0，每笔都确认；调高需要先验证身份。",
                    "A payment up to your per-payment limit, while the day's total stays within your daily limit, needs no extra confirmation. Above either, you confirm it: with your fingerprint, face or passcode on the phone when you pay with the phone, or with your payment password (a text-message code if you have not set one) when you pay in an app or on the web. The defaults are 300 yuan a payment and 1,000 yuan a day. You can lower them at any time, even to 0 so that every payment is confirmed; raising them takes a confirmation first.",
                ),
                para(
                    "钱包还会检查每一笔支付：短时间内支付很多次、金额远高于平时、刚添加的卡、新手机上添加的卡、刚被拒绝过几次、刚重置过密码。出现这些情况时，钱包可能请你确认这笔支付，或者为了安全拦下它，并告诉你原因。",
                    "The wallet also looks at every payment: many payments in a short time, an amount far above your usual, a card added minutes ago or on a new phone, several declines just before, a password reset just before. Then it may ask you to confirm the payment, or stop it for your safety, and it tells you why.",
                ),
            ],
        ),
        (
            t(
                "发现不是本人的支付怎么办？",
                "What if I see a payment I did not make?",
            ),
            vec![para(
                "在这笔支付上选择“不是我付的”进行举报：付款用的卡会立即暂停支付，客服会看到你的举报和这笔支付的详情。如果担心整个账户，比如手机丢了，可以冻结钱包：所有卡都暂停支付，直到你用支付密码或短信验证码解冻。同时请致电发卡行挂失这张卡。",
                "Report it as not made by you: the card it was paid with is paused at once, and support sees your report with the payment's details. If you worry about the whole account, say your phone was lost, freeze the wallet: every card is paused until you unfreeze it with your payment password or a text-message code. Also call your bank to block the card.",
            )],
        ),
        (
            t(
                "绑卡失败最常见的原因",
                "Why adding a card fails, most common first",
            ),
            vec![
                para(
                    "手机号与银行预留的不一致：最常见的原因是开户时手机号登记错了一位、只改了短信提醒号码而没改预留号码，或单位统一办理的工资卡登记了同一个号码。请致电银行或到柜台更正；新号码通常约一天后生效。",
                    "The phone number differs from the one the bank keeps on file. Most often a digit was mistyped when the account was opened, only the SMS-alert number was changed, or an employer's payroll card carries one shared number. Call the bank or visit a branch to correct it; a new number usually takes about a day to work.",
                ),
                para(
                    "身份信息不一致：姓名与实名不符（信用卡还核对姓名拼音），或银行仍登记着旧的15位身份证号码，需要到银行柜台更新。",
                    "Identity does not match: the name differs from the real name (credit cards also check its pinyin), or the bank still holds an old 15-digit ID number, which is updated at a bank counter.",
                ),
                para(
                    "卡片状态或账户类别：卡片已挂失、冻结、注销，信用卡尚未激活或首张网申信用卡尚未面签；只有一类账户的卡可以绑定，二类、三类账户（常见于在网上或手机银行开的电子账户）会被拒绝，请换一张一类账户的借记卡，或请银行把账户升级为一类账户。",
                    "Card state or account class: the card is lost, frozen or closed, a credit card is not activated yet or a first online credit card has not been signed for in person; only cards of Class I accounts can be added, and Class II and III accounts (often accounts opened online or in a bank's app) are refused: use a Class I debit card, or ask the bank to upgrade the account to Class I.",
                ),
                para(
                    "尝试次数过多：每条短信验证码只能比对有限的几次，输错太多次后需要重新添加卡片获取新验证码；每张卡、每个账户在任意24小时内联系银行绑卡的次数有限，每个手机号在24小时内收到的验证码也有限。达到上限时，钱包会说明是哪一项限制，以及具体何时可以再试。",
                    "Too many attempts: each SMS code is compared only a few times, and after too many wrong ones the card must be added again for a new code; each card and each account may ask the bank to bind only so many times in any 24 hours, and each phone receives only so many codes in 24 hours. When a limit is reached, the wallet says which one and exactly when you can try again.",
                ),
                para(
                    "网络或系统：网络不稳定、银行系统故障或钱包维护。钱包会告诉你是不是你的问题，以及何时可以重试；重试不会重复绑卡。",
                    "Network or system: an unstable network, a bank that is failing, or wallet maintenance. The wallet tells you whether it is your problem and when to try again; retrying never adds a card twice.",
                ),
            ],
        ),
        (
            t(
                "支付被银行拒绝的常见原因",
                "Why a bank declines a payment, most common first",
            ),
            vec![
                para(
                    "超出快捷支付限额：银行给通过第三方付款（快捷支付）设的单笔和每日限额，通常比柜台和刷卡低。可以减少金额或分几笔支付，或在手机银行里调高快捷支付限额。",
                    "Over the quick payment limit: banks set a lower limit, per payment and per day, for payments through a third party (quick payments) than for a counter or a card reader. Pay less or in parts, or raise the quick payment limit in the bank's app.",
                ),
                para(
                    "没有开通网上支付：有些卡默认关闭网上支付（快捷支付）功能，需要在手机银行或网点开通后才能在钱包里付款。",
                    "Online payments are not turned on: some cards come with online (quick) payments turned off, and they must be turned on in the bank's app or at a branch before the card can pay from a wallet.",
                ),
                para(
                    "余额不足：借记卡里的钱不够，或信用卡的可用额度不够。存钱或还款后再付，或换一张卡。",
                    "Not enough money: the debit account does not hold enough, or the credit card has too little credit left. Pay after putting money in or making a repayment, or use another card.",
                ),
                para(
                    "已换新卡：银行给你换发了新卡（例如卡片到期或升级芯片卡），旧卡号不能再支付。钱包会记住这一点，之后不再向银行尝试，并在卡片列表里说明原因；请绑定新卡后用新卡支付。",
                    "The card was replaced: the bank issued you a new card (when the old one expired or was upgraded, say), and the old number can no longer pay. The wallet remembers this, stops asking the bank, and shows the reason in your list of cards; add the new card and pay with it.",
                ),
            ],
        ),
        (
            t("怎样联系客服？", "How do I contact support?"),
            vec![para(
                "每条错误提示都带有追踪编号。在App中从失败的记录直接联系客服，工单会自动附上错误信息、卡号前6位和后4位，以及手机型号、系统版本、App版本和网络类型。如果通过其他方式联系，请提供错误提示的原文、追踪编号和这些手机信息。客服绝不会索要完整卡号、安全码、短信验证码或密码。",
                "Every error message comes with a trace id. Contact support from the failed attempt in the app: the ticket carries the error, the first 6 and last 4 digits of the card, and your phone model, system version, app version and network. If you reach support another way, give the exact error text, the trace id and those phone details. Support will never ask for your full card number, security code, SMS code or password.",
            )],
        ),
    ];
    items
        .into_iter()
        .map(|(question, paragraphs)| {
            let (zh, en): (Vec<String>, Vec<String>) = paragraphs.into_iter().unzip();
            (question, zh, en)
        })
        .collect()
}

#[derive(Template)]
#[template(path = "help/index.html")]
struct IndexPage {
    chrome: Chrome,
    heading: &'static str,
    intro: &'static str,
    faq_heading: &'static str,
    /// (question, paragraphs).
    faq: Vec<(&'static str, Vec<String>)>,
    errors_heading: &'static str,
    /// (cause, [(code, message)]).
    causes: Vec<(&'static str, Vec<(&'static str, &'static str)>)>,
}

/// The help center's front page: the FAQ and every error code by cause.
pub fn index_response(
    lang: Lang,
    remember: bool,
    card_limit: u32,
    wallets_per_card: u32,
) -> Response {
    let heading = t("帮助中心", "Help center").get(lang);
    let page = IndexPage {
        chrome: chrome(lang, heading, "/help"),
        heading,
        intro: t(
            "绑卡、解绑、费用和资金安全的常见问题，以及每个错误提示的说明。",
            "Common questions about adding and removing cards, fees and keeping your money safe, and what every error message means.",
        )
        .get(lang),
        faq_heading: t("常见问题", "Common questions").get(lang),
        faq: faq(card_limit, wallets_per_card)
            .into_iter()
            .map(|(question, zh, en)| {
                let paragraphs = match lang {
                    Lang::ZhCn => zh,
                    Lang::En => en,
                };
                (question.get(lang), paragraphs)
            })
            .collect(),
        errors_heading: t("错误提示说明", "Error messages explained").get(lang),
        causes: CAUSES
            .iter()
            .map(|cause| {
                let entries: Vec<(&'static str, &'static str)> = CATALOGUE
                    .iter()
                    .filter(|e| e.cause == *cause)
                    .map(|e| (e.code.as_str(), e.message.get(lang)))
                    .collect();
                (cause_words(*cause).get(lang), entries)
            })
            .filter(|(_, entries)| !entries.is_empty())
            .collect(),
    };
    web::page(StatusCode::OK, lang, &page, remember)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn escape(text: &str) -> String {
        askama::filters::escape(text, askama::filters::Html)
            .map(|safe| safe.to_string())
            .unwrap_or_default()
    }

    #[test]
    fn every_code_page_holds_its_catalogue_texts() {
        for entry in &CATALOGUE {
            for lang in [Lang::ZhCn, Lang::En] {
                let html = error_page(entry, lang).render().unwrap();
                for text in [entry.message, entry.why, entry.remedy] {
                    assert!(html.contains(&escape(text.get(lang))), "{}", entry.code);
                }
                assert!(html.contains(&format!("lang=\"{}\"", lang.tag())));
            }
        }
    }

    #[test]
    fn the_english_pages_hold_no_chinese_but_the_language_switch() {
        let html = error_page(ErrorCode::CardDeclined.entry(), Lang::En)
            .render()
            .unwrap()
            .replace("中文", "");
        assert!(!html.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)));
    }
}
