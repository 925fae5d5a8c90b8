//! Drawing the TUI's state with ratatui: a header with the connection, the tabs, the tab's
//! content, a status line and the keys. Everything fits 80×24; below [`MIN_WIDTH`]×[`MIN_HEIGHT`]
//! the screen only says how large it needs to be (drawing never fails on a small terminal).

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, List, ListItem, ListState, Paragraph, Tabs, Wrap};
use serde_json::Value;

use super::app::{App, Asked, Link, Shown, TABS, Tab, text};
use super::form::Form;

pub const MIN_WIDTH: u16 = 40;
pub const MIN_HEIGHT: u16 = 10;

pub fn draw(frame: &mut Frame, app: &App) {
    let area = frame.area();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        let text = format!(
            "Terminal too small ({}×{}): keyhole tui needs at least {MIN_WIDTH}×{MIN_HEIGHT}. q quits.",
            area.width, area.height
        );
        frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: true }), area);
        return;
    }
    let [header, tabs, body, status, keys] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Min(3),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);
    frame.render_widget(Paragraph::new(header_line(app)), header);
    let titles = TABS
        .iter()
        .enumerate()
        .map(|(i, tab)| format!("{} {}", i + 1, tab.title()));
    let selected = TABS.iter().position(|t| *t == app.tab).unwrap_or(0);
    frame.render_widget(
        Tabs::new(titles)
            .select(selected)
            .highlight_style(Style::new().add_modifier(Modifier::REVERSED)),
        tabs,
    );
    match app.tab {
        Tab::Servers => servers(frame, app, body),
        Tab::Tools => tools(frame, app, body),
        Tab::Resources => resources(frame, app, body),
        Tab::Prompts => prompts(frame, app, body),
        Tab::Protocol => protocol(frame, app, body),
        Tab::Auth => auth(frame, app, body),
    }
    frame.render_widget(Paragraph::new(status_line(app)), status);
    frame.render_widget(Paragraph::new(keys_line(app)).dim(), keys);
    if let Some(asked) = app.asks.front() {
        server_ask(frame, asked, body);
    } else if let Some((url, opened)) = &app.signing_in {
        sign_in(frame, url, *opened, body);
    } else if app.help {
        help(frame, body);
    }
}

fn header_line(app: &App) -> Line<'static> {
    let (mark, text) = match &app.link {
        Link::Idle => ("○", "Not connected: choose a server".to_owned()),
        Link::Connecting(label) => ("…", format!("Connecting to {label}")),
        Link::Connected(line) => ("●", line.clone()),
        Link::Failed(reason) => ("✗", format!("Not connected: {reason}")),
    };
    Line::from(vec![
        Span::from(" Keyhole ").bold(),
        Span::from(format!("{mark} {text}")),
    ])
}

fn status_line(app: &App) -> String {
    match (&app.busy, &app.progress) {
        (Some(busy), Some(progress)) => format!("{busy} {progress} (Esc cancels)"),
        (Some(busy), None) => format!("{busy} (Esc cancels)"),
        _ => app.log.back().cloned().unwrap_or_default(),
    }
}

fn keys_line(app: &App) -> &'static str {
    if app.question.is_some() {
        "y/Enter authorize · n/Esc cancel"
    } else if !app.asks.is_empty() {
        "type · Tab next field · ←/→ choices · Enter send · Esc decline"
    } else if app.editing {
        "type · Tab/↑/↓ fields · ←/→ choices · Enter run · Esc back"
    } else if app.filtering {
        "type to filter · Enter/Esc done"
    } else {
        match app.tab {
            Tab::Servers => "↑/↓ choose · Enter connect · Tab/1-6 tabs · ? keys · q quit",
            Tab::Auth => "t forget tokens · c forget client · Tab/1-6 tabs · ? keys · q quit",
            Tab::Protocol => "↑/↓ choose · End newest · / filter · Tab/1-6 tabs · ? keys · q quit",
            _ => "↑/↓ choose · Enter arguments/run · r run · / filter · ? keys · q quit",
        }
    }
}

