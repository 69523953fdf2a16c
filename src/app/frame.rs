//! The frame around the desks: header, tab bar, footer, and the overlays (help, confirm, prompts).

use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use super::keymap::{self, Global};
use super::state::{self, Link, Overlay, State, Tone};
use crate::desks::desk::KeyInfo;
use crate::desks::registry::Desks;
use crate::desks::{DeskId, fit};
use crate::ui::widgets::{text_box, wrap};
use crate::ui::{MIN_HEIGHT, MIN_WIDTH, Theme};

/// Draws the whole console.
pub fn render(frame: &mut Frame, state: &State, theme: &Theme) {
    let area = frame.area();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        let text = format!("terminal too small (needs {MIN_WIDTH}x{MIN_HEIGHT})");
        let y = area.height / 2;
        let row = Rect::new(area.x, area.y + y, area.width, 1);
        frame.render_widget(Paragraph::new(text).alignment(Alignment::Center), row);
        return;
    }
    let notice_lines = notice_lines(state, area.width);
    let [header, tabs, body, notice, hints] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(notice_lines.len().max(1) as u16),
        Constraint::Length(1),
    ])
    .areas(area);
    render_header(frame, header, state, theme);
    render_tabs(frame, tabs, state, theme);
    state
        .desks
        .render(state.desk, frame, body, &state.context(), theme);
    render_notice(frame, notice, state, &notice_lines, theme);
    render_hints(frame, hints, state, theme);
    match &state.overlay {
        Some(Overlay::Help) => render_help(frame, body, state, theme),
        Some(Overlay::Confirm(confirm)) => {
            let mut lines: Vec<Line> = confirm.lines.iter().map(|l| Line::raw(l.clone())).collect();
            lines.push(Line::raw(""));
            let button = |label: &str, focused: bool| {
                let style = if focused {
                    theme.selected()
                } else {
                    Style::new()
                };
                Span::styled(format!("[ {label} ]"), style)
            };
            lines.push(Line::from(vec![
                button("Cancel", !confirm.yes_focused),
                Span::raw("   "),
                button("Confirm", confirm.yes_focused),
            ]));
            let style = if confirm.danger {
                theme.bad()
            } else {
                theme.title()
            };
            dialog(frame, body, &confirm.title, lines, style, theme);
        }
        Some(Overlay::Form(form)) => Desks::render_form(form, frame, body, theme),
        Some(Overlay::Prompt(prompt)) => {
            let Some(text) = state::describe(state, prompt) else {
                return;
            };
            let (title, hint) = (text.title, text.hint);
            let mut lines: Vec<Line> = text.lines.into_iter().map(Line::raw).collect();
            let mut field = vec![Span::styled(text.label, theme.header())];
            field.extend(text_box(&prompt.input, 50, true, Style::new(), theme));
            lines.push(Line::from(field));
            match &prompt.error {
                Some(error) => lines.push(Line::styled(error.clone(), theme.bad())),
                None => lines.push(Line::styled(hint, theme.dim())),
            }
            dialog(frame, body, &title, lines, theme.title(), theme);
        }
        None => {}
    }
}

fn render_header(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let (link_text, link_style) = match state.link {
        Link::Connecting => ("CONNECTING".to_owned(), theme.warn()),
        Link::Live => match state.held_back_since {
            // A transaction holds its check-ins back: they show when it commits.
            Some(since) => {
                let secs = (state.now - since).num_seconds().max(0);
                (format!("LIVE, TX OPEN {secs}s"), theme.warn())
            }
            None if state.worker_missing => ("LIVE, NO WORKER".to_owned(), theme.warn()),
            None => ("LIVE".to_owned(), theme.good()),
        },
        Link::Reconnecting { since } => (
            format!("RECONNECTING since {}", state.local(since, "%H:%M:%S")),
            theme.bad(),
        ),
        Link::Stale { since } => (
            format!("STALE since {}", state.local(since, "%H:%M:%S")),
            theme.bad(),
        ),
    };
    let who = format!("{} ({})", state.operator.name, state.operator.role);
    let clock = state.local(state.now, "%H:%M");
    let right_len = clock.len() + who.chars().count().min(30) + link_text.len() + 8;
    let name_room = (area.width as usize).saturating_sub(right_len + 2).max(10);
    let left = Line::from(vec![Span::styled(
        format!(" {}", fit(&state.event.name, name_room)),
        theme.title(),
    )]);
    let right = Line::from(vec![
        Span::styled(clock, theme.header()),
        Span::raw(format!(" {} ", theme.dot())),
        Span::raw(fit(&who, 30)),
        Span::raw(format!(" {} ", theme.dot())),
        Span::styled(link_text, link_style),
        Span::raw(" "),
    ]);
    frame.render_widget(Paragraph::new(left), area);
    frame.render_widget(Paragraph::new(right).alignment(Alignment::Right), area);
}

