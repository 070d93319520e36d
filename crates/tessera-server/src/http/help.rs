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
            "是网络或发卡行不稳定，不是你的错：稍后再试即可。",
            "The network or the bank is unsteady, not you: trying again later helps.",
        ),
        Cause::System => t(
            "问题出在钱包或应用一侧，不是你的错：按下面说的办法处理即可。",
            "The fault lies with the wallet or the app, not with you: do as described below.",
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
    "仍然无法解决？绑卡失败的话，打开“绑卡记录”，在这次失败的记录上点“联系客服”：客服会直接看到这次的错误和卡号前6位、后4位，无需截图。其他情况联系客服时，请提供错误提示的原文，以及提示下方“联系客服时请提供编号”后面的编号。客服绝不会索要完整卡号、安全码、短信验证码或密码。",
    "Still stuck? If adding a card failed, open Card adding history and choose Contact support on the failed attempt: support sees the error and the first 6 and last 4 digits of the card at once, so no screenshot is needed. Otherwise, give support the exact error text and the reference shown under it. Support will never ask for your full card number, security code, SMS code or password.",
);

/// A heading and its rows, on an error page.
#[derive(Debug)]
struct Listing<T> {
    heading: &'static str,
    rows: Vec<T>,
}

/// The page of one error code, in the person's words: the code itself,
/// its HTTP status and the API's field names are on the developers' page.
#[derive(Debug, Template)]
#[template(path = "help/error.html")]
pub struct ErrorPage {
    chrome: Chrome,
    message: &'static str,
    cause_label: &'static str,
    cause: &'static str,
    retry: &'static str,
    what_it_means: &'static str,
    cause_sentence: &'static str,
    /// (heading, text): why it happens, what to do.
    sections: Vec<(&'static str, &'static str)>,
    /// The particular reasons of `card_not_supported` and the bank's
    /// reasons of `card_declined`: (what it is, what to do).
    reasons: Option<Listing<(&'static str, &'static str)>>,
    still_stuck: &'static str,
}

