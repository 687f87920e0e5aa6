//! Administrator accounts of cluster nodes: the rules Azure applies to Linux VM users and
//! passwords, checked before Azure so the person sees them beside the field.

/// Names Azure refuses for a VM administrator.
const RESERVED_USER_NAMES: &[&str] = &[
    "1",
    "123",
    "a",
    "actuser",
    "adm",
    "admin",
    "admin1",
    "admin2",
    "administrator",
    "aspnet",
    "backup",
    "console",
    "david",
    "guest",
    "john",
    "owner",
    "root",
    "server",
    "sql",
    "support",
    "support_388945a0",
    "sys",
    "test",
    "test1",
    "test2",
    "test3",
    "user",
    "user1",
    "user2",
    "user3",
    "user4",
    "user5",
];

/// Words that make a password easy to guess however it is decorated: Azure refuses its own
/// short list of such passwords ("P@ssw0rd", "Password1", …); long enough to pass our length
/// rule, they are these words with digits and symbols around them.
const GUESSABLE_WORDS: &[&str] = &[
    "password",
    "p@ssw0rd",
    "p@ssword",
    "passw0rd",
    "pa$$word",
    "p@$$w0rd",
    "pass@word",
    "iloveyou",
    "welcome",
    "qwerty",
    "letmein",
    "administrator",
    "azureuser",
    "changeme",
];

pub const PASSWORD_LENGTH: (usize, usize) = (12, 72);

pub fn check_admin_user_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("Administrator user name is required.".into());
    }
    if name.chars().count() > 32 {
        return Err("Administrator user name must be at most 32 characters.".into());
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
    {
        return Err(format!(
            "Administrator user name may only contain letters, digits, '-', '_' and '.' ('{}' is not allowed).",
            bad.escape_default()
        ));
    }
    if !name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        return Err("Administrator user name must start with a letter or '_'.".into());
    }
    if name.ends_with('.') {
        return Err("Administrator user name must not end with '.'.".into());
    }
    if RESERVED_USER_NAMES.contains(&name.to_ascii_lowercase().as_str()) {
        return Err(format!(
            "Azure reserves the administrator user name '{name}'; choose another, such as azureuser."
        ));
    }
    Ok(())
}

/// Length, and three of: lower case, upper case, digit, symbol. The message never repeats the
/// password.
pub fn check_admin_password(password: &str) -> Result<(), String> {
    let (min, max) = PASSWORD_LENGTH;
    let length = password.chars().count();
    if length < min || length > max {
        return Err(format!(
            "Administrator password must be {min} to {max} characters long (it has {length})."
        ));
    }
    if password.chars().any(char::is_control) {
        return Err("Administrator password must not contain control characters.".into());
    }
    let classes = [
        password.chars().any(|c| c.is_lowercase()),
        password.chars().any(|c| c.is_uppercase()),
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(|c| !c.is_alphanumeric()),
    ];
    if classes.iter().filter(|has| **has).count() < 3 {
        return Err("Administrator password must contain three of: a lower-case letter, an upper-case letter, a digit, a symbol.".into());
    }
    if is_guessable(password) {
        return Err("Administrator password is a common word with digits or symbols around it, which Azure refuses; choose another.".into());
    }
    Ok(())
}

/// A guessable word with only digits and symbols before or after it.
fn is_guessable(password: &str) -> bool {
    let lower = password.to_lowercase();
    GUESSABLE_WORDS.iter().any(|word| {
        lower.find(word).is_some_and(|at| {
            let decoration = lower[..at].chars().chain(lower[at + word.len()..].chars());
            decoration.into_iter().all(|c| !c.is_alphabetic())
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_names() {
        for good in ["azureuser", "_svc", "ml.admin", "a1", "data-team"] {
            assert_eq!(check_admin_user_name(good), Ok(()), "{good}");
        }
        for bad in [
            "",
            "admin",
            "Root",
            "1user",
            "user name",
            "ends.",
            "x".repeat(33).as_str(),
            "ünï",
        ] {
            assert!(check_admin_user_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn passwords_and_their_messages() {
        assert_eq!(check_admin_password("Tr0ub4dor&3horse"), Ok(()));
        assert_eq!(check_admin_password("correcthorse42BATTERY"), Ok(()));
        assert_eq!(
            check_admin_password("Password-Manager-Gen-91"),
            Ok(()),
            "a word among others is fine"
        );
        assert!(
            check_admin_password("Password2024!")
                .unwrap_err()
                .contains("common word")
        );
        for bad in [
            "short1A!",
            "alllowercaseletters",
            "ALLUPPER12345",
            "Password22",
            &"Aa1!".repeat(20),
            "Tab\tsep12345A",
        ] {
            let message = check_admin_password(bad).unwrap_err();
            assert!(
                !message.contains(bad),
                "the message must not repeat the password"
            );
        }
    }
}
