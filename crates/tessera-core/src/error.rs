//! The error catalogue: every error Tessera answers with, defined once.
//! Each code carries its cause (one of the seed's four, or the wallet's own
//! rules), its HTTP status, whether a retry can help, and a message and a
//! remedy in zh-CN and en. The server maps a `DomainError` to HTTP in one place.

use std::borrow::Cow;
use std::fmt;

use chrono::{DateTime, Utc};

use crate::token::lifecycle::suspension_text;

/// The two languages every user-facing text comes in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Lang {
    #[default]
    ZhCn,
    En,
}

impl Lang {
    /// Picks the first supported language of an `Accept-Language` header, by
    /// quality; zh-CN when the header is absent or names neither language.
    pub fn from_accept_language(header: Option<&str>) -> Lang {
        let Some(header) = header else {
            return Lang::ZhCn;
        };
        let mut best: Option<(f32, Lang)> = None;
        for part in header.split(',') {
            let mut pieces = part.trim().split(';');
            let tag = pieces.next().unwrap_or("").trim().to_ascii_lowercase();
            let quality = pieces
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            let lang = if tag == "zh" || tag.starts_with("zh-") {
                Lang::ZhCn
            } else if tag == "en" || tag.starts_with("en-") {
                Lang::En
            } else {
                continue;
            };
            if best.is_none_or(|(q, _)| quality > q) {
                best = Some((quality, lang));
            }
        }
        best.map_or(Lang::ZhCn, |(_, lang)| lang)
    }

    /// Parses `zh`, `zh-CN`, `en`, `en-US` and the like.
    pub fn parse(tag: &str) -> Option<Lang> {
        let tag = tag.trim().to_ascii_lowercase();
        if tag == "zh" || tag.starts_with("zh-") || tag.starts_with("zh_") {
            Some(Lang::ZhCn)
        } else if tag == "en" || tag.starts_with("en-") || tag.starts_with("en_") {
            Some(Lang::En)
        } else {
            None
        }
    }

    pub fn tag(self) -> &'static str {
        match self {
            Lang::ZhCn => "zh-CN",
            Lang::En => "en",
        }
    }
}

/// Why a request failed, in the words of the seed's four causes plus the
/// wallet's own rules. Diagnosis groups failures by this.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Cause {
    Input,
    CardNotSupported,
    Network,
    System,
    Account,
    Security,
}

impl Cause {
    pub fn as_str(self) -> &'static str {
        match self {
            Cause::Input => "input",
            Cause::CardNotSupported => "card_not_supported",
            Cause::Network => "network",
            Cause::System => "system",
            Cause::Account => "account",
            Cause::Security => "security",
        }
    }
}

/// The broad family of an error, as API clients branch on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorType {
    CardError,
    InvalidRequestError,
    AuthenticationError,
    RateLimitError,
    IdempotencyError,
    ApiError,
}

impl ErrorType {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorType::CardError => "card_error",
            ErrorType::InvalidRequestError => "invalid_request_error",
            ErrorType::AuthenticationError => "authentication_error",
            ErrorType::RateLimitError => "rate_limit_error",
            ErrorType::IdempotencyError => "idempotency_error",
            ErrorType::ApiError => "api_error",
        }
    }
}

/// A text in both languages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Text {
    pub zh: &'static str,
    pub en: &'static str,
}

impl Text {
    pub fn get(&self, lang: Lang) -> &'static str {
        match lang {
            Lang::ZhCn => self.zh,
            Lang::En => self.en,
        }
    }
}

const fn t(zh: &'static str, en: &'static str) -> Text {
    Text { zh, en }
}

/// One row of the catalogue.
#[derive(Debug, Clone, Copy)]
pub struct CatalogEntry {
    pub code: ErrorCode,
    pub error_type: ErrorType,
    pub cause: Cause,
    pub http_status: u16,
    pub retryable: bool,
    /// What happened, in one sentence the person can read on a phone.
    pub message: Text,
    /// What the person can do about it.
    pub remedy: Text,
    /// Why it happens: the causes behind the code, for the help center's
    /// page on it (`/help/errors/{code}`).
    pub why: Text,
}

/// Every error code Tessera can answer with. The order matches `CATALOGUE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ErrorCode {
    InvalidNumber,
    IncorrectNumber,
    InvalidExpiryMonth,
    InvalidExpiryYear,
    ExpiredCard,
    InvalidCvc,
    IncorrectCvc,
    InvalidHolderName,
    NameMismatch,
    PhoneMismatch,
    CardNotSupported,
    CardDeclined,
    CardAlreadyBound,
    CardLimitReached,
    OtpRequired,
    OtpIncorrect,
    OtpExpired,
    TooManyAttempts,
    IssuerUnavailable,
    Maintenance,
    IdempotencyConflict,
    RequestInProgress,
    PaymentPasswordIncorrect,
    PaymentPasswordLocked,
    TokenSuspended,
    CardUnbound,
    TokenExpired,
    CryptogramInvalid,
    AtcReplayed,
    DomainMismatch,
    RiskDeclined,
    InternalError,
    InvalidRequest,
    Unauthenticated,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    PayloadTooLarge,
    RateLimited,
    DatabaseUnavailable,
    InvalidPhone,
    InvalidIdNumber,
    PhoneTaken,
    WeakPassword,
}

use Cause as C;
use ErrorCode as E;
use ErrorType as T;

