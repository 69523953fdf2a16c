//! The compose and edit form: title, multi-line content, priority, audience, target sessions, delivery
//! methods and an optional schedule time. Every field is checked in place before anything is saved.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use tui_input::backend::crossterm::EventHandler;
use tui_input::{Input, InputRequest};
use uuid::Uuid;

use super::model::{AnnouncementRow, Audience, DeliveryMethod, Priority};
use crate::desks::TodaySession;
use crate::desks::words::ColumnWords;

/// The delivery methods the form offers, in order (keys 1 to 4).
pub const METHODS: &[DeliveryMethod] = DeliveryMethod::ALL;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Title,
    Content,
    Priority,
    Audience,
    Sessions,
    Methods,
    Schedule,
}

impl Field {
    pub const ALL: [Field; 7] = [
        Field::Title,
        Field::Content,
        Field::Priority,
        Field::Audience,
        Field::Sessions,
        Field::Methods,
        Field::Schedule,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Field::Title => "Title",
            Field::Content => "Content",
            Field::Priority => "Priority",
            Field::Audience => "Audience",
            Field::Sessions => "Sessions",
            Field::Methods => "Send by",
            Field::Schedule => "Schedule",
        }
    }
}

/// What is saved: checked, ready for the SQL API.
#[derive(Debug, Clone, PartialEq)]
pub struct Draft {
    pub title: String,
    pub content: String,
    pub priority: Priority,
    pub audience: Audience,
    pub sessions: Option<Vec<Uuid>>,
    pub methods: Vec<DeliveryMethod>,
}

#[derive(Debug, Clone)]
pub struct Compose {
    /// Editing this draft (None: a new announcement).
    pub editing: Option<Uuid>,
    pub focus: usize,
    pub title: Input,
    pub content: Input,
    pub priority: Priority,
    pub audience: Audience,
    /// Parts of today's session titles, ';'-separated.
    pub sessions: Input,
    /// Target sessions of an edited draft that are not today's (kept as they were).
    pub other_days: Vec<Uuid>,
    pub methods: [bool; METHODS.len()],
    /// Empty: save as a draft. "HH:MM" today, or "YYYY-MM-DD HH:MM", event-local.
    pub schedule: Input,
    /// The sentence shown beside a field that is not right.
    pub errors: Vec<(Field, String)>,
}

/// What a key in the form asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum FormKey {
    Stay,
    Close,
    Save,
}

impl Compose {
    pub fn new() -> Compose {
        Compose {
            editing: None,
            focus: 0,
            title: Input::default(),
            content: Input::default(),
            priority: Priority::Normal,
            audience: Audience::All,
            sessions: Input::default(),
            other_days: Vec::new(),
            methods: [false, true, true, false],
            schedule: Input::default(),
            errors: Vec::new(),
        }
    }

    /// A new announcement another desk began (a session filling up): urgent enough to be high, for the
    /// session's attendees, the cursor at the end of the text for the operator to finish it.
    pub fn notice(title: &str, content: &str, session_label: &str) -> Compose {
        Compose {
            focus: Field::ALL
                .iter()
                .position(|f| *f == Field::Content)
                .unwrap_or(0),
            title: Input::new(title.to_owned()),
            content: Input::new(content.to_owned()),
            priority: Priority::High,
            audience: Audience::Attendees,
            sessions: Input::new(session_label.to_owned()),
            ..Compose::new()
        }
    }

