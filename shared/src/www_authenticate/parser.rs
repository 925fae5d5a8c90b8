//! The line-level grammar: splits one header line into challenges and parameters, recovering from
//! malformed input instead of stopping. Semantic checks live in `lint`.
//!
//! Every character is looked at a bounded number of times (a failed `token68` attempt is re-read
//! as a parameter, once; a search for a closing single quote either jumps past it or finds none
//! for the rest of the line), so the work is linear in the line's length.

use super::{Challenge, DiagnosticKind, DiagnosticSink, MAX_PARAMETERS};

/// Parses one header line, keeping at most `max_challenges` challenges.
pub(super) fn parse_line(
    text: &str,
    max_challenges: usize,
    sink: &mut DiagnosticSink<'_>,
) -> Vec<Challenge> {
    let mut parser = LineParser {
        chars: text.chars().collect(),
        pos: 0,
        sink,
        challenges: Vec::new(),
        max_challenges,
        dropped_params: 0,
    };
    parser.run();
    parser.report_dropped_params();
    parser.challenges
}

/// `tchar` of RFC 9110 §5.6.2.
fn is_tchar(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c)
}

/// The characters of `token68` before its `=` padding (RFC 9110 §11.2).
fn is_token68_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-._~+/".contains(c)
}

fn is_ows(c: char) -> bool {
    c == ' ' || c == '\t'
}

/// A short, printable excerpt for messages (input can be arbitrarily long or binary).
fn excerpt(chars: &[char]) -> String {
    const MAX: usize = 24;
    let mut out: String = chars
        .iter()
        .take(MAX)
        .flat_map(|c| c.escape_debug())
        .collect();
    if chars.len() > MAX {
        out.push('…');
    }
    out
}

/// What the previous list element was, to detect a missing comma before the next one.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Prev {
    /// Start of line or just after a comma.
    Separator,
    /// A complete element (parameter, or scheme with or without token68).
    Element,
    /// A scheme followed by whitespace: its parameters may follow without a comma.
    SchemeAwaitingParams,
}

struct LineParser<'s, 'd> {
    chars: Vec<char>,
    pos: usize,
    sink: &'s mut DiagnosticSink<'d>,
    challenges: Vec<Challenge>,
    max_challenges: usize,
    /// Parameters of the current challenge beyond [`MAX_PARAMETERS`], not kept.
    dropped_params: usize,
}