/// The catalogue itself, one entry per code, in the enum's order.
pub static CATALOGUE: [CatalogEntry; 44] = [
    CatalogEntry {
        code: E::InvalidNumber,
        error_type: T::CardError,
        cause: C::Input,
        http_status: 422,
        retryable: false,
        message: t(
            "卡号格式不对:卡号应为12到19位数字",
            "That card number isn't valid: a card number has 12 to 19 digits",
        ),
        remedy: t(
            "请对照银行卡正面重新输入卡号,只输入数字(可以带空格)",
            "Type the number again from the front of the card, digits only (spaces are fine)",
        ),
        why: t(
            "银行卡号是12到19位数字;位数不对或含有字母、符号时就会出现这个提示,常见原因是漏输或多输了一位,或复制时带入了其他字符",
            "Bank card numbers have 12 to 19 digits; this appears when the length is wrong or letters or symbols are mixed in. Usually a digit was left out or typed twice, or other characters came along when the number was copied",
        ),
    },
    CatalogEntry {
        code: E::IncorrectNumber,
        error_type: T::CardError,
        cause: C::Input,
        http_status: 422,
        retryable: false,
        message: t(
            "卡号有误,请核对后重新输入",
            "The card number is incorrect: one or more digits are wrong",
        ),
        remedy: t(
            "卡号校验未通过,通常是某一位输错或两位顺序颠倒,请逐位核对",
            "The number failed its check digit; usually one digit is mistyped or two are swapped. Check it digit by digit",
        ),
        why: t(
            "卡号最后一位是由前面各位算出的校验位;只要有一位输错或相邻两位颠倒,校验就通不过。这项检查在联系银行之前完成",
            "The last digit of a card number is a check digit computed from the others, so one mistyped digit or two swapped neighbours make the check fail. This is checked before your bank is contacted",
        ),
    },
    CatalogEntry {
        code: E::InvalidExpiryMonth,
        error_type: T::CardError,
        cause: C::Input,
        http_status: 422,
        retryable: false,
        message: t("有效期的月份不对", "The expiry month isn't valid"),
        remedy: t(
            "请输入卡面上有效期的月份(01到12)",
            "Enter the month printed on the card, 01 to 12",
        ),
        why: t(
            "月份必须是01到12;常见原因是把年和月填反了",
            "The month must be 01 to 12; often the month and the year were entered the wrong way round",
        ),
    },
    CatalogEntry {
        code: E::InvalidExpiryYear,
        error_type: T::CardError,
        cause: C::Input,
        http_status: 422,
        retryable: false,
        message: t("有效期的年份不对", "The expiry year isn't valid"),
        remedy: t(
            "请输入卡面上有效期的年份(两位或四位,例如 28 或 2028)",
            "Enter the year printed on the card, two or four digits (for example 28 or 2028)",
        ),
        why: t(
            "年份无法识别,或不可能是卡面上的年份(早已过去或远在将来)",
            "The year could not be read, or cannot be the one printed on a card (long past or far in the future)",
        ),
    },
    CatalogEntry {
        code: E::ExpiredCard,
        error_type: T::CardError,
        cause: C::Input,
        http_status: 422,
        retryable: false,
        message: t("这张卡已过有效期", "This card has expired"),
        remedy: t(
            "请核对有效期;若卡确已过期,请联系发卡行换新卡后再绑定",
            "Check the expiry date; if the card really has expired, ask your bank for a new card and add that one",
        ),
        why: t(
            "输入的有效期已经过去(按钱包所在时区判断);可能是输错了,也可能银行已换发新卡而这张旧卡已到期",
            "The expiry date entered has passed (judged in the wallet's time zone): it may be a typo, or your bank has sent a new card and this one has run out",
        ),
    },
    CatalogEntry {
        code: E::InvalidCvc,
        error_type: T::CardError,
        cause: C::Input,
        http_status: 422,
        retryable: false,
        message: t("安全码格式不对", "The security code isn't valid"),
        remedy: t(
            "安全码是卡背面签名栏旁的3位数字(美国运通卡为卡正面的4位数字)",
            "The security code is the 3 digits next to the signature on the back (4 digits on the front for American Express)",
        ),
        why: t(
            "安全码应为3位数字(美国运通卡为4位);输入的位数不对或含有非数字字符",
            "The security code is 3 digits (4 for American Express); what was entered has the wrong length or other characters",
        ),
    },
    CatalogEntry {
        code: E::IncorrectCvc,
        error_type: T::CardError,
        cause: C::Input,
        http_status: 402,
        retryable: false,
        message: t(
            "发卡行提示安全码不正确",
            "Your bank says the security code is incorrect",
        ),
        remedy: t(
            "请核对卡背面的安全码后重试;多次输错可能导致银行暂时锁定此卡",
            "Check the security code on the back of the card and try again; repeated mistakes can make the bank lock the card for a while",
        ),
        why: t(
            "发卡行核对后认为安全码与卡片不符,通常是输错或看错了卡背面的数字",
            "Your bank compared the security code with its records and it did not match; usually it was mistyped or misread from the back of the card",
        ),
    },
    CatalogEntry {
        code: E::InvalidHolderName,
        error_type: T::CardError,
        cause: C::Input,
        http_status: 422,
        retryable: false,
        message: t("持卡人姓名格式不对", "The cardholder name isn't valid"),
        remedy: t(
            "请输入与银行预留一致的姓名:中文姓名或卡面上的拼音/英文姓名,不要包含数字或符号",
            "Enter the name your bank has on file: a Chinese name, or the Latin name printed on the card, without digits or symbols",
        ),
        why: t(
            "姓名为空、过长,或含有数字、符号等姓名中不会出现的字符",
            "The name is empty, too long, or contains digits or symbols that a name does not have",
        ),
    },
    CatalogEntry {
        code: E::NameMismatch,
        error_type: T::CardError,
        cause: C::Account,
        http_status: 422,
        retryable: false,
        message: t(
            "持卡人姓名与钱包实名信息不一致",
            "The cardholder name doesn't match the real name verified on this wallet",
        ),
        remedy: t(
            "只能绑定本人名下的银行卡;请检查姓名是否有错字,或使用本人的卡",
            "Only cards in your own name can be added: check the name for typos, or use a card in your own name",
        ),
        why: t(
            "钱包只能绑定本人的卡:持卡人姓名必须与注册时实名认证的姓名一致。常见原因是错别字、使用了他人的卡,或信用卡登记的拼音姓名与实名不一致",
            "A wallet may only hold its owner's cards: the cardholder name must match the real name verified at sign-up. Common causes are a typo, someone else's card, or a credit card whose pinyin name differs from the real name",
        ),
    },
    CatalogEntry {
        code: E::PhoneMismatch,
        error_type: T::CardError,
        cause: C::Account,
        http_status: 402,
        retryable: false,
        message: t(
            "手机号与银行预留手机号不一致",
            "The phone number doesn't match the one your bank has on file",
        ),
        remedy: t(
            "请填写开卡时在银行预留的手机号;若已换号,请致电银行或到柜台更新预留手机号,新号码通常约一天后生效",
            "Enter the phone number you gave the bank when you opened the account; if it has changed, call your bank or visit a branch to update it. A new number usually takes about a day to take effect",
        ),
        why: t(
            "银行绑卡时核对卡号、姓名、身份证号和预留手机号四项信息,其中手机号不一致最常见:开户时手机号登记错了一位、只改了短信提醒号码而没改预留号码、单位统一办理的工资卡登记了同一个号码,或新换的号码银行系统尚未更新",
            "Banks check four things when a card is added: the card number, the name, the ID number and the phone number they keep on file. The phone is the most common mismatch: a digit was mistyped when the account was opened, only the SMS-alert number was changed, a payroll card opened by an employer carries one shared number, or a new number has not reached the bank's systems yet",
        ),
    },
    CatalogEntry {
        code: E::CardNotSupported,
        error_type: T::CardError,
        cause: C::CardNotSupported,
        http_status: 422,
        retryable: false,
        message: t("暂不支持绑定这张卡", "This card can't be added"),
        remedy: t(
            "请换一张本人名下的借记卡或信用卡(一类账户)再试",
            "Try another debit or credit card in your own name (a Class I account)",
        ),
        why: t(
            "这张卡不在钱包的支持范围内:卡种(如预付费卡)、卡组织、发卡地区或发卡行不受支持,或无法识别卡号所属的银行。许多银行只允许一类账户绑定第三方支付,二类、三类账户会被拒绝",
            "The wallet's rules do not accept this card: its type (such as prepaid), brand, country or bank is not supported, or the bank that issued it cannot be recognised. Many banks let only Class I accounts bind to third-party payment, and Class II and III accounts are refused",
        ),
    },
    CatalogEntry {
        code: E::CardDeclined,
        error_type: T::CardError,
        cause: C::CardNotSupported,
        http_status: 402,
        retryable: false,
        message: t("发卡行拒绝了这张卡", "Your bank declined this card"),
        remedy: t(
            "请联系发卡行了解原因,或换一张卡",
            "Contact your bank to find out why, or use another card",
        ),
        why: t(
            "发卡行拒绝了这张卡:卡片可能已挂失、冻结或注销,被银行风控拦截,信用卡尚未激活(首张网申信用卡可能还需面签),或额度已用完",
            "Your bank refused the card: it may be reported lost, frozen or closed, stopped by the bank's fraud checks, a credit card not yet activated (a first credit card applied for online may still need to be signed for in person), or its credit line is used up",
        ),
    },
    CatalogEntry {
        code: E::CardAlreadyBound,
        error_type: T::CardError,
        cause: C::Account,
        http_status: 409,
        retryable: false,
        message: t(
            "这张卡已经绑定在你的钱包中",
            "This card is already in your wallet",
        ),
        remedy: t(
            "无需重复绑定,可在\"银行卡\"列表中直接使用",
            "There is no need to add it again: it is in your list of cards",
        ),
        why: t(
            "钱包中已有这张卡(也可能正在等待短信验证);同一张卡在一个钱包里只能绑定一次",
            "This card is already in the wallet (perhaps still waiting for its SMS code); a card can be in one wallet only once",
        ),
    },
    CatalogEntry {
        code: E::CardLimitReached,
        error_type: T::CardError,
        cause: C::Account,
        http_status: 422,
        retryable: false,
        message: t(
            "已达到可绑定银行卡的数量上限",
            "You have reached the maximum number of cards",
        ),
        remedy: t(
            "请先在\"我的-银行卡\"中解绑一张不常用的卡,再绑定新卡",
            "Remove a card you no longer use (Me > Cards > Remove), then add the new one",
        ),
        why: t(
            "每个钱包同时可绑定的银行卡数量有上限,正在等待短信验证的卡也计算在内",
            "A wallet holds a limited number of cards at once, and cards waiting for their SMS code count too",
        ),
    },
    CatalogEntry {
        code: E::OtpRequired,
        error_type: T::CardError,
        cause: C::Security,
        http_status: 409,
        retryable: false,
        message: t(
            "这张卡还需要短信验证",
            "This card still needs to be verified with a text message code",
        ),
        remedy: t(
            "请输入银行发送到预留手机号的6位验证码",
            "Enter the 6-digit code your bank sent to the phone number it has on file",
        ),
        why: t(
            "发卡行要求用短信验证码确认是本人操作;输入验证码之前这张卡还不能使用",
            "Your bank asked for an SMS code to confirm it is you; until the code is entered the card cannot be used",
        ),
    },
    CatalogEntry {
        code: E::OtpIncorrect,
        error_type: T::CardError,
        cause: C::Input,
        http_status: 422,
        retryable: false,
        message: t("验证码不正确", "The verification code is incorrect"),
        remedy: t(
            "请核对短信中的6位验证码后重新输入",
            "Check the 6-digit code in the text message and enter it again",
        ),
        why: t(
            "输入的验证码与银行发送的不一致,可能输错了,或用了较早一条短信里的验证码",
            "The code does not match the one the bank sent: it may be mistyped, or from an older message",
        ),
    },
    CatalogEntry {
        code: E::OtpExpired,
        error_type: T::CardError,
        cause: C::Input,
        http_status: 422,
        retryable: false,
        message: t("验证码已过期", "The verification code has expired"),
        remedy: t(
            "验证码5分钟内有效,请重新添加这张卡以获取新的验证码",
            "Codes are valid for 5 minutes: add the card again to get a new code",
        ),
        why: t(
            "验证码只在几分钟内有效,超时后需要重新获取",
            "Codes are valid for a few minutes only; after that a new one is needed",
        ),
    },
    CatalogEntry {
        code: E::TooManyAttempts,
        error_type: T::RateLimitError,
        cause: C::Security,
        http_status: 429,
        retryable: false,
        message: t(
            "尝试次数过多,已暂时停止验证",
            "Too many attempts: verification has been stopped for now",
        ),
        remedy: t(
            "为保护资金安全,请在24小时后再试,以免触发银行的风控",
            "To keep your money safe, wait 24 hours before trying again so that the bank's fraud checks are not triggered",
        ),
        why: t(
            "短时间内失败次数过多:为防止他人反复试探卡片信息,验证已暂停。银行和钱包都会限制每天的绑卡尝试次数",
            "Too many failures in a short time: verification is paused so that nobody can guess card details by trying again and again. Banks and wallets both limit binding attempts per day",
        ),
    },
    CatalogEntry {
        code: E::IssuerUnavailable,
        error_type: T::ApiError,
        cause: C::Network,
        http_status: 503,
        retryable: true,
        message: t("暂时无法连接发卡行", "Your bank can't be reached right now"),
        remedy: t(
            "这不是你的问题,银行系统暂时没有响应;请稍后重试,重试不会重复绑卡",
            "This is not your fault: the bank isn't answering. Try again in a little while; retrying never adds the card twice",
        ),
        why: t(
            "发卡行的系统没有在规定时间内应答或正在维护,也可能是网络不稳定。某家银行集中出现故障时,钱包会暂停向它发送请求,并告诉你何时可以重试",
            "The bank's systems did not answer in time or are under maintenance, or the network was unstable. When one bank keeps failing, the wallet stops sending it requests for a while and says when to try again",
        ),
    },
    CatalogEntry {
        code: E::Maintenance,
        error_type: T::ApiError,
        cause: C::System,
        http_status: 503,
        retryable: true,
        message: t(
            "系统维护中,暂停绑卡",
            "Adding cards is paused for maintenance",
        ),
        remedy: t(
            "请在维护结束后重试;已绑定的卡不受影响",
            "Try again after the maintenance window; cards already added are not affected",
        ),
        why: t(
            "运营方暂停了绑卡功能进行维护;已绑定的卡和支付不受影响",
            "The operator has paused adding cards for maintenance; cards already added and payments are not affected",
        ),
    },
    CatalogEntry {
        code: E::IdempotencyConflict,
        error_type: T::IdempotencyError,
        cause: C::Input,
        http_status: 409,
        retryable: false,
        message: t(
            "同一个幂等键被用于不同的请求",
            "This Idempotency-Key was already used for a different request",
        ),
        remedy: t(
            "每个新请求请使用新的幂等键;重试时请发送完全相同的请求内容",
            "Use a new Idempotency-Key for each new request, and send exactly the same body when retrying",
        ),
        why: t(
            "应用重试时使用了相同的幂等键,但请求内容与第一次不同;钱包不会猜测哪一个才是本意",
            "The app reused an Idempotency-Key with a different request body; the wallet refuses rather than guess which one was meant",
        ),
    },
    CatalogEntry {
        code: E::RequestInProgress,
        error_type: T::IdempotencyError,
        cause: C::Network,
        http_status: 409,
        retryable: true,
        message: t(
            "同样的请求正在处理中",
            "The same request is still being processed",
        ),
        remedy: t(
            "请稍等片刻再查看结果,不要重复提交",
            "Wait a moment and check the result instead of submitting again",
        ),
        why: t(
            "同一请求的第一次提交还在处理中,常见于网络不稳定时应用自动重试,或按钮被连续点击",
            "The first submission of the same request is still being processed, which is common when an app retries on an unstable network or a button is tapped twice",
        ),
    },
    CatalogEntry {
        code: E::PaymentPasswordIncorrect,
        error_type: T::AuthenticationError,
        cause: C::Security,
        http_status: 403,
        retryable: false,
        message: t("支付密码不正确", "The payment password is incorrect"),
        remedy: t(
            "请重新输入支付密码;多次输错将暂时锁定",
            "Enter your payment password again; too many mistakes lock it for a while",
        ),
        why: t(
            "输入的支付密码与设置的不一致",
            "The payment password entered does not match the one that was set",
        ),
    },
    CatalogEntry {
        code: E::PaymentPasswordLocked,
        error_type: T::AuthenticationError,
        cause: C::Security,
        http_status: 429,
        retryable: false,
        message: t("支付密码已被锁定", "Your payment password is locked"),
        remedy: t(
            "支付密码输错次数过多,请在锁定解除后再试,或通过身份验证重置支付密码",
            "It was entered wrongly too many times: try again once the lock ends, or reset it after verifying your identity",
        ),
        why: t(
            "支付密码连续输错次数过多,为防止他人猜测已被暂时锁定",
            "The payment password was entered wrongly too many times, so it is locked for a while to stop anyone guessing it",
        ),
    },
    CatalogEntry {
        code: E::TokenSuspended,
        error_type: T::CardError,
        cause: C::Security,
        http_status: 402,
        retryable: false,
        message: t("此卡已被暂停使用", "This card is suspended"),
        remedy: t(
            "请查看卡片详情中的暂停原因;由发卡行暂停的请联系发卡行,由你本人暂停的可在钱包中恢复",
            "See the card's details for who suspended it: if your bank did, contact your bank; if you did, resume it in the wallet",
        ),
        why: t(
            "这张卡在钱包中的支付凭证被暂停了,暂停方可能是发卡行(如挂失)、钱包的风控或你本人;所有暂停方都恢复后才能继续支付",
            "The card's payment token is suspended, by your bank (after a loss report, for example), by the wallet's risk checks or by you; it pays again only when every party that suspended it has resumed it",
        ),
    },
    CatalogEntry {
        code: E::CardUnbound,
        error_type: T::CardError,
        cause: C::Account,
        http_status: 402,
        retryable: false,
        message: t(
            "这张卡已解绑,不能再用于支付",
            "This card was removed from the wallet and can no longer pay",
        ),
        remedy: t(
            "如需继续使用,请重新绑定这张卡",
            "Add the card again if you want to keep using it",
        ),
        why: t(
            "这张卡已从钱包解绑:支付凭证已删除,加密保存的卡号也已销毁",
            "The card was removed from the wallet: its payment token was deleted and its encrypted card number destroyed",
        ),
    },
    CatalogEntry {
        code: E::TokenExpired,
        error_type: T::CardError,
        cause: C::Account,
        http_status: 402,
        retryable: false,
        message: t(
            "这张卡的支付凭证已过期",
            "This card's payment token has expired",
        ),
        remedy: t(
            "请在钱包中重新绑定这张卡;若银行已换发新卡,请绑定新卡",
            "Add the card to the wallet again; if your bank sent you a new card, add the new one",
        ),
        why: t(
            "钱包里的支付凭证有自己的有效期;卡片到期或银行换发新卡后,旧凭证不再可用",
            "A payment token has its own expiry; when the card expires or the bank replaces it, the old token stops working",
        ),
    },
    CatalogEntry {
        code: E::CryptogramInvalid,
        error_type: T::CardError,
        cause: C::Security,
        http_status: 402,
        retryable: false,
        message: t("支付校验未通过", "The payment could not be verified"),
        remedy: t(
            "请重新发起支付;若反复出现,请更新钱包应用后再试",
            "Start the payment again; if it keeps happening, update the wallet app and try again",
        ),
        why: t(
            "每笔支付都带有一次性的动态密码,这次校验没有通过,通常是应用版本过旧或设备上的支付密钥需要更新",
            "Every payment carries a one-time cryptogram and this one did not verify, usually because the app is out of date or the keys on the device need refreshing",
        ),
    },
    CatalogEntry {
        code: E::AtcReplayed,
        error_type: T::CardError,
        cause: C::Security,
        http_status: 402,
        retryable: false,
        message: t(
            "这笔支付的凭证已被使用过",
            "This payment's one-time code was already used",
        ),
        remedy: t(
            "每笔支付都需要新的凭证,请重新发起支付",
            "Every payment needs a fresh code: start the payment again",
        ),
        why: t(
            "每笔支付的动态密码只能使用一次;收到了已用过的密码,可能是重复提交,也可能是有人试图重放",
            "Each payment's one-time code can be used once; one that was already used arrived again, either a repeated submission or an attempt to replay it",
        ),
    },
    CatalogEntry {
        code: E::DomainMismatch,
        error_type: T::CardError,
        cause: C::Security,
        http_status: 402,
        retryable: false,
        message: t(
            "这张卡不能在此渠道或设备上支付",
            "This card can't pay through this channel or on this device",
        ),
        remedy: t(
            "请在绑定这张卡的设备和应用中支付",
            "Pay from the device and app where the card was added",
        ),
        why: t(
            "支付凭证只能在绑定它的设备、应用或商户中使用,这笔支付来自别处",
            "A payment token works only on the device, app or merchant it was issued for, and this payment came from somewhere else",
        ),
    },
    CatalogEntry {
        code: E::RiskDeclined,
        error_type: T::CardError,
        cause: C::Security,
        http_status: 402,
        retryable: false,
        message: t(
            "出于安全考虑,这笔支付未被允许",
            "This payment was stopped for your safety",
        ),
        remedy: t(
            "如确为本人操作,请稍后再试或联系客服核实",
            "If it was you, try again later or contact support to confirm",
        ),
        why: t(
            "钱包的风控规则认为这笔支付异常,例如金额、地点或频率与平时差别很大",
            "The wallet's risk rules found this payment unusual, for example in its amount, place or frequency",
        ),
    },
    CatalogEntry {
        code: E::InternalError,
        error_type: T::ApiError,
        cause: C::System,
        http_status: 500,
        retryable: true,
        message: t("系统出现异常", "Something went wrong on our side"),
        remedy: t(
            "请稍后重试;如仍失败,请联系客服并提供追踪编号",
            "Try again later; if it still fails, contact support with the trace id",
        ),
        why: t(
            "钱包自身出现了意外错误,与你输入的信息无关;追踪编号能帮助客服在日志中找到原因",
            "Something unexpected failed inside the wallet, unrelated to what you entered; the trace id lets support find it in the logs",
        ),
    },
    CatalogEntry {
        code: E::InvalidRequest,
        error_type: T::InvalidRequestError,
        cause: C::Input,
        http_status: 400,
        retryable: false,
        message: t("请求格式不正确", "The request is malformed"),
        remedy: t(
            "请检查请求的JSON格式和字段类型(见 param 指出的字段)",
            "Check the request's JSON and field types (see the field named in param)",
        ),
        why: t(
            "请求不是有效的JSON,或某个字段的类型不对,通常是应用或对接代码的问题",
            "The request is not valid JSON or a field has the wrong type, usually a problem in the app or the integration code",
        ),
    },
    CatalogEntry {
        code: E::Unauthenticated,
        error_type: T::AuthenticationError,
        cause: C::Security,
        http_status: 401,
        retryable: false,
        message: t("需要登录", "You need to sign in"),
        remedy: t("请重新登录后再试", "Sign in again and retry"),
        why: t(
            "请求没有携带有效的登录凭证,或登录已过期",
            "The request carried no valid sign-in, or the session has expired",
        ),
    },
    CatalogEntry {
        code: E::Forbidden,
        error_type: T::AuthenticationError,
        cause: C::Security,
        http_status: 403,
        retryable: false,
        message: t("没有权限进行此操作", "You are not allowed to do this"),
        remedy: t(
            "请使用具有相应权限的账号或密钥",
            "Use an account or key that has this permission",
        ),
        why: t(
            "当前账号或密钥没有执行这项操作的权限",
            "The account or key in use does not have this permission",
        ),
    },
    CatalogEntry {
        code: E::NotFound,
        error_type: T::InvalidRequestError,
        cause: C::Input,
        http_status: 404,
        retryable: false,
        message: t("找不到请求的内容", "Nothing was found at this address"),
        remedy: t("请检查地址和编号是否正确", "Check the address and the id"),
        why: t(
            "地址或编号不存在,或者属于其他用户",
            "The address or id does not exist, or belongs to someone else",
        ),
    },
    CatalogEntry {
        code: E::MethodNotAllowed,
        error_type: T::InvalidRequestError,
        cause: C::Input,
        http_status: 405,
        retryable: false,
        message: t(
            "此地址不支持该请求方法",
            "This address does not accept that method",
        ),
        remedy: t(
            "请查看接口文档 /openapi.json 中允许的方法",
            "See /openapi.json for the methods this address accepts",
        ),
        why: t(
            "这个地址存在,但不接受这种请求方法",
            "The address exists but does not accept this method",
        ),
    },
    CatalogEntry {
        code: E::PayloadTooLarge,
        error_type: T::InvalidRequestError,
        cause: C::Input,
        http_status: 413,
        retryable: false,
        message: t("请求内容过大", "The request body is too large"),
        remedy: t(
            "请只发送接口需要的字段",
            "Send only the fields the endpoint needs",
        ),
        why: t(
            "请求内容超过了服务允许的大小",
            "The request body is larger than the service accepts",
        ),
    },
    CatalogEntry {
        code: E::RateLimited,
        error_type: T::RateLimitError,
        cause: C::Security,
        http_status: 429,
        retryable: true,
        message: t("请求过于频繁", "Too many requests"),
        remedy: t("请稍等片刻再试", "Wait a moment and try again"),
        why: t(
            "短时间内请求过多,为保护服务暂时限制",
            "Too many requests arrived in a short time, so they are limited to protect the service",
        ),
    },
    CatalogEntry {
        code: E::DatabaseUnavailable,
        error_type: T::ApiError,
        cause: C::System,
        http_status: 503,
        retryable: true,
        message: t("服务暂时不可用", "The service is temporarily unavailable"),
        remedy: t(
            "这不是你的问题,请稍后重试;重试不会重复操作",
            "This is not your fault: try again shortly. Retrying never does anything twice",
        ),
        why: t(
            "钱包的数据库暂时无法访问,通常很快恢复;不会有任何操作被执行两次",
            "The wallet's database is briefly unreachable, usually only for moments; nothing is ever done twice",
        ),
    },
    CatalogEntry {
        code: E::InvalidPhone,
        error_type: T::InvalidRequestError,
        cause: C::Input,
        http_status: 422,
        retryable: false,
        message: t("手机号格式不对", "That phone number isn't valid"),
        remedy: t(
            "请输入11位中国大陆手机号,例如 13800138000",
            "Enter an 11-digit mainland China mobile number, for example 13800138000",
        ),
        why: t(
            "手机号需要是11位中国大陆手机号,非大陆号码暂不支持",
            "A phone number must be an 11-digit mainland China mobile number; other numbers are not supported yet",
        ),
    },
    CatalogEntry {
        code: E::InvalidIdNumber,
        error_type: T::InvalidRequestError,
        cause: C::Input,
        http_status: 422,
        retryable: false,
        message: t("身份证号码有误", "That ID number isn't valid"),
        remedy: t(
            "请输入18位居民身份证号码,最后一位可能是X;若银行仍登记旧的15位号码,请到银行柜台更新",
            "Enter the 18-character resident ID number (the last may be X); if your bank still has an old 15-digit number, update it at a branch",
        ),
        why: t(
            "身份证号码的位数、出生日期或最后一位校验码不对;目前只支持18位居民身份证",
            "The ID number has the wrong length, birth date or check character; only 18-character resident ID numbers are supported",
        ),
    },
    CatalogEntry {
        code: E::PhoneTaken,
        error_type: T::InvalidRequestError,
        cause: C::Account,
        http_status: 409,
        retryable: false,
        message: t("该手机号已注册", "This phone number is already registered"),
        remedy: t(
            "请直接登录;如忘记密码,请找回密码",
            "Sign in instead; if you forgot the password, reset it",
        ),
        why: t(
            "每个手机号只能注册一个钱包账号",
            "Each phone number can register one wallet account",
        ),
    },
    CatalogEntry {
        code: E::WeakPassword,
        error_type: T::InvalidRequestError,
        cause: C::Input,
        http_status: 422,
        retryable: false,
        message: t("密码强度不够", "That password is too weak"),
        remedy: t(
            "请使用至少8位、同时包含字母和数字的密码",
            "Use at least 8 characters with both letters and digits",
        ),
        why: t(
            "过短、只有字母或只有数字的密码容易被猜到",
            "Short passwords, or ones with only letters or only digits, are easy to guess",
        ),
    },
];

