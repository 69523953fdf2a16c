//! The Expenses desk's state and its pure update.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, Utc};
use crossterm::event::KeyEvent;
use rust_decimal::Decimal;
use uuid::Uuid;

use super::keys::Action;
use crate::desks::desk::RowFetch;
use crate::desks::list::{self, ListNav};

crate::column_words! {
    /// Where an expense is: pending a decision, approved (to pay) or rejected, then paid.
    pub enum ExpenseStatus for event_expenses.status {
        Pending = "pending",
        Approved = "approved",
        Rejected = "rejected",
        Paid = "paid",
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ExpenseRow {
    pub id: Uuid,
    pub name: String,
    pub category: Option<String>,
    pub description: Option<String>,
    pub amount: Decimal,
    pub currency: String,
    pub vendor: Option<String>,
    pub invoice_number: Option<String>,
    pub status: ExpenseStatus,
    pub created_by: Option<Uuid>,
    pub submitter: String,
    pub created_at: DateTime<Utc>,
    pub receipt_url: Option<String>,
    pub invoice_url: Option<String>,
    pub approved_by: Option<String>,
    pub approved_at: Option<DateTime<Utc>>,
    pub rejection_reason: Option<String>,
    pub payment_date: Option<NaiveDate>,
}

/// Which expenses the list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum View {
    /// Waiting for a decision, oldest first.
    #[default]
    Pending,
    /// Approved, waiting to be paid.
    ToPay,
    All,
}

impl View {
    pub fn label(self) -> &'static str {
        match self {
            View::Pending => "pending",
            View::ToPay => "approved, to pay",
            View::All => "all",
        }
    }

    /// Whether `action` has rows to act on in this view: deciding needs pending ones, paying approved
    /// ones. The footer shows only these.
    pub fn offers(self, action: Action) -> bool {
        match action {
            Action::Mark | Action::Approve | Action::ApproveMarked | Action::Reject => {
                self != View::ToPay
            }
            Action::MarkPaid => self != View::Pending,
            _ => true,
        }
    }

    fn next(self) -> View {
        match self {
            View::Pending => View::ToPay,
            View::ToPay => View::All,
            View::All => View::Pending,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct ExpensesDesk {
    pub rows: Vec<ExpenseRow>,
    pub view: View,
    pub nav: ListNav,
    /// Marked with Space for `A`.
    pub marked: BTreeSet<Uuid>,
    pub loaded: bool,
    /// Rows heard changed, to read again.
    pub fetch: RowFetch,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Intent {
    Nothing,
    NotMine,
    Approve(ExpenseRow),
    ApproveMany(Vec<ExpenseRow>),
    Reject(ExpenseRow),
    MarkPaid(ExpenseRow),
    Say(String),
}

/// Sums per (status, currency) and per (category, currency).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Totals {
    pub by_status: BTreeMap<(ExpenseStatus, String), (usize, Decimal)>,
    pub by_category: BTreeMap<(String, String), Decimal>,
}

impl ExpensesDesk {
    pub fn typing(&self) -> bool {
        self.nav.filtering
    }

    pub fn replace(&mut self, rows: Vec<ExpenseRow>) {
        let keep = self.selected_row().map(|r| r.id);
        self.rows = rows;
        self.loaded = true;
        self.arrange(keep);
    }

    pub fn merge(&mut self, requested: &[Uuid], changed: Vec<ExpenseRow>) {
        let keep = self.selected_row().map(|r| r.id);
        list::merge_by_id(&mut self.rows, requested, changed, |r| r.id);
        self.arrange(keep);
    }

    fn arrange(&mut self, keep: Option<Uuid>) {
        // Oldest first: the queue is worked from the top.
        self.rows
            .sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
        let present: BTreeSet<Uuid> = self
            .rows
            .iter()
            .filter(|r| r.status == ExpenseStatus::Pending)
            .map(|r| r.id)
            .collect();
        self.marked.retain(|id| present.contains(id));
        let shown: Vec<Uuid> = self.visible().iter().map(|r| r.id).collect();
        self.nav.follow(keep, &shown);
    }

    /// Expenses waiting for a decision (the tab's count).
    pub fn pending(&self) -> usize {
        self.rows
            .iter()
            .filter(|r| r.status == ExpenseStatus::Pending)
            .count()
    }

    pub fn visible(&self) -> Vec<&ExpenseRow> {
        let needle = self.nav.needle();
        self.rows
            .iter()
            .filter(|r| match self.view {
                View::Pending => r.status == ExpenseStatus::Pending,
                View::ToPay => r.status == ExpenseStatus::Approved,
                View::All => true,
            })
            .filter(|r| {
                needle.is_empty()
                    || r.name.to_lowercase().contains(&needle)
                    || r.vendor
                        .as_deref()
                        .unwrap_or("")
                        .to_lowercase()
                        .contains(&needle)
                    || r.submitter.to_lowercase().contains(&needle)
                    || r.category.as_deref().unwrap_or("").contains(&needle)
            })
            .collect()
    }

    pub fn selected_row(&self) -> Option<&ExpenseRow> {
        self.visible().get(self.nav.selected).copied()
    }

    pub fn totals(&self) -> Totals {
        let mut totals = Totals::default();
        for r in &self.rows {
            let entry = totals
                .by_status
                .entry((r.status, r.currency.clone()))
                .or_insert((0, Decimal::ZERO));
            entry.0 += 1;
            entry.1 += r.amount;
            if r.status != ExpenseStatus::Rejected {
                *totals
                    .by_category
                    .entry((
                        r.category
                            .clone()
                            .unwrap_or_else(|| "uncategorized".to_owned()),
                        r.currency.clone(),
                    ))
                    .or_insert(Decimal::ZERO) += r.amount;
            }
        }
        totals
    }

    pub fn type_key(&mut self, key: KeyEvent) -> Intent {
        self.nav.type_key(key);
        Intent::Nothing
    }

    /// `me`: the operator's profile, whose own expenses they may not approve (four eyes).
    pub fn act(&mut self, action: Action, me: Option<Uuid>) -> Intent {
        let len = self.visible().len();
        if self.nav.navigate(action.nav(), len) {
            return Intent::Nothing;
        }
        let selected = self.selected_row().cloned();
        match action {
            Action::Back if !self.marked.is_empty() => self.marked.clear(),
            Action::CycleView => {
                self.view = self.view.next();
                self.nav.selected = 0;
            }
            Action::Mark => {
                let Some(row) = selected else {
                    return Intent::Nothing;
                };
                if row.status != ExpenseStatus::Pending {
                    return Intent::Say(
                        "only pending expenses can be marked for approval".to_owned(),
                    );
                }
                if !self.marked.remove(&row.id) {
                    self.marked.insert(row.id);
                }
                self.nav.selected = (self.nav.selected + 1).min(len.saturating_sub(1));
            }
            Action::Approve => {
                let Some(row) = selected else {
                    return Intent::Nothing;
                };
                if row.status != ExpenseStatus::Pending {
                    return Intent::Say(format!("this expense is {}, not pending", row.status));
                }
                if me.is_some() && row.created_by == me {
                    return Intent::Say(
                        "you submitted this expense: another approver must decide it (four eyes)"
                            .to_owned(),
                    );
                }
                return Intent::Approve(row);
            }
            Action::ApproveMarked => {
                let rows: Vec<ExpenseRow> = self
                    .rows
                    .iter()
                    .filter(|r| self.marked.contains(&r.id))
                    .cloned()
                    .collect();
                if rows.is_empty() {
                    return Intent::Say(
                        "mark expenses with Space first, then A approves them".to_owned(),
                    );
                }
                return Intent::ApproveMany(rows);
            }
            Action::Reject => match selected {
                Some(row) if row.status == ExpenseStatus::Pending => return Intent::Reject(row),
                Some(row) => {
                    return Intent::Say(format!("this expense is {}, not pending", row.status));
                }
                None => {}
            },
            Action::MarkPaid => match selected {
                Some(row) if row.status == ExpenseStatus::Approved => return Intent::MarkPaid(row),
                Some(row) => {
                    return Intent::Say(format!(
                        "only an approved expense can be paid; this one is {}",
                        row.status
                    ));
                }
                None => {}
            },
            _ => return Intent::NotMine,
        }
        Intent::Nothing
    }
}

/// "1234.5" -> "1,234.50": two decimals, thousands separated, so amounts align on the point.
pub fn money(amount: Decimal) -> String {
    let rounded = amount.round_dp(2);
    let text = format!("{rounded:.2}");
    let (sign, digits) = match text.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", text.as_str()),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, "00"));
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{sign}{grouped}.{fraction}")
}

/// A payment date typed by the operator: YYYY-MM-DD, or None (empty, or "today") for the event's today.
/// Whether the date may be used (not after the event's today) is the database's rule, refused there in
/// one sentence; it is not written again here.
pub fn parse_payment_date(text: &str) -> Result<Option<NaiveDate>, String> {
    let text = text.trim();
    if text.is_empty() || text.eq_ignore_ascii_case("today") {
        return Ok(None);
    }
    let date = NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| {
        format!(
            "{:?} is not a date: type YYYY-MM-DD, or leave it empty for today",
            crate::desks::fit(text, 20)
        )
    })?;
    Ok(Some(date))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use std::str::FromStr;

    fn row(n: u128, status: ExpenseStatus, by: u128, amount: &str) -> ExpenseRow {
        ExpenseRow {
            id: Uuid::from_u128(n),
            name: format!("Expense {n}"),
            category: Some("catering".into()),
            description: None,
            amount: Decimal::from_str(amount).expect("amount"),
            currency: "CAD".into(),
            vendor: Some("Café Ada".into()),
            invoice_number: None,
            status,
            created_by: Some(Uuid::from_u128(by)),
            submitter: "Sam Submitter".into(),
            created_at: Utc
                .with_ymd_and_hms(2026, 11, 25, 9, n as u32, 0)
                .single()
                .expect("valid"),
            receipt_url: None,
            invoice_url: None,
            approved_by: None,
            approved_at: None,
            rejection_reason: None,
            payment_date: None,
        }
    }

    #[test]
    fn every_status_reads_back_from_its_word() {
        assert_eq!(
            crate::desks::words::round_trip::<ExpenseStatus>(),
            ["pending", "approved", "rejected", "paid"]
        );
    }

    #[test]
    fn money_aligns_on_the_point() {
        assert_eq!(money(Decimal::from_str("1234.5").expect("d")), "1,234.50");
        assert_eq!(money(Decimal::from_str("0.07").expect("d")), "0.07");
        assert_eq!(
            money(Decimal::from_str("99999999.99").expect("d")),
            "99,999,999.99"
        );
    }

    #[test]
    fn my_own_expense_cannot_be_approved_by_me() {
        let mut desk = ExpensesDesk::default();
        desk.replace(vec![row(1, ExpenseStatus::Pending, 7, "10")]);
        let me = Some(Uuid::from_u128(7));
        assert!(matches!(desk.act(Action::Approve, me), Intent::Say(s) if s.contains("four eyes")));
        assert!(matches!(
            desk.act(Action::Approve, Some(Uuid::from_u128(8))),
            Intent::Approve(_)
        ));
    }

    #[test]
    fn each_view_offers_only_what_its_rows_allow() {
        assert!(View::Pending.offers(Action::ApproveMarked));
        assert!(!View::Pending.offers(Action::MarkPaid));
        assert!(!View::ToPay.offers(Action::Mark));
        assert!(!View::ToPay.offers(Action::Approve));
        assert!(View::ToPay.offers(Action::MarkPaid));
        assert!(View::All.offers(Action::Approve) && View::All.offers(Action::MarkPaid));
        assert!(View::ToPay.offers(Action::CycleView));
    }

    #[test]
    fn space_marks_and_capital_a_approves_the_marked() {
        let mut desk = ExpensesDesk::default();
        desk.replace(vec![
            row(1, ExpenseStatus::Pending, 7, "10"),
            row(2, ExpenseStatus::Pending, 7, "20"),
            row(3, ExpenseStatus::Pending, 7, "30"),
        ]);
        desk.act(Action::Mark, None);
        desk.act(Action::Down, None);
        desk.act(Action::Mark, None);
        let Intent::ApproveMany(rows) = desk.act(Action::ApproveMarked, None) else {
            panic!("expected a batch");
        };
        let ids: Vec<u128> = rows.iter().map(|r| r.id.as_u128()).collect();
        assert_eq!(ids, vec![1, 3]);
        // A marked expense decided elsewhere leaves the selection.
        desk.merge(
            &[Uuid::from_u128(3)],
            vec![row(3, ExpenseStatus::Approved, 7, "30")],
        );
        assert_eq!(desk.marked.len(), 1);
    }

    #[test]
    fn the_queue_is_oldest_first_and_views_cycle() {
        let mut desk = ExpensesDesk::default();
        desk.replace(vec![
            row(3, ExpenseStatus::Pending, 7, "1"),
            row(1, ExpenseStatus::Approved, 7, "1"),
            row(2, ExpenseStatus::Pending, 7, "1"),
        ]);
        let ids: Vec<u128> = desk.visible().iter().map(|r| r.id.as_u128()).collect();
        assert_eq!(ids, vec![2, 3]);
        desk.act(Action::CycleView, None);
        assert_eq!(desk.visible().len(), 1);
        assert!(matches!(
            desk.act(Action::MarkPaid, None),
            Intent::MarkPaid(_)
        ));
    }

    #[test]
    fn totals_are_exact_decimals() {
        let mut desk = ExpensesDesk::default();
        desk.replace(vec![
            row(1, ExpenseStatus::Pending, 7, "0.10"),
            row(2, ExpenseStatus::Pending, 7, "0.20"),
            row(3, ExpenseStatus::Rejected, 7, "5"),
        ]);
        let totals = desk.totals();
        assert_eq!(
            totals
                .by_status
                .get(&(ExpenseStatus::Pending, "CAD".into())),
            Some(&(2, Decimal::from_str("0.30").expect("d")))
        );
        assert_eq!(
            totals.by_category.get(&("catering".into(), "CAD".into())),
            Some(&Decimal::from_str("0.30").expect("d"))
        );
    }

    #[test]
    fn payment_dates_are_real_dates_or_today() {
        assert_eq!(parse_payment_date(""), Ok(None));
        assert_eq!(parse_payment_date(" Today "), Ok(None));
        assert_eq!(
            parse_payment_date("2026-11-20"),
            Ok(NaiveDate::from_ymd_opt(2026, 11, 20))
        );
        assert!(parse_payment_date("2026-11-31").is_err());
        assert!(parse_payment_date("yesterday").is_err());
    }
}
