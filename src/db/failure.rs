//! Why a database call did not do what was asked, in one sentence, and of which kind: the database
//! refused it by a rule (the SQL API raises `EV001` with the rule's code, a constraint or a permission
//! says no), or it failed (the database could not be asked, broke off, or did not answer). The console
//! shows them differently: a refusal is the answer and asking again changes nothing; a failure is not an
//! answer, and the same action may work once the connection is back.

use tokio_postgres::error::SqlState;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// A rule said no: `rule` is the SQL API's code (`four_eyes`, `expense_decided`...), a constraint's
    /// name, or `permission`.
    Refused { rule: String, sentence: String },
    /// No answer to act on.
    Failed(String),
}

impl Failure {
    /// The kind and the sentence of `error`, from the database error in its chain if there is one.
    pub fn of(error: &anyhow::Error) -> Failure {
        let refusal = error.chain().find_map(|cause| {
            let db = cause
                .downcast_ref::<tokio_postgres::Error>()?
                .as_db_error()?;
            let code = db.code();
            let rule = if code.code() == "EV001" {
                db.constraint().unwrap_or("rule").to_owned()
            } else if *code == SqlState::INSUFFICIENT_PRIVILEGE {
                "permission".to_owned()
            } else if code.code().starts_with("23") {
                db.constraint().unwrap_or("constraint").to_owned()
            } else {
                return None;
            };
            Some(Failure::Refused {
                rule,
                sentence: db.message().to_owned(),
            })
        });
        refusal.unwrap_or_else(|| Failure::Failed(sentence(error)))
    }

    /// `of`, with the whole error chain logged (to the log file, never the screen).
    pub fn logged(error: &anyhow::Error) -> Failure {
        tracing::warn!(error = format!("{error:#}"), "effect failed");
        Failure::of(error)
    }

    pub fn sentence(&self) -> &str {
        match self {
            Failure::Refused { sentence, .. } | Failure::Failed(sentence) => sentence,
        }
    }

    /// The rule that refused, if a rule did.
    pub fn rule(&self) -> Option<&str> {
        match self {
            Failure::Refused { rule, .. } => Some(rule),
            Failure::Failed(_) => None,
        }
    }

    /// For the footer: a refusal as the rule's own sentence; a failure says it is one, since the same
    /// action may go through when tried again.
    pub fn notice(&self) -> String {
        match self {
            Failure::Refused { sentence, .. } => sentence.clone(),
            Failure::Failed(sentence) => format!("FAILED (not refused; try again): {sentence}"),
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.sentence())
    }
}

/// A failure described in words by the console itself (a timeout, a lost connection).
impl From<String> for Failure {
    fn from(sentence: String) -> Failure {
        Failure::Failed(sentence)
    }
}

impl From<&str> for Failure {
    fn from(sentence: &str) -> Failure {
        Failure::Failed(sentence.to_owned())
    }
}

/// An error as the one sentence the user sees: the contexts joined, outermost first, with a database
/// error given as the server's own message (not tokio-postgres's "db error: ERROR: ..." wrapping).
pub fn sentence(error: &anyhow::Error) -> String {
    let mut parts = Vec::new();
    for cause in error.chain() {
        if let Some(pg) = cause.downcast_ref::<tokio_postgres::Error>() {
            match pg.as_db_error() {
                Some(db) => parts.push(db.message().to_owned()),
                None => parts.push(pg.to_string()),
            }
            break;
        }
        parts.push(cause.to_string());
    }
    parts.join(": ")
}
