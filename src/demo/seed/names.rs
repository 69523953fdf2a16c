//! The name lists the seed draws from (assets/seed): first and last names, companies, talk topics.

pub(super) fn list(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

pub(super) const FIRST_NAMES: &str = include_str!("../../../assets/seed/first_names.txt");
pub(super) const LAST_NAMES: &str = include_str!("../../../assets/seed/last_names.txt");
pub(super) const COMPANIES: &str = include_str!("../../../assets/seed/companies.txt");
pub(super) const TOPICS: &str = include_str!("../../../assets/seed/topics.txt");