    /// A draft back in the form; its target sessions written as "HH:MM title" from today's list.
    pub fn edit(row: &AnnouncementRow, today: &[TodaySession], offset: FixedOffset) -> Compose {
        Compose {
            editing: Some(row.id),
            focus: 0,
            title: Input::new(row.title.clone()),
            content: Input::new(row.content.clone()),
            priority: row.priority,
            audience: row.audience.unwrap_or(Audience::All),
            sessions: Input::new(
                row.target_sessions
                    .iter()
                    .filter_map(|id| today.iter().find(|s| s.id == *id))
                    .map(|s| session_label(s, offset))
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
            other_days: row
                .target_sessions
                .iter()
                .filter(|id| !today.iter().any(|s| s.id == **id))
                .copied()
                .collect(),
            methods: std::array::from_fn(|i| row.methods.contains(&METHODS[i])),
            schedule: Input::default(),
            errors: Vec::new(),
        }
    }

    pub fn field(&self) -> Field {
        Field::ALL[self.focus]
    }

    pub fn error(&self, field: Field) -> Option<&str> {
        self.errors
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, e)| e.as_str())
    }

    pub fn key(&mut self, key: KeyEvent) -> FormKey {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Esc => return FormKey::Close,
            KeyCode::Char('s') if ctrl => return FormKey::Save,
            KeyCode::F(2) => return FormKey::Save,
            KeyCode::Tab | KeyCode::Down => {
                self.focus = (self.focus + 1) % Field::ALL.len();
                return FormKey::Stay;
            }
            KeyCode::BackTab | KeyCode::Up => {
                self.focus = (self.focus + Field::ALL.len() - 1) % Field::ALL.len();
                return FormKey::Stay;
            }
            _ => {}
        }
        let field = self.field();
        self.errors.retain(|(f, _)| *f != field);
        match field {
            Field::Title => text_key(&mut self.title, key, &mut self.focus),
            Field::Sessions => text_key(&mut self.sessions, key, &mut self.focus),
            Field::Schedule => text_key(&mut self.schedule, key, &mut self.focus),
            Field::Content => {
                if key.code == KeyCode::Enter {
                    // Enter is a new line here; Tab moves on.
                    self.content.handle(InputRequest::InsertChar('\n'));
                } else {
                    self.content.handle_event(&Event::Key(key));
                }
            }
            Field::Priority => cycle(&mut self.priority, key, &mut self.focus),
            Field::Audience => cycle(&mut self.audience, key, &mut self.focus),
            Field::Methods => match key.code {
                KeyCode::Char(c @ '1'..='9') if ((c as u8 - b'1') as usize) < METHODS.len() => {
                    let i = (c as u8 - b'1') as usize;
                    self.methods[i] = !self.methods[i];
                }
                KeyCode::Char(c) => {
                    if let Some(i) = METHODS.iter().position(|m| m.as_str().starts_with(c)) {
                        self.methods[i] = !self.methods[i];
                    }
                }
                KeyCode::Enter => self.focus = (self.focus + 1) % Field::ALL.len(),
                _ => {}
            },
        }
        FormKey::Stay
    }

    /// Checks every field; on success the draft and the schedule time (None: stays a draft).
    pub fn check(
        &mut self,
        sessions: &[TodaySession],
        now: DateTime<Utc>,
        offset: FixedOffset,
    ) -> Option<(Draft, Option<DateTime<Utc>>)> {
        self.errors.clear();
        let title = self.title.value().trim().to_owned();
        if title.is_empty() {
            self.errors
                .push((Field::Title, "a title is required".to_owned()));
        }
        let content = self.content.value().trim_end().to_owned();
        if content.trim().is_empty() {
            self.errors
                .push((Field::Content, "some content is required".to_owned()));
        }
        let methods: Vec<DeliveryMethod> = METHODS
            .iter()
            .zip(self.methods)
            .filter(|(_, on)| *on)
            .map(|(m, _)| *m)
            .collect();
        if methods.is_empty() {
            self.errors
                .push((Field::Methods, "choose at least one".to_owned()));
        }
        let targets = match resolve_sessions(self.sessions.value(), sessions, offset) {
            Ok(ids) if self.other_days.is_empty() => ids,
            Ok(ids) => {
                let mut all = self.other_days.clone();
                all.extend(ids.unwrap_or_default());
                Some(all)
            }
            Err(e) => {
                self.errors.push((Field::Sessions, e));
                None
            }
        };
        let schedule = match parse_when(self.schedule.value(), now, offset) {
            Ok(at) => at,
            Err(e) => {
                self.errors.push((Field::Schedule, e));
                None
            }
        };
        if !self.errors.is_empty() {
            self.focus = Field::ALL
                .iter()
                .position(|f| self.error(*f).is_some())
                .unwrap_or(self.focus);
            return None;
        }
        Some((
            Draft {
                title,
                content,
                priority: self.priority,
                audience: self.audience,
                sessions: targets,
                methods,
            },
            schedule,
        ))
    }
}

impl Default for Compose {
    fn default() -> Self {
        Compose::new()
    }
}

fn text_key(input: &mut Input, key: KeyEvent, focus: &mut usize) {
    if key.code == KeyCode::Enter {
        *focus = (*focus + 1) % Field::ALL.len();
        return;
    }
    input.handle_event(&Event::Key(key));
}