impl ErrorCode {
    /// Every code, in catalogue order.
    pub fn all() -> impl Iterator<Item = ErrorCode> {
        CATALOGUE.iter().map(|entry| entry.code)
    }

    pub fn entry(self) -> &'static CatalogEntry {
        // The catalogue is laid out in the enum's order; a unit test holds
        // that true, so indexing by discriminant is exact.
        &CATALOGUE[self as usize]
    }

    pub fn as_str(self) -> &'static str {
        match self {
            E::InvalidNumber => "invalid_number",
            E::IncorrectNumber => "incorrect_number",
            E::InvalidExpiryMonth => "invalid_expiry_month",
            E::InvalidExpiryYear => "invalid_expiry_year",
            E::ExpiredCard => "expired_card",
            E::InvalidCvc => "invalid_cvc",
            E::IncorrectCvc => "incorrect_cvc",
            E::InvalidHolderName => "invalid_holder_name",
            E::NameMismatch => "name_mismatch",
            E::PhoneMismatch => "phone_mismatch",
            E::CardNotSupported => "card_not_supported",
            E::CardDeclined => "card_declined",
            E::CardAlreadyBound => "card_already_bound",
            E::CardLimitReached => "card_limit_reached",
            E::OtpRequired => "otp_required",
            E::OtpIncorrect => "otp_incorrect",
            E::OtpExpired => "otp_expired",
            E::TooManyAttempts => "too_many_attempts",
            E::IssuerUnavailable => "issuer_unavailable",
            E::Maintenance => "maintenance",
            E::IdempotencyConflict => "idempotency_conflict",
            E::RequestInProgress => "request_in_progress",
            E::PaymentPasswordIncorrect => "payment_password_incorrect",
            E::PaymentPasswordLocked => "payment_password_locked",
            E::TokenSuspended => "token_suspended",
            E::CardUnbound => "card_unbound",
            E::TokenExpired => "token_expired",
            E::CryptogramInvalid => "cryptogram_invalid",
            E::AtcReplayed => "atc_replayed",
            E::DomainMismatch => "domain_mismatch",
            E::RiskDeclined => "risk_declined",
            E::InternalError => "internal_error",
            E::InvalidRequest => "invalid_request",
            E::Unauthenticated => "unauthenticated",
            E::Forbidden => "forbidden",
            E::NotFound => "not_found",
            E::MethodNotAllowed => "method_not_allowed",
            E::PayloadTooLarge => "payload_too_large",
            E::RateLimited => "rate_limited",
            E::DatabaseUnavailable => "database_unavailable",
            E::InvalidPhone => "invalid_phone",
            E::InvalidIdNumber => "invalid_id_number",
            E::PhoneTaken => "phone_taken",
            E::WeakPassword => "weak_password",
        }
    }

    pub fn parse(code: &str) -> Option<ErrorCode> {
        ErrorCode::all().find(|c| c.as_str() == code)
    }

    pub fn cause(self) -> Cause {
        self.entry().cause
    }

    pub fn http_status(self) -> u16 {
        self.entry().http_status
    }

    pub fn retryable(self) -> bool {
        self.entry().retryable
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a card is not supported, machine-readable (`reason` in the API).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NotSupportedReason {
    UnknownBin,
    Brand,
    CardType,
    Country,
    Issuer,
}

impl NotSupportedReason {
    pub fn as_str(self) -> &'static str {
        match self {
            NotSupportedReason::UnknownBin => "unknown_bin",
            NotSupportedReason::Brand => "brand",
            NotSupportedReason::CardType => "card_type",
            NotSupportedReason::Country => "country",
            NotSupportedReason::Issuer => "issuer",
        }
    }

    pub fn parse(reason: &str) -> Option<NotSupportedReason> {
        [
            NotSupportedReason::UnknownBin,
            NotSupportedReason::Brand,
            NotSupportedReason::CardType,
            NotSupportedReason::Country,
            NotSupportedReason::Issuer,
        ]
        .into_iter()
        .find(|r| r.as_str() == reason)
    }
}

