//! The Expenses desk's SQL. Decisions go through the SQL API (four eyes and the audit trail are the
//! database's).

use anyhow::{Context, Result};
use chrono::NaiveDate;
use tokio_postgres::Client;
use uuid::Uuid;

use super::model::{ExpenseRow, ExpenseStatus};
use crate::desks::words::ColumnWords;
use crate::desks::{clean, clean_opt, storable};

/// The event's expenses (not deleted), or only `ids`.
pub async fn expenses(
    client: &Client,
    event: Uuid,
    ids: Option<&[Uuid]>,
) -> Result<Vec<ExpenseRow>> {
    let rows = client
        .query(
            "SELECT x.id, x.expense_name, x.expense_category, x.description, x.amount, x.currency,
                    x.vendor_name, x.invoice_number, x.status::text, x.created_by,
                    coalesce(profile_name(x.created_by), 'unknown'), x.created_at,
                    x.receipt_url, x.invoice_url, profile_name(x.approved_by), x.approved_at,
                    x.rejection_reason, x.payment_date
               FROM event_expenses x
              WHERE x.event_id = $1 AND x.deleted_at IS NULL
                AND ($2::uuid[] IS NULL OR x.id = ANY ($2::uuid[]))",
            &[&event, &ids],
        )
        .await
        .context("cannot read expenses")?;
    rows.iter()
        .map(|r| {
            Ok(ExpenseRow {
                id: r.get(0),
                name: clean(r.get(1)),
                category: clean_opt(r.get(2)),
                description: clean_opt(r.get(3)),
                amount: r.get(4),
                currency: r.get(5),
                vendor: clean_opt(r.get(6)),
                invoice_number: clean_opt(r.get(7)),
                status: ExpenseStatus::get(r, 8)?,
                created_by: r.get(9),
                submitter: clean(r.get(10)),
                created_at: r.get(11),
                receipt_url: clean_opt(r.get(12)),
                invoice_url: clean_opt(r.get(13)),
                approved_by: clean_opt(r.get(14)),
                approved_at: r.get(15),
                rejection_reason: clean_opt(r.get(16)),
                payment_date: r.get(17),
            })
        })
        .collect::<Result<_>>()
        .context("cannot read expenses")
}

pub async fn approve(client: &Client, expense: Uuid) -> Result<()> {
    client
        .query_one("SELECT id FROM approve_expense($1)", &[&expense])
        .await
        .context("cannot approve")?;
    Ok(())
}

pub async fn reject(client: &Client, expense: Uuid, reason: &str) -> Result<()> {
    storable(reason, "the reason", "the expense was not rejected")?;
    client
        .query_one(
            "SELECT id FROM reject_expense($1, $2)",
            &[&expense, &reason],
        )
        .await
        .context("cannot reject")?;
    Ok(())
}

pub async fn mark_paid(client: &Client, expense: Uuid, date: Option<NaiveDate>) -> Result<()> {
    client
        .query_one(
            "SELECT id FROM mark_expense_paid($1, $2)",
            &[&expense, &date],
        )
        .await
        .context("cannot mark it paid")?;
    Ok(())
}