impl LineParser<'_, '_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    /// Skips optional whitespace; returns how much was skipped.
    fn skip_ows(&mut self) -> usize {
        let start = self.pos;
        while self.peek().is_some_and(is_ows) {
            self.pos += 1;
        }
        self.pos - start
    }

    fn report(&mut self, kind: DiagnosticKind, message: String) {
        self.sink.push(kind, message);
    }

    fn run(&mut self) {
        let mut prev = Prev::Separator;
        loop {
            self.skip_ows();
            match self.peek() {
                None => break,
                Some(',') => {
                    self.pos += 1;
                    prev = Prev::Separator;
                }
                Some(c) if is_tchar(c) => prev = self.element(prev),
                Some(_) => {
                    self.skip_unexpected();
                    prev = Prev::Separator;
                }
            }
        }
    }

    /// Parses a parameter or a new challenge starting at a token character.
    fn element(&mut self, prev: Prev) -> Prev {
        let name = self.read_token();
        let after_name = self.pos;
        self.skip_ows();
        if self.peek() == Some('=') {
            let name = name.to_ascii_lowercase();
            if prev == Prev::Element {
                self.report(
                    DiagnosticKind::MissingComma,
                    format!("a comma is missing before the parameter `{name}`"),
                );
            }
            self.pos += 1;
            self.skip_ows();
            let value = self.read_value(&name);
            self.attach(name, value);
            return Prev::Element;
        }

        if prev != Prev::Separator {
            self.report(
                DiagnosticKind::MissingComma,
                format!("a comma is missing before the challenge `{name}`"),
            );
        }
        self.report_dropped_params();
        if self.challenges.len() >= self.max_challenges {
            let rest = self.chars.len() - (after_name - name.chars().count());
            self.report(
                DiagnosticKind::Truncated,
                format!(
                    "only the first {} challenges are read; the rest of the line ({rest} characters) was not",
                    super::MAX_CHALLENGES
                ),
            );
            self.pos = self.chars.len();
            return Prev::Element;
        }
        self.pos = after_name;
        let had_space = self.skip_ows() > 0;
        let mut challenge = Challenge {
            scheme: name,
            token68: None,
            params: Vec::new(),
        };
        let next = match self.peek() {
            Some(',') | None => Prev::Element,
            Some(_) if had_space => match self.try_token68() {
                Some(token) => {
                    challenge.token68 = Some(token);
                    Prev::Element
                }
                None => Prev::SchemeAwaitingParams,
            },
            Some(_) => Prev::Element,
        };
        self.challenges.push(challenge);
        next
    }

    fn read_token(&mut self) -> String {
        let start = self.pos;
        while self.peek().is_some_and(is_tchar) {
            self.pos += 1;
        }
        self.chars[start..self.pos].iter().collect()
    }

    /// Accepts `token68` at the cursor only if it is the whole rest of the list element.
    fn try_token68(&mut self) -> Option<String> {
        let start = self.pos;
        let mut i = start;
        while self.chars.get(i).copied().is_some_and(is_token68_char) {
            i += 1;
        }
        if i == start {
            return None;
        }
        let padding_start = i;
        while self.chars.get(i) == Some(&'=') {
            i += 1;
        }
        let end = i;
        while self.chars.get(i).copied().is_some_and(is_ows) {
            i += 1;
        }
        match self.chars.get(i) {
            // `name=, other=…` is a parameter list with an empty value, not a padded token68:
            // a token68 challenge cannot be followed by parameters.
            Some(',') if end > padding_start && self.param_follows(i) => None,
            None | Some(',') => {
                self.pos = end;
                Some(self.chars[start..end].iter().collect())
            }
            Some(_) => None,
        }
    }

    /// Whether the next list element after position `i` (skipping commas) is `name =`.
    fn param_follows(&self, mut i: usize) -> bool {
        let at = |i: usize| self.chars.get(i).copied();
        while at(i).is_some_and(|c| c == ',' || is_ows(c)) {
            i += 1;
        }
        let name_start = i;
        while at(i).is_some_and(is_tchar) {
            i += 1;
        }
        if i == name_start {
            return false;
        }
        while at(i).is_some_and(is_ows) {
            i += 1;
        }
        at(i) == Some('=')
    }

    fn attach(&mut self, name: String, value: String) {
        match self.challenges.last_mut() {
            Some(challenge) if challenge.params.len() >= MAX_PARAMETERS => self.dropped_params += 1,
            Some(challenge) => challenge.params.push((name, value)),
            None => self.report(
                DiagnosticKind::ParameterWithoutChallenge,
                format!(
                    "the parameter `{name}` comes before any authentication scheme and was ignored"
                ),
            ),
        }
    }

    fn read_value(&mut self, name: &str) -> String {
        match self.peek() {
            Some('"') => {
                let (value, closed) = self.read_quoted(name);
                if !closed {
                    self.report(
                        DiagnosticKind::UnterminatedString,
                        format!("the quoted value of `{name}` is never closed; it was read to the end of the line"),
                    );
                }
                value
            }
            Some('\'') => self.read_single_quoted(name),
            None | Some(',') => {
                self.report(
                    DiagnosticKind::MissingValue,
                    format!("the parameter `{name}` has no value; an empty value was recorded"),
                );
                String::new()
            }
            Some(_) => self.read_bare(name),
        }
    }

    /// A quoted-string at the cursor, unescaped; `false` when the line ended before the quote.
    fn read_quoted(&mut self, name: &str) -> (String, bool) {
        self.pos += 1;
        let mut value = String::new();
        let mut control = false;
        while let Some(c) = self.peek() {
            self.pos += 1;
            match c {
                '"' => {
                    self.report_control(control, name);
                    return (value, true);
                }
                '\\' => match self.peek() {
                    Some(escaped) => {
                        self.pos += 1;
                        control |= escaped.is_control() && escaped != '\t';
                        value.push(escaped);
                    }
                    None => break,
                },
                c => {
                    control |= c.is_control() && c != '\t';
                    value.push(c);
                }
            }
        }
        self.report_control(control, name);
        (value, false)
    }

    fn report_control(&mut self, found: bool, name: &str) {
        if found {
            self.report(
                DiagnosticKind::ControlCharacter,
                format!("the quoted value of `{name}` contains a control character"),
            );
        }
    }

    /// Says how many parameters of the challenge just finished were not kept.
    fn report_dropped_params(&mut self) {
        if self.dropped_params == 0 {
            return;
        }
        let total = MAX_PARAMETERS + self.dropped_params;
        let scheme = self
            .challenges
            .last()
            .map(|c| c.scheme.clone())
            .unwrap_or_default();
        self.dropped_params = 0;
        self.report(
            DiagnosticKind::Truncated,
            format!(
                "the {scheme} challenge has {total} parameters; only the first {MAX_PARAMETERS} were kept"
            ),
        );
    }

    /// `'…'` is not HTTP syntax, but servers send it; take the text between the quotes.
    fn read_single_quoted(&mut self, name: &str) -> String {
        let open = self.pos;
        let close = self.chars[open + 1..].iter().position(|&c| c == '\'');
        let Some(offset) = close else {
            // A lone apostrophe is a legal token character.
            return self.read_bare(name);
        };
        let close = open + 1 + offset;
        self.pos = close + 1;
        self.report(
            DiagnosticKind::SingleQuotedValue,
            format!("the value of `{name}` uses single quotes, which HTTP does not recognise; the quotes were removed"),
        );
        self.chars[open + 1..close].iter().collect()
    }

    /// An unquoted value, read leniently up to whitespace or a comma.
    fn read_bare(&mut self, name: &str) -> String {
        let start = self.pos;
        while self.peek().is_some_and(|c| c != ',' && !is_ows(c)) {
            self.pos += 1;
        }
        let value: String = self.chars[start..self.pos].iter().collect();
        if value.chars().all(is_tchar) {
            return value;
        }
        if value.contains("://") {
            self.report(
                DiagnosticKind::UnquotedUrl,
                format!("the URL in `{name}` is not quoted; it was accepted up to the next comma or space"),
            );
        } else {
            self.report(
                DiagnosticKind::InvalidTokenValue,
                format!(
                    "the unquoted value of `{name}` (`{}`) contains characters that need quoting",
                    excerpt(&self.chars[start..self.pos])
                ),
            );
        }
        value
    }

    /// Skips what cannot start a list element (a stray quoted string or punctuation).
    fn skip_unexpected(&mut self) {
        let start = self.pos;
        if self.peek() == Some('"') {
            self.read_quoted("");
            self.report(
                DiagnosticKind::UnexpectedCharacter,
                "a quoted string appeared where a scheme or parameter was expected and was skipped"
                    .into(),
            );
            return;
        }
        while self
            .peek()
            .is_some_and(|c| !(is_tchar(c) || is_ows(c) || c == ',' || c == '"'))
        {
            self.pos += 1;
        }
        let skipped = excerpt(&self.chars[start..self.pos]);
        self.report(
            DiagnosticKind::UnexpectedCharacter,
            format!("unexpected `{skipped}` was skipped"),
        );
    }
}
