//! Attaching compute made outside the workspace: where it is (a host name or IP address and an
//! SSH port), who logs in, and the names Azure knows a Databricks workspace or a Data Lake
//! Analytics account by.
//!
//! Secrets (passwords, access tokens) are checked for shape only, and no message repeats them.

use std::net::IpAddr;

/// The longest password or token taken; longer text is not a credential.
pub const MAX_SECRET_CHARS: usize = 1024;

/// A host name or an IP address, as typed: `10.0.0.4`, `2001:db8::4`, `vm1.contoso.com`,
/// `mycluster-ssh.azurehdinsight.net`. The port has its own field and the user name too, so
/// `user@host` and `host:22` are refused with that said.
pub fn check_address(text: &str) -> Result<String, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("Address is required: the host name or IP address of the machine.".into());
    }
    if text.contains("://") {
        return Err(
            "Address must be a host name or IP address only, without a scheme such as ssh://."
                .into(),
        );
    }
    if text.contains('@') {
        return Err("Address must not contain the user name; it has its own field.".into());
    }
    let unbracketed = text.trim_start_matches('[').trim_end_matches(']');
    if unbracketed.parse::<IpAddr>().is_ok() {
        return Ok(unbracketed.to_string());
    }
    if let Some((host, port)) = text.rsplit_once(':')
        && !host.contains(':')
        && port.chars().all(|c| c.is_ascii_digit())
    {
        return Err("Address must not contain the port; it has its own field.".into());
    }
    let name = text.trim_end_matches('.');
    let looks_like_ipv4 = name
        .split('.')
        .all(|l| l.chars().all(|c| c.is_ascii_digit()));
    if looks_like_ipv4 {
        return Err(format!(
            "{name} is not a valid IP address: an IPv4 address is four numbers from 0 to 255."
        ));
    }
    let valid = name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        });
    if !valid {
        return Err("Address must be a host name (letters, digits, '-' and dots, such as vm1.contoso.com) or an IP address.".into());
    }
    Ok(name.to_ascii_lowercase())
}

/// An SSH port: a whole number from 1 to 65535.
pub fn parse_ssh_port(text: &str) -> Result<u16, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("SSH port is required (usually 22).".into());
    }
    match text.parse::<u32>() {
        Ok(port @ 1..=65535) => Ok(port as u16),
        Ok(port) => Err(format!(
            "SSH port must be between 1 and 65535 (it is {port})."
        )),
        Err(_) if text.starts_with('-') => Err("SSH port must be between 1 and 65535.".into()),
        Err(_) => Err("SSH port must be a whole number between 1 and 65535.".into()),
    }
}

/// A Linux user name on a machine that already exists: 1 to 32 of letters, digits, `.`, `_`
/// and `-`, not starting with `-`. (Azure's reserved names apply to VMs Azure makes, not here.)
pub fn check_user_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("User name is required.".into());
    }
    if name.chars().count() > 32 {
        return Err("User name must be at most 32 characters.".into());
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        return Err(format!(
            "User name may only contain letters, digits, '.', '_' and '-' ('{}' is not allowed).",
            bad.escape_default()
        ));
    }
    if name.starts_with('-') {
        return Err("User name must not start with '-'.".into());
    }
    Ok(())
}

/// The password of an account that exists: required, one line, not absurdly long. Its rules
/// are the machine's, not ours. `label` names the field ("Password", "Access token").
pub fn check_secret(label: &str, secret: &str) -> Result<(), String> {
    if secret.is_empty() {
        return Err(format!("{label} is required."));
    }
    let length = secret.chars().count();
    if length > MAX_SECRET_CHARS {
        return Err(format!(
            "{label} is too long ({length} characters; at most {MAX_SECRET_CHARS})."
        ));
    }
    if secret.chars().any(char::is_control) {
        return Err(format!(
            "{label} must be one line without control characters."
        ));
    }
    Ok(())
}

/// A Databricks access token: one word, without the `Bearer ` some tools print before it.
pub fn check_access_token(token: &str) -> Result<(), String> {
    check_secret("Access token", token)?;
    if token.to_ascii_lowercase().starts_with("bearer ") {
        return Err("Access token must be the token alone, without 'Bearer ' before it.".into());
    }
    if token.chars().any(char::is_whitespace) {
        return Err("Access token must not contain spaces; copy it again from Databricks (User settings → Access tokens).".into());
    }
    Ok(())
}

/// A resource group's name: 1 to 90 letters, digits, `-`, `_`, `.`, `(` and `)`, not ending in
/// `.`.
pub fn check_resource_group(name: &str) -> Result<(), String> {
    let name = name.trim();
    if name.is_empty() {
        return Err("Resource group is required.".into());
    }
    if name.chars().count() > 90 {
        return Err("Resource group must be at most 90 characters.".into());
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | '(' | ')')))
    {
        return Err(format!(
            "Resource group may only contain letters, digits, '-', '_', '.', '(' and ')' ('{}' is not allowed).",
            bad.escape_default()
        ));
    }
    if name.ends_with('.') {
        return Err("Resource group must not end with '.'.".into());
    }
    Ok(())
}

