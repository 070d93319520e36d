//! The catalogue's rows for card input and binding: from `invalid_number` to
//! `maintenance`.

use crate::error::lang::t;
use crate::error::{CatalogEntry, Cause as C, ErrorCode as E, ErrorType as T};

pub(super) const ROWS: [CatalogEntry; 20] = [
    CatalogEntry {
        code: E::InvalidNumber,
        code_str: "invalid_number",
        error_type: T::CardError,
        cause: C::Input,
        http_status: 422,
        retryable: false,
        message: t(
            "卡号格式不对：卡号应为12到19位数字",
            "That card number isn't valid: a card number has 12 to 19 digits",
        ),
        remedy: t(
            "请对照银行卡正面重新输入卡号，只输入数字（可以带空格）",
            "Type the number again from the front of the card, digits only (spaces are fine)",
        ),
        why: t(
            "银行卡号是12到19位数字；位数不对或含有字母、符号时就会出现这个提示，常见原因是漏输或多输了一位，或复制时带入了其他字符",
            "Bank card numbers have 12 to 19 digits; this appears when the length is wrong or letters or symbols are mixed in. Usually a digit was left out or typed twice, or other characters came along when the number was copied",
        ),
    },
    CatalogEntry {
        code: E::IncorrectNumber,
        code_str: "incorrect_number",
        error_type: T::CardError,
        cause: C::Input,
        http_status: 422,
        retryable: false,
        message: t(
            "卡号有误，请核对后重新输入",
            "The card number is incorrect: one or more digits are wrong",
        ),
        remedy: t(
            "卡号校验未通过，通常是某一位输错或两位顺序颠倒，请逐位核对",
            "The number failed its check digit; usually one digit is mistyped or two are swapped. Check it digit by digit",
        ),
        why: t(
            "卡号最后一位是由前面各位算出的校验位；只要有一位输错或相邻两位颠倒，校验就通不过。这项检查在联系银行之前完成",
            "The last digit of a card number is a check digit computed from the others, so one mistyped digit or two swapped neighbours make the check fail. This is checked before your bank is contacted",
        ),
    },
    CatalogEntry {
        code: E::InvalidExpiryMonth,
        code_str: "invalid_expiry_month",
        error_type: T::CardError,
        cause: C::Input,
        http_status: 422,
        retryable: false,
        message: t("有效期的月份不对", "The expiry month isn't valid"),
        remedy: t(
            "请输入卡面上有效期的月份（01到12）",
            "Enter the month printed on the card, 01 to 12",
        ),
        why: t(
            "月份必须是01到12；常见原因是把年和月填反了",
            "The month must be 01 to 12; often the month and the year were entered the wrong way round",
        ),
    },
    CatalogEntry {
        code: E::InvalidExpiryYear,
        code_str: "invalid_expiry_year",
        error_type: T::CardError,
        cause: C::Input,
        http_status: 422,
        retryable: false,
        message: t("有效期的年份不对", "The expiry year isn't valid"),
        remedy: t(
            "请输入卡面上有效期的年份（两位或四位，例如 28 或 2028）",
            "Enter the year printed on the card, two or four digits (for example 28 or 2028)",
        ),
        why: t(
            "年份无法识别，或不可能是卡面上的年份（早已过去或远在将来）",
            "The year could not be read, or cannot be the one printed on a card (long past or far in the future)",
        ),
    },
    CatalogEntry {
        code: E::ExpiredCard,
        code_str: "expired_card",
        error_type: T::CardError,
        cause: C::Input,
        http_status: 422,
        retryable: false,
        message: t("这张卡已过有效期", "This card has expired"),
        remedy: t(
            "请核对有效期；若卡确已过期，请联系发卡行换新卡后再绑定",
            "Check the expiry date; if the card really has expired, ask your bank for a new card and add that one",
        ),
        why: t(
            "输入的有效期已经过去（按钱包所在时区判断）；可能是输错了，也可能银行已换发新卡而这张旧卡已到期",
            "The expiry date entered has passed (judged in the wallet's time zone): it may be a typo, or your bank has sent a new card and this one has run out",
        ),
    },
    CatalogEntry {
        code: E::InvalidCvc,
        code_str: "invalid_cvc",
        error_type: T::CardError,
        cause: C::Input,
        http_status: 422,
        retryable: false,
        message: t("安全码格式不对", "The security code isn't valid"),
        remedy: t(
            "安全码是卡背面签名栏旁的3位数字（美国运通卡为卡正面的4位数字）",
            "The security code is the 3 digits next to the signature on the back (4 digits on the front for American Express)",
        ),
        why: t(
            "安全码应为3位数字（美国运通卡为4位）；输入的位数不对或含有非数字字符",
            "The security code is 3 digits (4 for American Express); what was entered has the wrong length or other characters",
        ),
    },
    CatalogEntry {
        code: E::IncorrectCvc,
        code_str: "incorrect_cvc",
        error_type: T::CardError,
        cause: C::Input,
        http_status: 402,
        retryable: false,
        message: t(
            "发卡行提示安全码不正确",
            "Your bank says the security code is incorrect",
        ),
        remedy: t(
            "请核对卡背面的安全码后重试；多次输错可能导致银行暂时锁定此卡",
            "Check the security code on the back of the card and try again; repeated mistakes can make the bank lock the card for a while",
        ),
        why: t(
            "发卡行核对后认为安全码与卡片不符，通常是输错或看错了卡背面的数字",
            "Your bank compared the security code with its records and it did not match; usually it was mistyped or misread from the back of the card",
        ),
    },
    CatalogEntry {
        code: E::InvalidHolderName,
        code_str: "invalid_holder_name",
        error_type: T::CardError,
        cause: C::Input,
        http_status: 422,
        retryable: false,
        message: t("持卡人姓名格式不对", "The cardholder name isn't valid"),
        remedy: t(
            "请输入与银行预留一致的姓名：中文姓名或卡面上的拼音/英文姓名，不要包含数字或符号",
            "Enter the name your bank has on file: a Chinese name, or the Latin name printed on the card, without digits or symbols",
        ),
        why: t(
            "姓名为空、过长，或含有数字、符号等姓名中不会出现的字符",
            "The name is empty, too long, or contains digits or symbols that a name does not have",
        ),
    },
    CatalogEntry {
        code: E::NameMismatch,
        code_str: "name_mismatch",
        error_type: T::CardError,
        cause: C::Account,
        http_status: 422,
        retryable: false,
        message: t(
            "持卡人姓名与钱包实名信息不一致",
            "The cardholder name doesn't match the real name verified on this wallet",
        ),
        remedy: t(
            "只能绑定本人名下的银行卡；请检查姓名是否有错字，或使用本人的卡",
            "Only cards in your own name can be added: check the name for typos, or use a card in your own name",
        ),
        why: t(
            "钱包只能绑定本人的卡：持卡人姓名必须与注册时实名认证的姓名一致。常见原因是错别字、使用了他人的卡，或信用卡登记的拼音姓名与实名不一致",
            "A wallet may only hold its owner's cards: the cardholder name must match the real name verified at sign-up. Common causes are a typo, someone else's card, or a credit card whose pinyin name differs from the real name",
        ),
    },
    CatalogEntry {
        code: E::PhoneMismatch,
        code_str: "phone_mismatch",
        error_type: T::CardError,
        cause: C::Input,
        http_status: 402,
        retryable: false,
        message: t(
            "手机号与银行预留手机号不一致",
            "The phone number doesn't match the one your bank has on file",
        ),
        remedy: t(
            "请填写开卡时在银行预留的手机号；若已换号，请致电银行或到柜台更新预留手机号，新号码通常约一天后生效",
            "Enter the phone number you gave the bank when you opened the account; if it has changed, call your bank or visit a branch to update it. A new number usually takes about a day to take effect",
        ),
        why: t(
            "银行绑卡时核对卡号、姓名、身份证号和预留手机号四项信息，其中手机号不一致最常见：开户时手机号登记错了一位、只改了短信提醒号码而没改预留号码、单位统一办理的工资卡登记了同一个号码，或新换的号码银行系统尚未更新",
            "Banks check four things when a card is added: the card number, the name, the ID number and the phone number they keep on file. The phone is the most common mismatch: a digit was mistyped when the account was opened, only the SMS-alert number was changed, a payroll card opened by an employer carries one shared number, or a new number has not reached the bank's systems yet",
        ),
    },
    CatalogEntry {
        code: E::CardNotSupported,
        code_str: "card_not_supported",
        error_type: T::CardError,
        cause: C::CardNotSupported,
        http_status: 422,
        retryable: false,
        message: t("暂不支持绑定这张卡", "This card can't be added"),
        remedy: t(
            "请换一张本人名下的借记卡或信用卡（一类账户）再试",
            "Try another debit or credit card in your own name (a Class I account)",
        ),
        why: t(
            "这张卡不在钱包的支持范围内：卡种（如预付费卡）、卡组织、发卡地区或发卡行不受支持，或无法识别卡号所属的银行。许多银行只允许一类账户绑定第三方支付，二类、三类账户会被拒绝",
            "The wallet's rules do not accept this card: its type (such as prepaid), brand, country or bank is not supported, or the bank that issued it cannot be recognised. Many banks let only Class I accounts bind to third-party payment, and Class II and III accounts are refused",
        ),
    },
    CatalogEntry {
        code: E::CardDeclined,
        code_str: "card_declined",
        error_type: T::CardError,
        cause: C::CardNotSupported,
        http_status: 402,
        retryable: false,
        message: t("发卡行拒绝了这张卡", "Your bank declined this card"),
        remedy: t(
            "请联系发卡行了解原因，或换一张卡",
            "Contact your bank to find out why, or use another card",
        ),
        why: t(
            "发卡行拒绝了这张卡：卡片可能已挂失、冻结或注销，被银行风控拦截，信用卡尚未激活（首张网申信用卡可能还需面签），或额度已用完",
            "Your bank refused the card: it may be reported lost, frozen or closed, stopped by the bank's fraud checks, a credit card not yet activated (a first credit card applied for online may still need to be signed for in person), or its credit line is used up",
        ),
    },
    CatalogEntry {
        code: E::CardAlreadyBound,
        code_str: "card_already_bound",
        error_type: T::CardError,
        cause: C::Account,
        http_status: 409,
        retryable: false,
        message: t(
            "这张卡已经绑定在你的钱包中",
            "This card is already in your wallet",
        ),
        remedy: t(
            "无需重复添加，它就在“我的银行卡”里。",
            "There is no need to add it again: it is under My cards.",
        ),
        why: t(
            "钱包中已有这张卡，而且已经添加完成；同一张卡在一个钱包里只能绑定一次。还在等待短信验证码的卡不会出现这个提示，而是提示你输入验证码。",
            "This card is already in the wallet and fully added; a card can be in one wallet only once. A card still waiting for its text-message code gets no such answer: you are asked for the code instead.",
        ),
    },
    CatalogEntry {
        code: E::CardLimitReached,
        code_str: "card_limit_reached",
        error_type: T::CardError,
        cause: C::Account,
        http_status: 422,
        retryable: false,
        message: t(
            "已达到可绑定银行卡的数量上限",
            "You have reached the maximum number of cards",
        ),
        remedy: t(
            "请先在“我的银行卡”中打开一张不常用的卡，点“解绑”，再添加新卡",
            "Open a card you no longer use under My cards and remove it, then add the new one",
        ),
        why: t(
            "每个钱包同时可绑定的银行卡数量有上限，正在等待短信验证的卡也计算在内",
            "A wallet holds a limited number of cards at once, and cards waiting for their SMS code count too",
        ),
    },
    CatalogEntry {
        code: E::OtpRequired,
        code_str: "otp_required",
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
            "发卡行要求用短信验证码确认是本人操作；输入验证码之前这张卡还不能使用",
            "Your bank asked for an SMS code to confirm it is you; until the code is entered the card cannot be used",
        ),
    },
    CatalogEntry {
        code: E::OtpIncorrect,
        code_str: "otp_incorrect",
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
            "输入的验证码与银行发送的不一致，可能输错了，或用了较早一条短信里的验证码",
            "The code does not match the one the bank sent: it may be mistyped, or from an older message",
        ),
    },
    CatalogEntry {
        code: E::OtpExpired,
        code_str: "otp_expired",
        error_type: T::CardError,
        cause: C::Input,
        http_status: 422,
        retryable: false,
        message: t("验证码已过期", "The verification code has expired"),
        remedy: t(
            "验证码只在几分钟内有效，请重新添加这张卡以获取新的验证码",
            "Codes are valid for a few minutes only: add the card again to get a new code",
        ),
        why: t(
            "验证码只在几分钟内有效，超时后需要重新获取",
            "Codes are valid for a few minutes only; after that a new one is needed",
        ),
    },
    CatalogEntry {
        code: E::TooManyAttempts,
        code_str: "too_many_attempts",
        error_type: T::RateLimitError,
        cause: C::Security,
        http_status: 429,
        retryable: false,
        message: t(
            "尝试次数过多，已暂时停止",
            "Too many attempts: stopped for now",
        ),
        remedy: t(
            "验证码输错次数过多时，请重新添加这张卡以获取新的验证码；绑卡或短信次数达到上限时，请在提示的时间之后再试。",
            "If a code was entered wrongly too many times, add the card again to get a new code; if a limit on binding attempts or text messages was reached, try again after the time shown.",
        ),
        why: t(
            "为防止他人反复试探卡片信息，钱包限制尝试次数：每条验证码只比对有限的几次；每张卡、每个账户在任意24小时内联系银行绑卡的次数有限，每个手机号在24小时内收到的验证码条数也有限。登录时连续输错密码，也会暂时锁定这个手机号：到提示的时间自动解除，在登录页点“忘记密码”、用短信验证码重设密码后立即解除。提示会说明触发的是哪一项限制，以及何时解除。",
            "To stop anyone probing card details by trying again and again, the wallet limits attempts: each code is compared only a few times, each card and each account may ask the bank to bind only so many times in any 24 hours, and each phone receives only so many codes in 24 hours. Wrong passwords at sign-in lock the phone number for a while too: the lock lifts at the time shown, or at once when the password is reset with a text-message code (Forgot password, on the sign-in page). The message names the limit that was reached and when it lifts.",
        ),
    },
    CatalogEntry {
        code: E::IssuerUnavailable,
        code_str: "issuer_unavailable",
        error_type: T::ApiError,
        cause: C::Network,
        http_status: 503,
        retryable: true,
        message: t("暂时无法连接发卡行", "Your bank can't be reached right now"),
        remedy: t(
            "这不是你的问题，银行系统暂时没有响应；请过几分钟再试。",
            "This is not your fault: the bank isn't answering. Try again in a few minutes.",
        ),
        why: t(
            "发卡行的系统没有在规定时间内应答或正在维护，也可能是网络不稳定。某家银行集中出现故障时，钱包会暂停向它发送请求，并告诉你何时可以重试",
            "The bank's systems did not answer in time or are under maintenance, or the network was unstable. When one bank keeps failing, the wallet stops sending it requests for a while and says when to try again",
        ),
    },
    CatalogEntry {
        code: E::Maintenance,
        code_str: "maintenance",
        error_type: T::ApiError,
        cause: C::System,
        http_status: 503,
        retryable: true,
        message: t(
            "系统维护中，暂停绑卡",
            "Adding cards is paused for maintenance",
        ),
        remedy: t(
            "请在维护结束后重试；已绑定的卡不受影响",
            "Try again after the maintenance window; cards already added are not affected",
        ),
        why: t(
            "运营方暂停了绑卡功能进行维护；已绑定的卡和支付不受影响",
            "The operator has paused adding cards for maintenance; cards already added and payments are not affected",
        ),
    },
];