/// The tabs on one line: full titles with room around them where they fit, else short titles, else short
/// titles packed, else each desk's number and the start of its short title. Badges are always shown.
fn render_tabs(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let desks: Vec<DeskId> = DeskId::ALL
        .iter()
        .copied()
        .filter(|d| state.sees(*d))
        .collect();
    let label = |desk: DeskId, title: String| {
        let mut label = format!("{} {title}", desk.number());
        if let Some(n) = state::badge(state, desk) {
            label.push_str(&format!(" ({n})"));
        }
        label
    };
    #[derive(Clone, Copy)]
    enum Titles {
        Full,
        Short,
        Clipped,
    }
    let title = |d: DeskId, titles: Titles| match titles {
        Titles::Full => d.title().to_owned(),
        Titles::Short => d.short_title().to_owned(),
        Titles::Clipped => d.short_title().chars().take(4).collect(),
    };
    // (the desks' titles, spaces inside each tab's highlight, spaces after it)
    let layouts = [
        (Titles::Full, 1, 1),
        (Titles::Short, 1, 0),
        (Titles::Short, 0, 1),
        (Titles::Clipped, 0, 1),
    ];
    let width_of = |(titles, pad, gap): (Titles, usize, usize)| {
        1 + desks
            .iter()
            .map(|d| label(*d, title(*d, titles)).chars().count() + 2 * pad + gap)
            .sum::<usize>()
    };
    let (titles, pad, gap) = layouts
        .iter()
        .copied()
        .find(|l| width_of(*l) <= usize::from(area.width))
        .unwrap_or(layouts[layouts.len() - 1]);
    let mut spans = vec![Span::raw(" ")];
    for desk in desks {
        let style = if desk == state.desk {
            theme.selected().patch(theme.header())
        } else {
            Style::new()
        };
        let padding = " ".repeat(pad);
        spans.push(Span::styled(
            format!("{padding}{}{padding}", label(desk, title(desk, titles))),
            style,
        ));
        spans.push(Span::raw(" ".repeat(gap)));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// Rows a notice may take: a refusal's last words often say what to do ("raise the capacity first"), so
/// a long one wraps instead of being cut; past this it is cut with `~`.
const NOTICE_ROWS: usize = 3;

/// The notice as the rows it takes at `width` (none when there is no notice).
fn notice_lines(state: &State, width: u16) -> Vec<String> {
    let Some(notice) = &state.notice else {
        return Vec::new();
    };
    let mut lines = wrap(&notice.text, usize::from(width).saturating_sub(2).max(1));
    if lines.len() > NOTICE_ROWS {
        let rest = lines.split_off(NOTICE_ROWS - 1).join(" ");
        lines.push(fit(&rest, usize::from(width).saturating_sub(2)));
    }
    lines
}

fn render_notice(frame: &mut Frame, area: Rect, state: &State, lines: &[String], theme: &Theme) {
    let Some(notice) = &state.notice else {
        return;
    };
    let style = match notice.tone {
        Tone::Info => Style::new(),
        Tone::Good => theme.good(),
        Tone::Bad => theme.bad(),
    };
    let lines: Vec<Line> = lines
        .iter()
        .map(|l| Line::styled(format!(" {l}"), style))
        .collect();
    frame.render_widget(Paragraph::new(lines), area);
}

/// The footer's key hints: the desk's actions the operator may use, then help and quit.
pub fn hints(state: &State) -> Vec<(String, String)> {
    let pair = |k: &str, v: &str| (k.to_owned(), v.to_owned());
    match &state.overlay {
        Some(Overlay::Help) => return vec![pair("Esc", "close help")],
        Some(Overlay::Confirm(_)) => {
            return vec![
                pair("y", "confirm"),
                pair("n/Esc", "cancel"),
                pair("Left/Right", "move"),
            ];
        }
        Some(Overlay::Form(_)) => {
            return vec![
                pair("Ctrl-S", "save"),
                pair("Tab", "next field"),
                pair("Esc", "close"),
            ];
        }
        Some(Overlay::Prompt(_)) => return vec![pair("Enter", "next"), pair("Esc", "cancel")],
        None => {}
    }
    if let Some(footer) = state.desks.footer(state.desk) {
        return footer.into_iter().map(|(k, v)| pair(k, v)).collect();
    }
    if state.typing() {
        return vec![
            pair("Enter", "done"),
            pair("Esc", "cancel"),
            pair("Ctrl-C", "quit"),
        ];
    }
    let mut out = Vec::new();
    let desk_keys = state.desks.keys(state.desk);
    let global_keys = keymap::GLOBAL
        .iter()
        .map(|b| (b.info(true), Some(b.action)));
    for (key, global) in desk_keys.into_iter().map(|k| (k, None)).chain(global_keys) {
        let Some(word) = key.hint else { continue };
        if !key.offered
            || key
                .needs
                .is_some_and(|permission| !state.permissions.has(permission))
        {
            continue;
        }
        if global == Some(Global::Help) {
            out.push(pair(&format!("1-{}", DeskId::ALL.len()), "desks"));
        }
        out.push(pair(key.label, word));
    }
    out
}

fn render_hints(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let mut spans = vec![Span::raw(" ")];
    let mut used = 1;
    for (key, word) in hints(state) {
        let len = key.chars().count() + word.chars().count() + 3;
        if used + len > area.width as usize {
            break;
        }
        used += len;
        spans.push(Span::styled(key, theme.key()));
        spans.push(Span::raw(format!(" {word}  ")));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn render_help(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let line = |label: &str, help: &str, needs: Option<crate::desks::Permission>| {
        let mut help = help.to_owned();
        if let Some(permission) = needs
            && !state.permissions.has(permission)
        {
            help = format!("{help} [your role lacks {}]", permission.words());
        }
        Line::from(vec![
            Span::styled(format!("{label:<7}"), theme.key()),
            Span::raw(help),
        ])
    };
    let mut desk_lines = vec![Line::styled(
        format!("{} desk", state.desk.title()),
        theme.header(),
    )];
    for key in state.desks.keys(state.desk) {
        let KeyInfo {
            label, help, needs, ..
        } = key;
        desk_lines.push(line(label, help, needs));
    }
    let mut global_lines = vec![Line::styled("Everywhere", theme.header())];
    for binding in keymap::GLOBAL {
        if binding.action == Global::DeskByNumber {
            // One line per desk: its number and title.
            for desk in DeskId::ALL {
                let help = format!("{} desk", desk.title());
                global_lines.push(line(&desk.number().to_string(), &help, None));
            }
            continue;
        }
        global_lines.push(line(binding.label, binding.help, binding.needs));
    }
    if desk_lines.len() == 1 {
        desk_lines.push(Line::styled("no keys of its own yet", theme.dim()));
    }
    frame.render_widget(Clear, area);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_set(theme.border())
        .border_style(theme.title())
        .title(Span::styled(" Keys (Esc closes) ", theme.title()));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let [left, right] =
        Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)])
            .spacing(2)
            .areas(inner);
    frame.render_widget(Paragraph::new(desk_lines).wrap(Wrap { trim: true }), left);
    frame.render_widget(Paragraph::new(global_lines), right);
}

/// A centred box over `area`, sized to its lines.
fn dialog(
    frame: &mut Frame,
    area: Rect,
    title: &str,
    lines: Vec<Line>,
    style: Style,
    theme: &Theme,
) {
    let width = (lines.iter().map(Line::width).max().unwrap_or(20) as u16 + 4)
        .clamp(40, area.width.saturating_sub(4).max(1));
    // Long lines are wrapped here, so the height counts every row and the buttons' row is never
    // pushed out of the box.
    let inner = usize::from(width.saturating_sub(2)).max(1);
    let lines: Vec<Line> = lines
        .into_iter()
        .flat_map(|line| {
            if line.width() <= inner {
                return vec![line];
            }
            let text: String = line.spans.iter().map(|s| s.content.as_ref()).collect();
            let style = line.style;
            wrap(&text, inner)
                .into_iter()
                .map(|row| Line::styled(row, style))
                .collect()
        })
        .collect();
    let height = (lines.len() as u16 + 2).min(area.height);
    let x = area.x + (area.width.saturating_sub(width)) / 2;
    let y = area.y + (area.height.saturating_sub(height)) / 2;
    let rect = Rect::new(x, y, width, height);
    frame.render_widget(Clear, rect);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_set(theme.border())
        .border_style(style)
        .title(Span::styled(format!(" {title} "), style));
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false }),
        rect,
    );
}

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn words_wrap_and_a_long_word_is_split() {
        assert_eq!(
            wrap("raise the capacity first", 10),
            ["raise the", "capacity", "first"]
        );
        assert_eq!(wrap("ABCDEFGHIJKL", 5), ["ABCDE", "FGHIJ", "KL"]);
        assert_eq!(wrap("", 5), Vec::<String>::new());
    }
}