/// A Databricks workspace's name: 3 to 64 letters, digits, `-` and `_`.
pub fn check_databricks_workspace(name: &str) -> Result<(), String> {
    let name = name.trim();
    if name.is_empty() {
        return Err("Databricks workspace name is required.".into());
    }
    if !(3..=64).contains(&name.chars().count()) {
        return Err("Databricks workspace name must be 3 to 64 characters long.".into());
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_')))
    {
        return Err(format!(
            "Databricks workspace name may only contain letters, digits, '-' and '_' ('{}' is not allowed).",
            bad.escape_default()
        ));
    }
    Ok(())
}

/// A Data Lake Analytics account's name: 3 to 24 lower-case letters and digits.
pub fn check_data_lake_account(name: &str) -> Result<(), String> {
    let name = name.trim();
    if name.is_empty() {
        return Err("Data Lake Analytics account name is required.".into());
    }
    if !(3..=24).contains(&name.chars().count())
        || !name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
    {
        return Err(
            "Data Lake Analytics account name must be 3 to 24 lower-case letters and digits."
                .into(),
        );
    }
    Ok(())
}

/// The ids of attached resources, from their parts.
pub fn databricks_workspace_id(subscription: &str, resource_group: &str, name: &str) -> String {
    format!(
        "/subscriptions/{subscription}/resourceGroups/{resource_group}/providers/Microsoft.Databricks/workspaces/{name}"
    )
}

pub fn data_lake_analytics_id(subscription: &str, resource_group: &str, name: &str) -> String {
    format!(
        "/subscriptions/{subscription}/resourceGroups/{resource_group}/providers/Microsoft.DataLakeAnalytics/accounts/{name}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_host_names_or_ip_addresses() {
        for (typed, kept) in [
            ("10.0.0.4", "10.0.0.4"),
            (" 2001:db8::4 ", "2001:db8::4"),
            ("[2001:db8::4]", "2001:db8::4"),
            ("VM1.Contoso.com", "vm1.contoso.com"),
            (
                "mycluster-ssh.azurehdinsight.net",
                "mycluster-ssh.azurehdinsight.net",
            ),
            ("buildbox", "buildbox"),
        ] {
            assert_eq!(check_address(typed).as_deref(), Ok(kept), "{typed}");
        }
        for (typed, words) in [
            ("", "required"),
            ("ssh://vm1", "scheme"),
            ("azureuser@vm1", "user name"),
            ("vm1.contoso.com:22", "port"),
            ("10.0.0.256", "not a valid IP"),
            ("vm_1", "host name"),
            ("-vm", "host name"),
            ("a..b", "host name"),
        ] {
            let message = check_address(typed).unwrap_err();
            assert!(message.contains(words), "{typed}: {message}");
        }
    }

    /// The port's edges: 0 and 65536 out, 1 and 65535 in.
    #[test]
    fn ports_run_from_1_to_65535() {
        assert_eq!(parse_ssh_port("22"), Ok(22));
        assert_eq!(parse_ssh_port("1"), Ok(1));
        assert_eq!(parse_ssh_port("65535"), Ok(65535));
        for bad in ["0", "65536", "-1", "22.0", "ssh", "", "99999999999"] {
            assert!(parse_ssh_port(bad).is_err(), "{bad}");
        }
        assert_eq!(
            parse_ssh_port("65536").unwrap_err(),
            "SSH port must be between 1 and 65535 (it is 65536)."
        );
    }

    #[test]
    fn user_names_and_secrets() {
        for good in ["azureuser", "root", "sshuser", "a", "svc.ml_1"] {
            assert_eq!(check_user_name(good), Ok(()), "{good}");
        }
        for bad in ["", "-x", "a b", &"a".repeat(33)] {
            assert!(check_user_name(bad).is_err(), "{bad}");
        }
        assert!(check_secret("Password", "").is_err());
        assert!(check_secret("Password", "p\nq").is_err());
        assert!(check_secret("Password", &"p".repeat(1025)).is_err());
        let message = check_secret("Password", "s3cret\u{7}").unwrap_err();
        assert!(!message.contains("s3cret"), "never repeated");
        assert_eq!(
            check_access_token("dapi0123456789abcdef0123456789abcdef"),
            Ok(())
        );
        assert!(
            check_access_token("Bearer dapi0123")
                .unwrap_err()
                .contains("Bearer")
        );
        assert!(check_access_token("dapi 0123").is_err());
    }

    #[test]
    fn azure_names() {
        assert_eq!(check_resource_group("ml-rg_(prod).1"), Ok(()));
        assert!(check_resource_group("rg.").is_err());
        assert!(check_resource_group("a/b").is_err());
        assert!(check_resource_group(&"r".repeat(91)).is_err());
        assert_eq!(check_databricks_workspace("team-dbx_1"), Ok(()));
        assert!(check_databricks_workspace("db").is_err());
        assert!(check_databricks_workspace("team dbx").is_err());
        assert_eq!(check_data_lake_account("adla01"), Ok(()));
        for bad in ["ab", "ADLA01", "adla-01", &"a".repeat(25)] {
            assert!(check_data_lake_account(bad).is_err(), "{bad}");
        }
    }
}