/// Left and Right move through a column's words, round; Enter goes on to the next field.
fn cycle<W: ColumnWords>(value: &mut W, key: KeyEvent, focus: &mut usize) {
    let len = W::ALL.len();
    let at = W::ALL.iter().position(|w| w == value).unwrap_or(0);
    let to = match key.code {
        KeyCode::Left | KeyCode::Char('h') => (at + len - 1) % len,
        KeyCode::Right | KeyCode::Char('l') | KeyCode::Char(' ') => (at + 1) % len,
        KeyCode::Enter => {
            *focus = (*focus + 1) % Field::ALL.len();
            return;
        }
        _ => return,
    };
    if let Some(w) = W::ALL.get(to) {
        *value = *w;
    }
}

/// How a session is written in the form (`TodaySession::label`).
pub fn session_label(session: &TodaySession, offset: FixedOffset) -> String {
    session.label(offset)
}

/// Parts of today's session titles separated by ';' (titles have commas), each naming exactly one
/// session; a part may start with the session's HH:MM start time to pick one of several.
pub fn resolve_sessions(
    text: &str,
    sessions: &[TodaySession],
    offset: FixedOffset,
) -> Result<Option<Vec<Uuid>>, String> {
    let parts: Vec<String> = text
        .split(';')
        .map(|p| p.trim().to_lowercase())
        .filter(|p| !p.is_empty())
        .collect();
    if parts.is_empty() {
        return Ok(None);
    }
    let mut ids = Vec::new();
    for part in parts {
        // "14:00 workshop" names the 14:00 one; "workshop" any whose title contains it.
        let (at, words) = match part.split_once(' ') {
            Some((time, rest)) if NaiveTime::parse_from_str(time, "%H:%M").is_ok() => {
                (Some(time.to_owned()), rest.trim().to_owned())
            }
            _ => (None, part.clone()),
        };
        let matches: Vec<&TodaySession> = sessions
            .iter()
            .filter(|s| s.title.to_lowercase().contains(&words))
            .filter(|s| {
                at.as_deref()
                    .is_none_or(|t| s.start.with_timezone(&offset).format("%H:%M").to_string() == t)
            })
            .collect();
        match matches.as_slice() {
            [one] => ids.push(one.id),
            [] => return Err(format!("no session today matches {part:?}")),
            many => {
                // An exact title wins over the titles that merely contain it, if it is one session.
                let exact: Vec<&&TodaySession> = many
                    .iter()
                    .filter(|s| s.title.to_lowercase() == words)
                    .collect();
                match exact.as_slice() {
                    [one] => ids.push(one.id),
                    _ => {
                        let starts: Vec<String> = many
                            .iter()
                            .take(3)
                            .map(|s| s.start.with_timezone(&offset).format("%H:%M").to_string())
                            .collect();
                        return Err(format!(
                            "{part:?} matches {} sessions (at {}): put the start time first, e.g. \"{} {words}\"",
                            many.len(),
                            starts.join(", "),
                            starts.first().map_or("09:00", String::as_str)
                        ));
                    }
                }
            }
        }
    }
    ids.dedup();
    Ok(Some(ids))
}

