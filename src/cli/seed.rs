//! `eventos seed`: a realistic, deterministic conference whose live day is today.

use std::process::ExitCode;

use anyhow::Result;

use crate::config::Settings;
use crate::db;
use crate::demo::seed::{self, SeedOptions, SeedReport};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The new event's slug.
    #[arg(long, default_value = "northwind-summit")]
    slug: String,
    /// How many attendees (each with an order and a ticket).
    #[arg(long, default_value_t = 5000)]
    attendees: i32,
    /// The same seed gives the same event.
    #[arg(long, default_value_t = 42)]
    seed: i32,
}

pub async fn run(settings: &Settings, args: Args) -> Result<ExitCode> {
    let mut client = db::connect(&settings.database).await?;
    let report = seed::seed(
        &mut client,
        &SeedOptions {
            slug: args.slug,
            attendees: args.attendees,
            seed: args.seed,
        },
    )
    .await?;
    print_report(&report);
    Ok(ExitCode::SUCCESS)
}

pub fn print_report(report: &SeedReport) {
    println!(
        "seeded event {} in {:.1} s: {} attendees, {} orders, {} tickets, {} sessions in {} rooms, {} speakers, \
         {} sponsors, {} check-ins, {} waitlist entries, {} expenses, {} announcements",
        report.slug,
        report.seconds,
        report.attendees,
        report.orders,
        report.tickets,
        report.sessions,
        report.rooms,
        report.speakers,
        report.sponsors,
        report.checkins,
        report.waitlisted,
        report.expenses,
        report.announcements
    );
    if !report.history_included {
        println!(
            "(not a superuser: decided expenses and sent announcements were left out; the rest is there)"
        );
    }
    println!("operators (PostgreSQL login roles, no password):");
    for (login, role) in &report.operators {
        println!("  {login:<36} {role}");
    }
}