/// A `card_not_supported` refusal: the reason and what it names (a brand, a
/// card type, a country or an issuer), so that the message can say it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotSupported {
    pub reason: NotSupportedReason,
    /// What was refused, as people say it in Chinese ("预付费卡", "工商银行").
    pub subject_zh: String,
    /// The same in English ("Prepaid cards", "ICBC").
    pub subject_en: String,
}

impl NotSupported {
    fn message(&self, lang: Lang) -> String {
        match (self.reason, lang) {
            (NotSupportedReason::UnknownBin, Lang::ZhCn) => {
                "无法识别这张卡的发卡行,暂不支持绑定".to_owned()
            }
            (NotSupportedReason::UnknownBin, Lang::En) => {
                "We don't recognise the bank that issued this card, so it can't be added".to_owned()
            }
            (NotSupportedReason::CardType | NotSupportedReason::Brand, Lang::ZhCn) => {
                format!("{}暂不支持绑定", self.subject_zh)
            }
            (NotSupportedReason::CardType | NotSupportedReason::Brand, Lang::En) => {
                format!("{} can't be added", self.subject_en)
            }
            (NotSupportedReason::Country, Lang::ZhCn) => {
                format!("暂不支持绑定{}发行的卡", self.subject_zh)
            }
            (NotSupportedReason::Country, Lang::En) => {
                format!("Cards issued in {} can't be added", self.subject_en)
            }
            (NotSupportedReason::Issuer, Lang::ZhCn) => {
                format!("{}的卡暂不支持绑定", self.subject_zh)
            }
            (NotSupportedReason::Issuer, Lang::En) => {
                format!("Cards from {} can't be added yet", self.subject_en)
            }
        }
    }
}

