//! The Check-ins desk's dialogs: what a key's intent leads to (a scan sent, a search, a manual check-in
//! or check-out to confirm).

use super::commands::Cmd;
use super::model::{CheckinsDesk, Intent};
use crate::desks::desk::{Confirm, Outcome};
use crate::desks::{Context, Permission, fit};
use crate::ui::Tone;

pub fn intent(desk: &mut CheckinsDesk, intent: Intent, ctx: &Context) -> Outcome<CheckinsDesk> {
    match intent {
        Intent::Nothing | Intent::NotMine => Outcome::nothing(),
        Intent::Say(text) => Outcome::say(text, Tone::Info),
        Intent::Scan(code) => {
            if ctx.permissions.has(Permission::CheckIn) {
                Outcome::run(Cmd::Scan { code })
            } else {
                desk.scan.in_flight = desk.scan.in_flight.saturating_sub(1);
                Outcome::say(ctx.refusal(Permission::CheckIn), Tone::Bad)
            }
        }
        Intent::Search { seq, query } => Outcome::run(Cmd::Search { seq, query }),
        // One key: acknowledging says "I am on it" and changes nothing at the doors (it is audited).
        Intent::Acknowledge(alert) => Outcome::run(Cmd::Acknowledge {
            alert: alert.id,
            gate: alert.gate,
        }),
        Intent::CheckIn(hit) => {
            let mut lines = vec![
                format!("Check in {}?", fit(&hit.name, 40)),
                format!(
                    "{}  tickets: {}",
                    fit(&hit.email, 30),
                    fit(&hit.tickets, 30)
                ),
            ];
            if hit.inside {
                lines.push("The database says they are inside already.".to_owned());
            }
            Outcome::confirm(Confirm::new(
                "Manual check-in",
                lines,
                Cmd::CheckIn {
                    attendee: hit.id,
                    name: hit.name,
                },
            ))
        }
        Intent::CheckOut(hit) => Outcome::confirm(Confirm::new(
            "Check out",
            vec![
                format!("Check {} out of the event?", fit(&hit.name, 40)),
                "They leave the Present count; a later scan lets them in again.".to_owned(),
            ],
            Cmd::CheckOut {
                attendee: hit.id,
                name: hit.name,
            },
        )),
    }
}

/// A barcode scanner's burst: checked in at once whatever is on screen, if the role may.
pub fn scanner_input(
    desk: &mut CheckinsDesk,
    code: String,
    ctx: &Context,
) -> Outcome<CheckinsDesk> {
    if ctx.permissions.has(Permission::CheckIn) {
        desk.scan.in_flight += 1;
        return Outcome::run(Cmd::Scan { code });
    }
    Outcome::bad(format!(
        "a scan ({}) arrived, but your role ({}) cannot check people in: nothing was recorded",
        fit(&crate::desks::clean(&code), 24),
        ctx.role
    ))
}
