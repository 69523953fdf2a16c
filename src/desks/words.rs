//! A column the database keeps to a few words (a CHECK, an enum type), a session's status say, is an
//! enum in the console: read once where its row is read (store.rs), compared as the enum everywhere
//! else, and shown or sent back to SQL as the database's own word (`as_str`, `Display`). `column_words!`
//! makes one in its desk's model.rs; tests/column_words.rs checks each one's words against the
//! database's, so the two cannot drift apart.

use anyhow::{Context as _, Result, anyhow};
use tokio_postgres::Row;

use crate::ui::text::fit;

/// An enum of a column's words.
pub trait ColumnWords: Copy + Eq + std::fmt::Debug + std::fmt::Display + 'static {
    /// Where the words are kept.
    const TABLE: &'static str;
    const COLUMN: &'static str;
    /// Every word, in the order the database lists them.
    const ALL: &'static [Self];

    /// The database's word.
    fn word(self) -> &'static str;

    /// The enum for one of the database's words.
    fn from_word(word: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|w| w.word() == word)
    }

    /// A word as the database returned it; one this console does not know fails in one sentence that
    /// names the table, the column and the word.
    fn read(word: &str) -> Result<Self> {
        Self::from_word(word).ok_or_else(|| {
            anyhow!(
                "{}.{} holds {:?}, a value this console does not know",
                Self::TABLE,
                Self::COLUMN,
                fit(word, 40)
            )
        })
    }

    /// Column `index` of `row` (NOT NULL). Stores select it `::text`, so an enum type reads as well.
    fn get(row: &Row, index: usize) -> Result<Self> {
        let word = text::<Self>(row, index)?.ok_or_else(|| {
            anyhow!(
                "{}.{} is NULL, which it may not be",
                Self::TABLE,
                Self::COLUMN
            )
        })?;
        Self::read(word)
    }

    /// Column `index` of `row`, which may be NULL.
    fn get_opt(row: &Row, index: usize) -> Result<Option<Self>> {
        text::<Self>(row, index)?.map(Self::read).transpose()
    }
}

/// Column `index` of `row` as text: a column of another type fails, naming `W`'s column.
fn text<W: ColumnWords>(row: &Row, index: usize) -> Result<Option<&str>> {
    row.try_get(index)
        .with_context(|| format!("cannot read {}.{} as text", W::TABLE, W::COLUMN))
}

/// An enum of a column's words, in its desk's model.rs:
///
/// ```ignore
/// column_words! {
///     /// A session's status.
///     pub enum SessionStatus for sessions.status {
///         Scheduled = "scheduled",
///         Live = "live",
///     }
/// }
/// ```
///
/// Every word the database allows must be a variant: tests/column_words.rs compares the two.
#[macro_export]
macro_rules! column_words {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident for $table:ident . $column:ident {
            $($(#[$vmeta:meta])* $variant:ident = $word:literal),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        $vis enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            /// Every word, in the order the database lists them.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The database's word (what the screen shows, what SQL is sent).
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $word),+
                }
            }
        }

        impl $crate::desks::words::ColumnWords for $name {
            const TABLE: &'static str = stringify!($table);
            const COLUMN: &'static str = stringify!($column);
            const ALL: &'static [$name] = $name::ALL;

            fn word(self) -> &'static str {
                self.as_str()
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.pad(self.as_str())
            }
        }

        /// From JSON (a realtime batch's rows): a word this console does not know fails the read in the
        /// same sentence as from a row.
        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let word = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
                <$name as $crate::desks::words::ColumnWords>::read(&word)
                    .map_err(serde::de::Error::custom)
            }
        }
    };
}

/// For each enum's unit test: every variant goes to its word and back, shown as the same word, and
/// no two share a word; an unknown word is refused in a sentence naming where it was read.
#[cfg(test)]
pub fn round_trip<W: ColumnWords>() -> Vec<&'static str> {
    let mut seen = std::collections::BTreeSet::new();
    for w in W::ALL {
        assert_eq!(W::read(w.word()).ok(), Some(*w), "{w:?}");
        assert_eq!(w.to_string(), w.word(), "{w:?} is shown as its word");
        assert!(
            seen.insert(w.word()),
            "{} is the word of two variants",
            w.word()
        );
    }
    match W::read("no such word\u{7}") {
        Ok(w) => panic!("an unknown word was read as {w:?}"),
        Err(e) => assert_eq!(
            e.to_string(),
            format!(
                "{}.{} holds \"no such word\\u{{7}}\", a value this console does not know",
                W::TABLE,
                W::COLUMN
            )
        ),
    }
    W::ALL.iter().map(|w| w.word()).collect()
}