/// The page of one error code.
pub fn error_page(entry: &CatalogEntry, lang: Lang) -> ErrorPage {
    let code = entry.code.as_str();
    let reasons = match entry.code {
        ErrorCode::CardNotSupported => Some(Listing {
            heading: t("具体原因", "The particular reasons").get(lang),
            rows: REASONS
                .iter()
                .map(|reason| (reason_text(*reason).get(lang), ""))
                .collect(),
        }),
        ErrorCode::CardDeclined => Some(Listing {
            heading: t("银行说明的原因", "The reasons a bank gives").get(lang),
            rows: DeclineCode::all()
                .iter()
                .map(|decline| (decline.message().get(lang), decline.remedy().get(lang)))
                .collect(),
        }),
        _ => None,
    };
    ErrorPage {
        chrome: chrome(
            lang,
            entry.message.get(lang),
            &format!("/help/errors/{code}"),
        ),
        message: entry.message.get(lang),
        cause_label: t("原因类别：", "Cause: ").get(lang),
        cause: cause_words(entry.cause).get(lang),
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
            t("怎样注册和登录？", "How do I sign up and sign in?"),
            vec![para(
                "在登录页点“注册”，先填写本人的中国大陆手机号，收到短信验证码后填写验证码、真实姓名、身份证号码，并设置登录密码（至少8位，同时包含字母和数字）。钱包会核对姓名和身份证号码是否一致，一个身份证号码只能开通一个钱包。以后用手机号和登录密码登录。",
                "On the sign-in page choose Sign up. Enter your own mainland China mobile number; when the text-message code arrives, enter it with your full legal name and ID number, and choose a password of at least 8 characters with both letters and digits. The wallet checks that the name and the ID number belong together, and one ID number opens one wallet. From then on, sign in with your phone number and password.",
            )],
        ),
        (
            t("忘记登录密码怎么办？", "What if I forget my password?"),
            vec![para(
                "在登录页点“忘记密码”，输入注册时用的手机号，收到短信验证码后设置新密码。新密码设置好后，所有设备都会退出登录，请用新密码重新登录。登录时连续输错密码会暂时锁定这个手机号，页面会说明多久后解锁；重设密码后立即解锁。",
                "On the sign-in page choose Forgot password and enter the phone number you signed up with; when the text-message code arrives, choose a new password. Once it is set, every device is signed out: sign in again with the new password. Several wrong passwords in a row lock the phone number for a while, and the page says how long; resetting the password lifts the lock at once.",
            )],
        ),
        (
            t("怎样添加银行卡？", "How do I add a card?"),
            vec![para(
                "在“我的银行卡”里点“添加银行卡”，填写卡号、持卡人姓名和银行预留的手机号；信用卡还要填写有效期和卡背面的安全码。银行会向预留手机号发送短信验证码，输入验证码后这张卡就添加好了。验证码输错次数过多或过期时，这张卡不会添加成功，需要重新添加。",
                "Under My cards choose Add a card and enter the card number, the cardholder name and the phone number your bank has on file; a credit card also needs its expiry date and the security code on the back. The bank texts a code to that phone number, and once you enter it the card is added. If the code is entered wrongly too many times or expires, the card is not added and you add it again.",
            )],
        ),
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
                "在“我的银行卡”里打开要解绑的卡，点“解绑”，再输入支付密码确认；还没有设置支付密码的话，用发到手机上的短信验证码确认。解绑后这张卡在钱包中的支付凭证立即删除，不能再用于支付，加密保存的卡号也会销毁。以后需要时可以重新绑定同一张卡。",
                "Under My cards, open the card and choose Remove, then confirm with your payment password, or, if you have not set one, with the code texted to your phone. The card's payment token is deleted at once, so it can no longer pay, and its encrypted card number is destroyed. You can add the same card again later if you need it.",
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
                    "设置6位数字的支付密码，不要用生日、手机号后六位或123456这样容易猜到的数字；连续输错几次会暂时锁定，忘记时可以用短信验证码和身份证号码重设。还可以登记手机上的指纹或面容（通行密钥），确认支付、解绑等操作时代替支付密码。这些都在“支付安全”里设置。不要把短信验证码、支付密码告诉任何人，钱包工作人员也不会向你索要。定期查看交易记录，发现不是本人的操作，请立即联系客服。",
                    "Set a 6-digit payment password that is not your birthday, the end of your phone number or something like 123456; a few wrong entries in a row lock it for a while, and if you forget it you can reset it with a text-message code and your ID number. You can also register your phone's fingerprint or face (a passkey) to confirm payments, card removals and the like in place of the payment password. All of this is under Payment security. Never tell anyone an SMS code or your payment password; wallet staff will never ask for them. Look through your transaction records now and then, and if you see something you did not do, contact support at once.",
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
                    "单笔不超过“单笔额度”、当天累计不超过“每日额度”的支付，不需要再次确认。超过时需要确认：用手机付款时，在手机上验证指纹、面容或锁屏密码；在应用或网页里付款时，输入支付密码，没有设置支付密码的用短信验证码。默认单笔300元、每日1000元。你可以随时在“支付安全”里调低，也可以设为0，每笔都确认；调高需要先验证身份。",
                    "A payment up to your per-payment limit, while the day's total stays within your daily limit, needs no extra confirmation. Above either, you confirm it: with your fingerprint, face or passcode on the phone when you pay with the phone, or with your payment password (a text-message code if you have not set one) when you pay in an app or on the web. The defaults are 300 yuan a payment and 1,000 yuan a day. You can lower them under Payment security at any time, even to 0 so that every payment is confirmed; raising them takes a confirmation first.",
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
                "在“交易记录”里打开这笔支付，举报不是本人支付：付款用的卡会立即暂停支付，客服会看到你的举报和这笔支付的详情。如果担心整个账户，比如手机丢了，可以在“支付安全”里冻结钱包：所有卡都暂停支付，直到你用支付密码或短信验证码解冻。同时请致电发卡行挂失这张卡。",
                "Open the payment under Transactions and report that you did not make it: the card it was paid with is paused at once, and support sees your report with the payment's details. If you worry about the whole account, say your phone was lost, freeze the wallet under Payment security: every card is paused until you unfreeze it with your payment password or a text-message code. Also call your bank to block the card.",
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
                    "网络或系统：网络不稳定、银行系统故障或钱包维护。钱包会告诉你是不是你的问题，以及何时可以再试。每次绑卡的经过都可以在“绑卡记录”里查看。",
                    "Network or system: an unstable network, a bank that is failing, or wallet maintenance. The wallet tells you whether it is your problem and when to try again. Every attempt to add a card is listed under Card adding history.",
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
                "每条错误提示下方都有一个编号（“联系客服时请提供编号”）。绑卡失败的话，打开“绑卡记录”，在这次失败的记录上点“联系客服”，客服会直接看到这次的错误和卡号前6位、后4位。其他情况联系客服时，请提供错误提示的原文和这个编号，以及你用的手机或电脑、浏览器。客服绝不会索要完整卡号、安全码、短信验证码或密码。",
                "Under every error message there is a reference for support. If adding a card failed, open Card adding history and choose Contact support on the failed attempt: support sees the error and the first 6 and last 4 digits of the card at once. Otherwise, give support the exact error text and that reference, and say which phone or computer and browser you use. Support will never ask for your full card number, security code, SMS code or password.",
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
    /// (cause, [(code, message)]): the code only makes the link.
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

/// One row of the developers' table of codes.
#[derive(Debug)]
struct CodeRow {
    code: &'static str,
    status: u16,
    error_type: &'static str,
    cause: &'static str,
    retryable: bool,
    message: &'static str,
}

/// The help center's page for integrators: what the people's pages leave
/// out (codes, HTTP statuses, the error body's fields, idempotency keys).
#[derive(Template)]
#[template(path = "help/developers.html")]
struct DevelopersPage {
    chrome: Chrome,
    heading: &'static str,
    intro: &'static str,
    /// (heading, paragraphs).
    sections: Vec<(&'static str, Vec<&'static str>)>,
    codes_heading: &'static str,
    /// Column headings: code, HTTP status, type, cause, retryable, message.
    columns: [&'static str; 6],
    yes: &'static str,
    no: &'static str,
    codes: Vec<CodeRow>,
    reasons_heading: &'static str,
    /// (reason, what it means).
    reasons: Vec<(&'static str, &'static str)>,
    declines_heading: &'static str,
    /// (decline_code, message).
    declines: Vec<(&'static str, &'static str)>,
}

/// `/help/developers`: codes, statuses and the error body, for the people
/// who build on the API.
pub fn developers_response(lang: Lang, remember: bool) -> Response {
    let heading = w::FOR_DEVELOPERS.get(lang);
    let page = DevelopersPage {
        chrome: chrome(lang, heading, "/help/developers"),
        heading,
        intro: t(
            "这一页写给用 Tessera 的 API 开发应用的人：错误代码、HTTP 状态码、错误应答的字段和幂等键。给用户看的说明在帮助中心的其他页面；每个错误代码都有一页用户说明，地址就是错误应答里的 doc_url，例如 /help/errors/card_declined。",
            "This page is for people building on the Tessera API: error codes, HTTP statuses, the fields of an error answer and idempotency keys. The help center's other pages speak to the people who use the wallet; each code has a page for them, at the doc_url of an error answer, such as /help/errors/card_declined.",
        )
        .get(lang),
        sections: vec![
            (
                t("错误应答", "Error answers").get(lang),
                vec![
                    t(
                        "每个错误都以 JSON 返回，内容在 error 对象中：code 是稳定的错误代码，程序据此分支；message 和 remedy 按请求的 Accept-Language（zh-CN 或 en）写给用户看，可以原样展示；cause 是原因类别（input、card_not_supported、network、system、account、security）；retryable 表示稍后用同一请求重试是否可能成功；trace_id 是这次请求的追踪编号，用户联系客服时提供它；doc_url 指向这个代码的用户说明页。",
                        "Every error comes back as JSON, in an error object: code is the stable error code to branch on; message and remedy are written for the person in the request's Accept-Language (zh-CN or en) and may be shown as they are; cause is the kind of cause (input, card_not_supported, network, system, account, security); retryable says whether the same request may succeed later; trace_id identifies the request, for support; doc_url leads to the code's page for people.",
                    )
                    .get(lang),
                    t(
                        "视错误而定，还可能带有：param（出错的字段）、reason（card_not_supported 的具体原因）、decline_code（银行的拒绝代码）、attempts_left、retry_after（秒，同时在 Retry-After 头中）、locked_until、limit、suspended_by、max_length、next_action、risk_reasons，以及相关记录的 payment_id、card_id、refund_id 或 transfer_id。",
                        "Depending on the error it may also carry param (the field at fault), reason (why a card is not supported), decline_code (the bank's reason), attempts_left, retry_after (seconds, also in the Retry-After header), locked_until, limit, suspended_by, max_length, next_action, risk_reasons, and the payment_id, card_id, refund_id or transfer_id of the record concerned.",
                    )
                    .get(lang),
                ],
            ),
            (
                t("幂等键", "Idempotency keys").get(lang),
                vec![
                    t(
                        "会改变卡片或资金的请求都接受 Idempotency-Key 头。用同一个键、同样的请求内容重试，得到的是第一次的应答，操作不会执行两次；第一次还在处理时，重试得到 request_in_progress。同一个键用于内容不同的请求，得到 idempotency_conflict，什么也不会执行：每个新操作请用新键。",
                        "Requests that change cards or money take an Idempotency-Key header. A retry with the same key and the same body gets the first answer, and nothing is done twice; while the first is still running, a retry gets request_in_progress. The same key with a different body gets idempotency_conflict, and nothing is done: use a new key for each new operation.",
                    )
                    .get(lang),
                ],
            ),
            (
                t("接口文档", "API reference").get(lang),
                vec![
                    t(
                        "完整的接口说明是 OpenAPI 文档，地址是 /openapi.json；它列出每个地址接受的方法、请求和应答的字段，以及每个地址可能返回的错误代码。",
                        "The full reference is the OpenAPI document at /openapi.json: every address with the methods it accepts, the fields of its requests and answers, and the error codes it may return.",
                    )
                    .get(lang),
                ],
            ),
        ],
        codes_heading: t("全部错误代码", "Every error code").get(lang),
        columns: [
            t("代码", "Code").get(lang),
            t("HTTP 状态码", "HTTP status").get(lang),
            t("类型（type）", "Type").get(lang),
            t("原因类别（cause）", "Cause").get(lang),
            t("可重试（retryable）", "Retryable").get(lang),
            t("给用户的提示", "Message for people").get(lang),
        ],
        yes: t("是", "yes").get(lang),
        no: t("否", "no").get(lang),
        codes: CATALOGUE
            .iter()
            .map(|entry| CodeRow {
                code: entry.code_str,
                status: entry.http_status,
                error_type: entry.error_type.as_str(),
                cause: entry.cause.as_str(),
                retryable: entry.retryable,
                message: entry.message.get(lang),
            })
            .collect(),
        reasons_heading: t(
            "card_not_supported 的 reason",
            "The reasons of card_not_supported",
        )
        .get(lang),
        reasons: REASONS
            .iter()
            .map(|reason| (reason.as_str(), reason_text(*reason).get(lang)))
            .collect(),
        declines_heading: t(
            "card_declined 的 decline_code",
            "The decline codes of card_declined",
        )
        .get(lang),
        declines: DeclineCode::all()
            .iter()
            .map(|decline| (decline.as_str(), decline.message().get(lang)))
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