/// Why an issuer declined, machine-readable (`decline_code` in the API).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeclineCode {
    DoNotHonor,
    LostCard,
    StolenCard,
    InsufficientFunds,
    ExceedsLimit,
}

impl DeclineCode {
    pub fn all() -> [DeclineCode; 5] {
        [
            DeclineCode::DoNotHonor,
            DeclineCode::LostCard,
            DeclineCode::StolenCard,
            DeclineCode::InsufficientFunds,
            DeclineCode::ExceedsLimit,
        ]
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DeclineCode::DoNotHonor => "do_not_honor",
            DeclineCode::LostCard => "lost_card",
            DeclineCode::StolenCard => "stolen_card",
            DeclineCode::InsufficientFunds => "insufficient_funds",
            DeclineCode::ExceedsLimit => "exceeds_limit",
        }
    }

    pub fn parse(code: &str) -> Option<DeclineCode> {
        DeclineCode::all().into_iter().find(|c| c.as_str() == code)
    }

    pub fn message(self) -> Text {
        match self {
            DeclineCode::DoNotHonor => t(
                "发卡行拒绝了这张卡,未说明原因",
                "Your bank declined this card without giving a reason",
            ),
            DeclineCode::LostCard => t(
                "发卡行提示这张卡已挂失",
                "Your bank says this card was reported lost",
            ),
            DeclineCode::StolenCard => t(
                "发卡行提示这张卡已被报告被盗",
                "Your bank says this card was reported stolen",
            ),
            DeclineCode::InsufficientFunds => t("卡内余额不足", "The card has insufficient funds"),
            DeclineCode::ExceedsLimit => t(
                "超出这张卡的交易限额",
                "This payment exceeds the card's limit",
            ),
        }
    }

    pub fn remedy(self) -> Text {
        match self {
            DeclineCode::DoNotHonor => t(
                "卡片可能被冻结、未激活或被银行风控拦截,请致电发卡行确认卡片状态,或换一张卡",
                "The card may be frozen, not yet activated or blocked by the bank's fraud checks: call your bank to check the card, or use another card",
            ),
            DeclineCode::LostCard | DeclineCode::StolenCard => t(
                "请联系发卡行补办新卡后绑定新卡",
                "Contact your bank for a replacement card and add the new one",
            ),
            DeclineCode::InsufficientFunds => t(
                "请存入足够的资金,或换一张卡支付",
                "Add funds to the account, or pay with another card",
            ),
            DeclineCode::ExceedsLimit => t(
                "请减少金额,或联系发卡行调整限额,或换一张卡",
                "Lower the amount, ask your bank to raise the limit, or use another card",
            ),
        }
    }
}

