//! Binary COPY of client-drawn rows, staged through a temporary table for a role under row-level
//! security.

use std::pin::Pin;

use anyhow::{Context, Result};
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{ToSql, Type};

use super::Tx;

/// Rows by binary COPY into a table, or, for a role under row-level security (which may not COPY into
/// it), into a temporary table and from there by one INSERT that the policies check.
pub(super) struct Loader<'a> {
    tx: &'a Tx<'a>,
    table: &'static str,
    columns: &'static str,
    staged: bool,
    writer: Pin<Box<BinaryCopyInWriter>>,
}

impl<'a> Loader<'a> {
    pub(super) async fn start(
        tx: &'a Tx<'a>,
        table: &'static str,
        columns: &'static str,
        types: &[Type],
        direct: bool,
    ) -> Result<Loader<'a>> {
        if !direct {
            tx.batch_execute(&format!(
                "CREATE TEMPORARY TABLE seed_stage ON COMMIT DROP AS SELECT {columns} FROM {table} WITH NO DATA"
            ))
            .await
            .with_context(|| format!("cannot stage {table}"))?;
        }
        let target = if direct { table } else { "seed_stage" };
        let sink = tx
            .copy_in(&format!(
                "COPY {target} ({columns}) FROM STDIN (FORMAT binary)"
            ))
            .await
            .with_context(|| format!("cannot start loading {table}"))?;
        Ok(Loader {
            tx,
            table,
            columns,
            staged: !direct,
            writer: Box::pin(BinaryCopyInWriter::new(sink, types)),
        })
    }

    pub(super) async fn row(&mut self, values: &[&(dyn ToSql + Sync)]) -> Result<()> {
        let table = self.table;
        self.writer
            .as_mut()
            .write(values)
            .await
            .with_context(|| format!("cannot load {table}"))
    }

    pub(super) async fn finish(mut self) -> Result<()> {
        let table = self.table;
        self.writer
            .as_mut()
            .finish()
            .await
            .with_context(|| format!("cannot load {table}"))?;
        if self.staged {
            let columns = self.columns;
            self.tx
                .batch_execute(&format!(
                    "INSERT INTO {table} ({columns}) SELECT {columns} FROM seed_stage; DROP TABLE seed_stage"
                ))
                .await
                .with_context(|| format!("cannot load {table}"))?;
        }
        Ok(())
    }
}