/// A list with its selection kept in view.
fn list(frame: &mut Frame, area: Rect, title: String, items: Vec<String>, selected: usize) {
    let items: Vec<ListItem> = items.into_iter().map(ListItem::new).collect();
    let mut state = ListState::default().with_selected(Some(selected));
    let widget = List::new(items)
        .block(Block::bordered().title(title))
        .highlight_style(Style::new().add_modifier(Modifier::REVERSED))
        .highlight_symbol("> ");
    frame.render_stateful_widget(widget, area, &mut state);
}

/// The list on the left, details on the right (stacked when the terminal is narrow).
fn split(area: Rect) -> [Rect; 2] {
    if area.width >= 70 {
        Layout::horizontal([Constraint::Percentage(35), Constraint::Percentage(65)]).areas(area)
    } else {
        Layout::vertical([Constraint::Percentage(40), Constraint::Percentage(60)]).areas(area)
    }
}

fn servers(frame: &mut Frame, app: &App, area: Rect) {
    let items = app
        .servers
        .iter()
        .map(|s| format!("{}  {}", s.name, s.detail))
        .collect();
    list(frame, area, " Servers ".into(), items, app.server_selected);
}

fn tools(frame: &mut Frame, app: &App, area: Rect) {
    let [left, right] = split(area);
    let visible = app.visible_tools();
    let title = match (app.filtering, app.tool_filter.is_empty()) {
        (true, _) => format!(" Tools /{}▏ ", app.tool_filter),
        (false, false) => format!(" Tools /{} ", app.tool_filter),
        _ => format!(" Tools ({}) ", visible.len()),
    };
    let names = visible.iter().map(|t| text(t, "name")).collect();
    list(frame, left, title, names, app.tool_selected);
    let mut lines = Vec::new();
    if let Some(tool) = visible.get(app.tool_selected) {
        lines.push(Line::from(text(tool, "name")).bold());
        lines.extend(
            text(tool, "description")
                .lines()
                .map(|l| Line::from(l.to_owned())),
        );
    }
    details(frame, app, right, lines);
}

fn resources(frame: &mut Frame, app: &App, area: Rect) {
    let [left, right] = split(area);
    let names = app
        .resources
        .iter()
        .map(|r| match r.template {
            true => format!("{} (template)", r.name),
            false => r.name.clone(),
        })
        .collect();
    let title = format!(" Resources ({}) ", app.resources.len());
    list(frame, left, title, names, app.resource_selected);
    let mut lines = Vec::new();
    if let Some(item) = app.resources.get(app.resource_selected) {
        lines.push(Line::from(item.uri.clone()).bold());
        lines.extend(item.description.lines().map(|l| Line::from(l.to_owned())));
    }
    details(frame, app, right, lines);
}

fn prompts(frame: &mut Frame, app: &App, area: Rect) {
    let [left, right] = split(area);
    let names = app.prompts.iter().map(|p| text(p, "name")).collect();
    let title = format!(" Prompts ({}) ", app.prompts.len());
    list(frame, left, title, names, app.prompt_selected);
    let mut lines = Vec::new();
    if let Some(prompt) = app.prompts.get(app.prompt_selected) {
        lines.push(Line::from(text(prompt, "name")).bold());
        lines.extend(
            text(prompt, "description")
                .lines()
                .map(|l| Line::from(l.to_owned())),
        );
    }
    details(frame, app, right, lines);
}

/// The selected item: its heading, its form, and the last answer.
fn details(frame: &mut Frame, app: &App, area: Rect, mut lines: Vec<Line<'static>>) {
    if let Some(form) = app.shown_form().filter(|f| !f.is_empty()) {
        lines.push(Line::from(""));
        lines.extend(form_lines(&form, app.editing));
    }
    if let Some(result) = &app.result {
        lines.push(Line::from(""));
        lines.extend(result_lines(result));
    }
    let widget = Paragraph::new(lines)
        .block(Block::bordered())
        .wrap(Wrap { trim: false });
    frame.render_widget(widget, area);
}