/// An error from the domain, with the detail the API shows inside the error
/// object. It never holds a PAN, CVC, OTP, password or key: only codes,
/// field names and counters.
#[derive(Debug, Clone, PartialEq)]
pub struct DomainError {
    pub code: ErrorCode,
    /// The request field at fault, when one is.
    pub param: Option<Cow<'static, str>>,
    pub not_supported: Option<Box<NotSupported>>,
    pub decline_code: Option<DeclineCode>,
    pub attempts_left: Option<u32>,
    pub locked_until: Option<DateTime<Utc>>,
    /// Seconds; u32 keeps the error small (clippy's large-error bound).
    pub retry_after_secs: Option<u32>,
    /// Who suspended a token (issuer, wallet, cardholder, risk).
    pub suspended_by: Vec<String>,
    /// A text written by an operator (a maintenance notice), in both languages,
    /// shown in place of the catalogue's message.
    pub notice: Option<Box<(String, String)>>,
    /// The payment a decline was recorded as, so a merchant and support can
    /// find it (`pay_...`).
    pub payment_id: Option<Box<str>>,
}

impl DomainError {
    pub fn new(code: ErrorCode) -> Self {
        DomainError {
            code,
            param: None,
            not_supported: None,
            decline_code: None,
            attempts_left: None,
            locked_until: None,
            retry_after_secs: None,
            suspended_by: Vec::new(),
            notice: None,
            payment_id: None,
        }
    }