/// "" (not scheduled), "HH:MM" (today), or "YYYY-MM-DD HH:MM", event-local; must be in the future.
pub fn parse_when(
    text: &str,
    now: DateTime<Utc>,
    offset: FixedOffset,
) -> Result<Option<DateTime<Utc>>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let today = now.with_timezone(&offset).date_naive();
    let local = if let Ok(time) = NaiveTime::parse_from_str(text, "%H:%M") {
        NaiveDateTime::new(today, time)
    } else if let Ok(at) = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M") {
        at
    } else if NaiveDate::parse_from_str(text, "%Y-%m-%d").is_ok() {
        return Err("add a time: YYYY-MM-DD HH:MM".to_owned());
    } else {
        return Err("type HH:MM (today) or YYYY-MM-DD HH:MM".to_owned());
    };
    let at = offset
        .from_local_datetime(&local)
        .single()
        .ok_or_else(|| "that time does not exist here".to_owned())?
        .with_timezone(&Utc);
    if at <= now {
        return Err(format!("{} has passed", local.format("%H:%M")));
    }
    Ok(Some(at))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 25, 15, 0, 0)
            .single()
            .expect("valid")
    }

    fn toronto() -> FixedOffset {
        FixedOffset::west_opt(5 * 3600).expect("offset")
    }

    fn session(n: u128, title: &str) -> TodaySession {
        TodaySession {
            id: Uuid::from_u128(n),
            title: title.into(),
            start: now(),
        }
    }

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn times_are_event_local_and_in_the_future() {
        // 15:00 UTC is 10:00 in Toronto.
        assert_eq!(
            parse_when("10:30", now(), toronto()),
            Ok(Some(now() + Duration::minutes(30)))
        );
        assert!(parse_when("09:59", now(), toronto()).is_err());
        assert_eq!(
            parse_when("2026-11-26 09:00", now(), toronto()),
            Ok(Some(now() + Duration::hours(23)))
        );
        assert!(parse_when("2026-11-26", now(), toronto()).is_err());
        assert!(parse_when("25:00", now(), toronto()).is_err());
        assert_eq!(parse_when("  ", now(), toronto()), Ok(None));
    }

    #[test]
    fn sessions_resolve_to_exactly_one_each() {
        let mut afternoon = session(4, "Workshop: Postgres, in depth");
        afternoon.start = now() + Duration::hours(4);
        let today = [
            session(1, "Rust in Production"),
            session(2, "Rust for Beginners"),
            session(3, "Keynote"),
            session(5, "Workshop: Postgres, in depth"),
            afternoon,
        ];
        let tz = toronto();
        assert_eq!(
            resolve_sessions("keynote; production", &today, tz),
            Ok(Some(vec![Uuid::from_u128(3), Uuid::from_u128(1)]))
        );
        assert!(resolve_sessions("rust", &today, tz).is_err());
        assert!(resolve_sessions("cooking", &today, tz).is_err());
        assert_eq!(resolve_sessions("", &today, tz), Ok(None));
        // The same workshop twice: the start time (Toronto, 10:00 and 14:00) picks one.
        let twice = resolve_sessions("workshop: postgres, in depth", &today, tz);
        assert!(
            twice.as_ref().is_err_and(|e| e.contains("10:00")),
            "{twice:?}"
        );
        assert_eq!(
            resolve_sessions("14:00 Workshop: Postgres, in depth", &today, tz),
            Ok(Some(vec![Uuid::from_u128(4)]))
        );
        // What the form shows for an edited draft reads back as the same sessions.
        let label = session_label(&today[4], tz);
        assert_eq!(
            resolve_sessions(&label, &today, tz),
            Ok(Some(vec![Uuid::from_u128(4)]))
        );
    }

    #[test]
    fn every_bad_field_is_named_in_place() {
        let mut form = Compose::new();
        form.methods = [false; METHODS.len()];
        form.schedule = Input::new("yesterday".into());
        assert!(form.check(&[], now(), toronto()).is_none());
        for field in [
            Field::Title,
            Field::Content,
            Field::Methods,
            Field::Schedule,
        ] {
            assert!(form.error(field).is_some(), "{field:?} has no message");
        }
        assert_eq!(
            form.field(),
            Field::Title,
            "focus goes to the first problem"
        );
    }

    #[test]
    fn typing_a_form_from_the_keyboard() {
        let mut form = Compose::new();
        for c in "Doors open".chars() {
            form.key(key(KeyCode::Char(c)));
        }
        form.key(key(KeyCode::Tab));
        for c in "Hall A".chars() {
            form.key(key(KeyCode::Char(c)));
        }
        form.key(key(KeyCode::Enter));
        for c in "now".chars() {
            form.key(key(KeyCode::Char(c)));
        }
        form.key(key(KeyCode::Tab));
        form.key(key(KeyCode::Right));
        form.key(key(KeyCode::Right));
        assert_eq!(
            form.key(KeyEvent::new(KeyCode::Char('s'), KeyModifiers::CONTROL)),
            FormKey::Save
        );
        let (draft, at) = form.check(&[], now(), toronto()).expect("valid");
        assert_eq!(draft.title, "Doors open");
        assert_eq!(draft.content, "Hall A\nnow");
        assert_eq!(draft.priority, Priority::Urgent);
        assert_eq!(
            draft.methods,
            vec![DeliveryMethod::Push, DeliveryMethod::InApp]
        );
        assert_eq!(at, None);
    }
}