fn form_lines(form: &Form, editing: bool) -> Vec<Line<'static>> {
    form.fields
        .iter()
        .enumerate()
        .map(|(i, field)| {
            let here = editing && i == form.focus;
            let star = if field.required { "*" } else { "" };
            let cursor = if here { "▏" } else { "" };
            let mut spans = vec![
                Span::from(if here { "> " } else { "  " }),
                Span::from(format!("{}{star}", field.name)).bold(),
                Span::from(format!(" ({}): ", field.kind_label())).dim(),
                Span::from(format!("{}{cursor}", field.value)),
            ];
            if !field.choices.is_empty() {
                spans.push(Span::from(format!("  [{}]", field.choices.join("|"))).dim());
            }
            Line::from(spans)
        })
        .collect()
}

fn result_lines(result: &Shown) -> Vec<Line<'static>> {
    let title = Line::from(result.title.clone()).bold();
    let title = if result.error { title.red() } else { title };
    std::iter::once(title)
        .chain(result.lines.iter().map(|l| Line::from(l.clone())))
        .collect()
}

fn protocol(frame: &mut Frame, app: &App, area: Rect) {
    let [top, bottom] =
        Layout::vertical([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(area);
    let visible = app.visible_traffic();
    let items = visible
        .iter()
        .map(|(outgoing, message)| summary(*outgoing, message))
        .collect();
    let title = match (app.filtering, app.traffic_filter.is_empty()) {
        (true, _) => format!(" Protocol /{}▏ ", app.traffic_filter),
        (false, false) => format!(" Protocol /{} ", app.traffic_filter),
        _ => format!(" Protocol ({} messages) ", visible.len()),
    };
    let selected = app.traffic_position();
    list(frame, top, title, items, selected);
    let shown = visible
        .get(selected)
        .map(|(_, message)| serde_json::to_string_pretty(message).unwrap_or_default())
        .unwrap_or_default();
    frame.render_widget(
        Paragraph::new(shown)
            .block(Block::bordered())
            .wrap(Wrap { trim: false }),
        bottom,
    );
}

/// One message in one line: direction, id, method (or result/error).
fn summary(outgoing: bool, message: &Value) -> String {
    let arrow = if outgoing { "→" } else { "←" };
    let id = match &message["id"] {
        Value::Null => String::new(),
        id => format!(
            " #{}",
            id.as_str().map_or_else(|| id.to_string(), str::to_owned)
        ),
    };
    let what = match (message["method"].as_str(), message.get("error")) {
        (Some(method), _) => method.to_owned(),
        (None, Some(error)) => format!("error {}", error["code"]),
        (None, None) => "result".to_owned(),
    };
    format!("{arrow}{id} {what}")
}

fn auth(frame: &mut Frame, app: &App, area: Rect) {
    let mut lines: Vec<Line> = Vec::new();
    if let Some((question, _)) = &app.question {
        lines.push(Line::from("Authorization needed").bold().yellow());
        if let Some(plan) = &question.step_up {
            lines.push(Line::from(plan.message.clone()));
            lines.push(Line::from(format!(
                "  New scopes:      {}",
                plan.new_scopes.join(" ")
            )));
            lines.push(Line::from(format!(
                "  Already granted: {}",
                none_if_empty(&plan.already_granted.join(" "))
            )));
        }
        lines.push(Line::from(question.text.clone()));
        lines.push(Line::from("[y] Authorize    [n] Cancel").bold());
        lines.push(Line::from(""));
    }
    lines.push(Line::from(format!("Server: {}", none_if_empty(&app.url))).bold());
    lines.extend(held_lines(&app.held));
    let inner_width = area.width.saturating_sub(2).max(1) as usize;
    let rows: usize = lines
        .iter()
        .map(|l| l.width().max(1).div_ceil(inner_width))
        .sum();
    let [top, bottom] =
        Layout::vertical([Constraint::Length(rows as u16 + 2), Constraint::Min(3)]).areas(area);
    let widget = Paragraph::new(lines)
        .block(Block::bordered().title(" Auth "))
        .wrap(Wrap { trim: false });
    frame.render_widget(widget, top);
    let steps: Vec<String> = match app.auth_steps.is_empty() {
        true => vec!["(none yet)".into()],
        false => app.auth_steps.iter().cloned().collect(),
    };
    let last = steps.len() - 1;
    list(
        frame,
        bottom,
        " Authorization steps of this connection ".into(),
        steps,
        last,
    );
}

/// What the store holds: authorization server, client, tokens (never their values).
fn held_lines(held: &Value) -> Vec<Line<'static>> {
    if held.is_null() {
        return vec![Line::from("Keyhole holds no tokens for this server.")];
    }
    if let Some(error) = held["error"].as_str() {
        return vec![Line::from(format!(
            "The OAuth store cannot be read: {error}"
        ))];
    }
    let client = &held["client"];
    let tokens = &held["tokens"];
    let mut lines = vec![
        Line::from(format!("Authorization server: {}", text(held, "issuer"))),
        Line::from(match client.is_null() {
            true => "Client: none held".to_owned(),
            false => format!(
                "Client: {} ({})",
                text(client, "clientId"),
                text(client, "source").replace('_', " ")
            ),
        }),
        Line::from(format!(
            "Scopes requested: {}",
            none_if_empty(&text(held, "requestedScopes"))
        )),
    ];
    if tokens.is_null() {
        lines.push(Line::from("Tokens: none held"));
        return lines;
    }
    lines.push(Line::from(format!(
        "Scopes granted: {}",
        none_if_empty(&text(tokens, "scopes"))
    )));
    let expiry = match (tokens["expired"].as_bool(), tokens["expiresAt"].as_u64()) {
        (Some(true), _) => "expired".to_owned(),
        (_, Some(at)) => {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            format!("expires in {} s", at.saturating_sub(now))
        }
        _ => "no expiry given".to_owned(),
    };
    let refresh = match tokens["refreshToken"].as_bool() {
        Some(true) => "refresh token held",
        _ => "no refresh token",
    };
    lines.push(Line::from(format!(
        "Token: {}, {expiry}, {refresh}",
        text(tokens, "tokenType")
    )));
    lines
}

fn none_if_empty(text: &str) -> String {
    match text.trim() {
        "" => "(none)".to_owned(),
        text => text.to_owned(),
    }
}

/// A box in the middle of `area`, cleared.
fn popup(frame: &mut Frame, area: Rect, height: u16) -> Rect {
    let width = area.width.saturating_sub(4).min(76);
    let height = height.min(area.height);
    let x = area.x + (area.width - width) / 2;
    let y = area.y + (area.height - height) / 2;
    let rect = Rect::new(x, y, width, height);
    frame.render_widget(Clear, rect);
    rect
}

fn server_ask(frame: &mut Frame, asked: &Asked, area: Rect) {
    let title = match asked.ask.method.as_str() {
        "sampling/createMessage" => " The server asks for a sampling reply ",
        _ => " The server asks for input ",
    };
    let mut lines = vec![Line::from(asked.message.clone()), Line::from("")];
    lines.extend(form_lines(&asked.form, true));
    lines.push(Line::from(""));
    lines.push(Line::from("Enter send · Esc decline").dim());
    let rect = popup(frame, area, lines.len() as u16 + 4);
    let widget = Paragraph::new(lines)
        .block(Block::bordered().title(title))
        .wrap(Wrap { trim: false });
    frame.render_widget(widget, rect);
}

/// The wait for the browser: the URL in full (wrapped), so it can be opened by hand.
fn sign_in(frame: &mut Frame, url: &str, opened: bool, area: Rect) {
    let first = match opened {
        true => "Sign in in the browser that opened. If it did not, visit:",
        false => "No browser could be started: open this URL to sign in:",
    };
    let lines = vec![
        Line::from(first),
        Line::from(""),
        Line::from(url.to_owned()),
        Line::from(""),
        Line::from(
            "Waiting for the browser. The tab, the selection and what you typed stay as they are.",
        )
        .dim(),
    ];
    let width = area.width.saturating_sub(6).max(1) as usize;
    let height = 8 + url.chars().count().div_ceil(width) as u16;
    let rect = popup(frame, area, height);
    let widget = Paragraph::new(lines)
        .block(Block::bordered().title(" Signing in "))
        .wrap(Wrap { trim: false });
    frame.render_widget(widget, rect);
}

const HELP: &[&str] = &[
    "1-6, Tab, Shift-Tab   switch tabs",
    "↑/↓ (j/k)            choose in a list",
    "Enter                connect; type arguments; run",
    "r                    run the selected tool, resource or prompt",
    "Esc                  stop typing; cancel the request under way",
    "/                    filter tools or protocol messages",
    "End, G (Protocol)    follow the newest message",
    "t / c (Auth tab)     forget tokens / tokens and client",
    "y / n                answer an authorization question",
    "q, Ctrl-C            quit",
];

fn help(frame: &mut Frame, area: Rect) {
    let rect = popup(frame, area, HELP.len() as u16 + 2);
    let lines: Vec<Line> = HELP.iter().map(|l| Line::from(*l)).collect();
    frame.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(" Keys (any key closes) ")),
        rect,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::app::ServerEntry;
    use crate::tui::worker::{Connected, Update};
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;
    use serde_json::json;

    fn app() -> App {
        let (sender, _) = tokio::sync::mpsc::unbounded_channel();
        let entry = ServerEntry {
            name: "demo".into(),
            detail: "http://127.0.0.1:6275/servers/demo/mcp".into(),
            connection: Default::default(),
        };
        let mut app = App::new(vec![entry], sender);
        app.apply(Update::Connected(Box::new(Connected {
            line: "Connected to Demo: MCP 2025-11-25 (session)".into(),
            url: "http://127.0.0.1:6275/servers/demo/mcp".into(),
            tools: vec![
                json!({"name": "echo", "description": "Echoes the message back.",
                "inputSchema": {"properties": {"message": {"type": "string"}}}}),
            ],
            ..Connected::default()
        })));
        app.apply(Update::SignIn {
            url: "http://127.0.0.1:6275/oauth/authorize?".repeat(5),
            opened: false,
        });
        app.help = true;
        app
    }

    fn screen(terminal: &Terminal<TestBackend>) -> String {
        let buffer = terminal.backend().buffer();
        buffer
            .content()
            .chunks(buffer.area.width as usize)
            .map(|row| row.iter().map(|cell| cell.symbol()).collect::<String>())
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn every_tab_draws_at_any_size_without_panicking() {
        let mut app = app();
        for tab in TABS {
            app.tab = tab;
            for (width, height) in [
                (0, 0),
                (1, 1),
                (39, 9),
                (40, 10),
                (41, 11),
                (80, 24),
                (200, 60),
            ] {
                let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
                terminal.draw(|frame| draw(frame, &app)).unwrap();
            }
        }
    }

    #[test]
    fn a_terminal_too_small_says_so_and_80_by_24_shows_everything() {
        let app = app();
        let mut terminal = Terminal::new(TestBackend::new(39, 9)).unwrap();
        terminal.draw(|frame| draw(frame, &app)).unwrap();
        assert!(screen(&terminal).contains("Terminal too small"));
        let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
        terminal.draw(|frame| draw(frame, &app)).unwrap();
        let shown = screen(&terminal);
        for text in [
            "● Connected to Demo",
            "1 Servers",
            "6 Auth",
            "Signing in",
            "q quit",
        ] {
            assert!(shown.contains(text), "{text:?} in\n{shown}");
        }
    }
}