    pub fn with_param(mut self, param: impl Into<Cow<'static, str>>) -> Self {
        self.param = Some(param.into());
        self
    }

    pub fn not_supported(not_supported: NotSupported) -> Self {
        let mut error = DomainError::new(ErrorCode::CardNotSupported).with_param("number");
        error.not_supported = Some(Box::new(not_supported));
        error
    }

    pub fn declined(decline_code: DeclineCode) -> Self {
        let mut error = DomainError::new(ErrorCode::CardDeclined);
        error.decline_code = Some(decline_code);
        error
    }

    pub fn with_attempts_left(mut self, attempts_left: u32) -> Self {
        self.attempts_left = Some(attempts_left);
        self
    }

    pub fn with_locked_until(mut self, locked_until: DateTime<Utc>) -> Self {
        self.locked_until = Some(locked_until);
        self
    }

    pub fn with_retry_after(mut self, seconds: u64) -> Self {
        self.retry_after_secs = Some(u32::try_from(seconds).unwrap_or(u32::MAX));
        self
    }

    pub fn with_notice(mut self, zh: impl Into<String>, en: impl Into<String>) -> Self {
        self.notice = Some(Box::new((zh.into(), en.into())));
        self
    }

    pub fn with_suspenders(mut self, suspended_by: Vec<String>) -> Self {
        self.suspended_by = suspended_by;
        self
    }

    pub fn with_payment_id(mut self, payment_id: impl Into<String>) -> Self {
        self.payment_id = Some(payment_id.into().into_boxed_str());
        self
    }

