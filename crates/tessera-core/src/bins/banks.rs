//! Bank names and codes: the issuer codes the tables share, the big Chinese
//! banks' names, and the worldwide table's names of Chinese banks mapped to
//! codes.

/// The issuer code the tables use for a code written another way: upper
/// case, and the common abbreviations of the big banks mapped to the China
/// table's codes (`BOCOM` -> `COMM`, `HXB` -> `HXBANK`, `CGB` -> `GDB`,
/// `PAB` -> `SPABANK`).
pub fn canonical_issuer_code(code: &str) -> String {
    let upper = code.trim().to_ascii_uppercase();
    match upper.as_str() {
        "BOCOM" | "BCM" => "COMM".to_owned(),
        "HXB" => "HXBANK".to_owned(),
        "CGB" => "GDB".to_owned(),
        "PAB" | "PINGAN" => "SPABANK".to_owned(),
        _ => upper,
    }
}

/// Chinese and English names of the banks most people bind, by code.
pub fn big_bank(code: &str) -> Option<(&'static str, &'static str)> {
    Some(match code {
        "ICBC" => ("中国工商银行", "Industrial and Commercial Bank of China"),
        "ABC" => ("中国农业银行", "Agricultural Bank of China"),
        "BOC" => ("中国银行", "Bank of China"),
        "CCB" => ("中国建设银行", "China Construction Bank"),
        "COMM" => ("交通银行", "Bank of Communications"),
        "CMB" => ("招商银行", "China Merchants Bank"),
        "PSBC" => ("中国邮政储蓄银行", "Postal Savings Bank of China"),
        "CITIC" => ("中信银行", "China CITIC Bank"),
        "CEB" => ("中国光大银行", "China Everbright Bank"),
        "CMBC" => ("中国民生银行", "China Minsheng Bank"),
        "SPDB" => ("上海浦东发展银行", "Shanghai Pudong Development Bank"),
        "CIB" => ("兴业银行", "Industrial Bank"),
        "HXBANK" => ("华夏银行", "Hua Xia Bank"),
        "GDB" => ("广发银行", "China Guangfa Bank"),
        "SPABANK" => ("平安银行", "Ping An Bank"),
        "BJBANK" => ("北京银行", "Bank of Beijing"),
        "SHBANK" => ("上海银行", "Bank of Shanghai"),
        "CZBANK" => ("浙商银行", "China Zheshang Bank"),
        "HSBC" => ("汇丰银行(中国)", "HSBC Bank (China)"),
        "CITI" => ("花旗银行(中国)", "Citibank (China)"),
        _ => return None,
    })
}

/// Maps the worldwide table's issuer names of Chinese banks (written many
/// ways: "CHINA MINSHENG BANKING CORP.,LTD", "CN ICBC PEONY MONEY LINK
/// CARD") to the China table's codes. Village and rural banks that carry a
/// big bank's name in theirs are left alone.
pub fn issuer_code_from_name(name: &str) -> Option<&'static str> {
    let name = name.trim().to_ascii_uppercase();
    let has = |s: &str| name.contains(s);
    if ["VILLAGE", "RURAL", "COOPERATIVE", "CUNZHEN"]
        .iter()
        .any(|s| has(s))
    {
        return None;
    }
    let code =
        if has("ICBC") || has("AND COMMERCIAL BANK OF CHINA") || name == "COMMERCIAL BANK OF CHINA"
        {
            "ICBC"
        } else if has("AGRICULTURAL BANK OF CHINA") || has("AGRICULTURE BANK OF CHINA") {
            "ABC"
        } else if has("CONSTRUCTION BANK") {
            "CCB"
        } else if has("POSTAL SAVING") || has("POST SAVINGS") || has("POSTAL BANK") {
            "PSBC"
        } else if has("BANK OF COMMUNICATIONS") {
            "COMM"
        } else if has("MERCHANTS BANK") || has("MERCHANT BANK") {
            "CMB"
        } else if has("CITIC") {
            "CITIC"
        } else if has("EVERBRIGHT") {
            "CEB"
        } else if has("MINSHENG") {
            "CMBC"
        } else if has("PUDONG DEVELOPMENT") {
            "SPDB"
        } else if has("INDUSTRIAL BANK") {
            "CIB"
        } else if has("HUA XIA") || has("HUAXIA") {
            "HXBANK"
        } else if has("GUANGFA") || has("GUANGDONG DEVELOPMENT") || has("GUANG DONG DEVELOPMENT") {
            "GDB"
        } else if has("PING AN BANK") || has("PINGAN BANK") {
            "SPABANK"
        } else if (name.starts_with("BANK OF CHINA") && !has("TRAVEL SERVICE"))
            || name.starts_with("BOC ")
        {
            "BOC"
        } else {
            return None;
        };
    Some(code)
}