    pub fn entry(&self) -> &'static CatalogEntry {
        self.code.entry()
    }

    /// The message for this error, made specific where the detail allows.
    pub fn message(&self, lang: Lang) -> String {
        if let Some(notice) = &self.notice {
            let (zh, en) = notice.as_ref();
            let notice = match lang {
                Lang::ZhCn => zh,
                Lang::En => en,
            };
            if !notice.trim().is_empty() {
                return notice.clone();
            }
        }
        if let Some(not_supported) = &self.not_supported {
            return not_supported.message(lang);
        }
        if let Some(decline) = self.decline_code {
            return decline.message().get(lang).to_owned();
        }
        if let Some((message, _)) = suspension_text(&self.suspended_by, lang) {
            return message.to_owned();
        }
        let base = self.code.entry().message.get(lang);
        match (self.attempts_left, lang) {
            (Some(left), Lang::ZhCn) => format!("{base},还可尝试{left}次"),
            (Some(1), Lang::En) => format!("{base}: 1 attempt left"),
            (Some(left), Lang::En) => format!("{base}: {left} attempts left"),
            (None, _) => base.to_owned(),
        }
    }

    /// What the person can do, made specific where the detail allows.
    pub fn remedy(&self, lang: Lang) -> String {
        if let Some(decline) = self.decline_code {
            return decline.remedy().get(lang).to_owned();
        }
        if let Some((_, remedy)) = suspension_text(&self.suspended_by, lang) {
            return remedy.to_owned();
        }
        self.code.entry().remedy.get(lang).to_owned()
    }
}

impl From<ErrorCode> for DomainError {
    fn from(code: ErrorCode) -> Self {
        DomainError::new(code)
    }
}

impl fmt::Display for DomainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message(Lang::En))?;
        if let Some(param) = &self.param {
            write!(f, " (param {param})")?;
        }
        Ok(())
    }
}

impl std::error::Error for DomainError {}

#[cfg(test)]
mod tests {
    use super::*;

    fn has_han(text: &str) -> bool {
        text.chars().any(|c| {
            ('\u{4e00}'..='\u{9fff}').contains(&c) || ('\u{3400}'..='\u{4dbf}').contains(&c)
        })
    }

    #[test]
    fn catalogue_is_in_enum_order_and_complete() {
        for (index, entry) in CATALOGUE.iter().enumerate() {
            assert_eq!(entry.code as usize, index, "{} is out of order", entry.code);
        }
        let mut codes: Vec<&str> = ErrorCode::all().map(ErrorCode::as_str).collect();
        let count = codes.len();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), count, "two codes share a name");
    }

    #[test]
    fn every_code_has_both_languages_and_a_remedy() {
        for entry in &CATALOGUE {
            for text in [entry.message, entry.remedy, entry.why] {
                assert!(!text.zh.trim().is_empty(), "{} lacks zh", entry.code);
                assert!(!text.en.trim().is_empty(), "{} lacks en", entry.code);
                assert!(
                    has_han(text.zh),
                    "{} zh text has no Chinese: {}",
                    entry.code,
                    text.zh
                );
                assert!(
                    !has_han(text.en),
                    "{} en text has Chinese: {}",
                    entry.code,
                    text.en
                );
                assert!(
                    !text.en.contains('，') && !text.en.contains('：'),
                    "{} en text has full-width punctuation",
                    entry.code
                );
            }
        }
        for decline in DeclineCode::all() {
            for text in [decline.message(), decline.remedy()] {
                assert!(
                    has_han(text.zh) && !has_han(text.en),
                    "{}",
                    decline.as_str()
                );
            }
        }
    }

    #[test]
    fn every_code_says_why_it_happens_in_its_own_words() {
        for entry in &CATALOGUE {
            let why = entry.why;
            for lang in [Lang::ZhCn, Lang::En] {
                let text = why.get(lang);
                assert_ne!(
                    text,
                    entry.message.get(lang),
                    "{} why = message",
                    entry.code
                );
                assert_ne!(text, entry.remedy.get(lang), "{} why = remedy", entry.code);
            }
            assert!(
                why.zh.chars().count() >= 10,
                "{} zh why is thin",
                entry.code
            );
            assert!(
                why.en.split(' ').count() >= 8,
                "{} en why is thin",
                entry.code
            );
        }
    }

    #[test]
    fn codes_round_trip_through_their_names() {
        for code in ErrorCode::all() {
            assert_eq!(ErrorCode::parse(code.as_str()), Some(code));
        }
        assert_eq!(ErrorCode::parse("no_such_code"), None);
    }

    #[test]
    fn statuses_follow_the_design() {
        assert_eq!(ErrorCode::CardDeclined.http_status(), 402);
        assert_eq!(ErrorCode::CardAlreadyBound.http_status(), 409);
        assert_eq!(ErrorCode::InvalidRequest.http_status(), 400);
        assert_eq!(ErrorCode::Maintenance.http_status(), 503);
        assert!(ErrorCode::IssuerUnavailable.retryable());
        assert!(!ErrorCode::IncorrectNumber.retryable());
        for code in ErrorCode::all() {
            let status = code.http_status();
            assert!((400..600).contains(&status), "{code}: {status}");
        }
    }

    #[test]
    fn not_supported_message_names_the_reason() {
        let error = DomainError::not_supported(NotSupported {
            reason: NotSupportedReason::CardType,
            subject_zh: "预付费卡".into(),
            subject_en: "Prepaid cards".into(),
        });
        assert_eq!(error.message(Lang::ZhCn), "预付费卡暂不支持绑定");
        assert_eq!(error.message(Lang::En), "Prepaid cards can't be added");
        assert_eq!(error.param.as_deref(), Some("number"));
    }

    #[test]
    fn attempts_left_is_spoken() {
        let error = DomainError::new(ErrorCode::OtpIncorrect).with_attempts_left(2);
        assert!(error.message(Lang::ZhCn).contains("还可尝试2次"));
        assert!(error.message(Lang::En).ends_with("2 attempts left"));
    }

    #[test]
    fn accept_language_picks_by_quality() {
        assert_eq!(Lang::from_accept_language(None), Lang::ZhCn);
        assert_eq!(Lang::from_accept_language(Some("en-US,en;q=0.9")), Lang::En);
        assert_eq!(
            Lang::from_accept_language(Some("fr, en;q=0.5, zh-CN;q=0.8")),
            Lang::ZhCn
        );
        assert_eq!(Lang::from_accept_language(Some("de")), Lang::ZhCn);
    }
}
