//! Parsing `WWW-Authenticate` (RFC 9110 §11.6.1, with the Bearer rules of RFC 6750 §3).
//!
//! Recovery decisions hang on a handful of parameters (`error`, `scope`, `resource_metadata`), and
//! servers in the wild get the syntax subtly wrong. Scanning raw text for `scope=` picks up
//! `error_scope=` or text inside another quoted value, so this module implements the grammar and
//! reports every deviation it tolerated as a [`Diagnostic`] the UI can show to the server author.
//!
//! # Why not the `http-auth` crate
//! `http-auth` has a careful RFC 7235 challenge parser, and we checked it against our cases. It
//! loses on three of them: it deliberately rejects `token68` challenges (required here, padding
//! included), it rejects non-ASCII bytes and takes only `&str` (we must accept any bytes and say
//! what was wrong), and on the first syntax error it yields an error and stops, with no notion of
//! a warning. Our cases need the opposite — keep going past an unterminated string, a missing
//! comma, a single-quoted or unquoted URL value, and *report* each one — plus Bearer-specific
//! checks (duplicate or relative `resource_metadata`, wrong-case `error`). The grammar is small,
//! so we own a lenient parser with diagnostics instead of wrapping a strict one.
//!
//! # Behaviour
//! * Each header line is parsed on its own (equivalent to the RFC's comma-joined list for valid
//!   input), so an unterminated string cannot swallow the following line.
//! * Scheme names keep their spelling (compare with [`Challenge::is_scheme`]); parameter names are
//!   lower-cased; quoted values are unescaped.
//! * A parameter name that repeats is kept in `params` (all occurrences, in order) and reported;
//!   [`Challenge::param`] returns the first one.
//! * Unquoted values are read up to the next comma or whitespace, so an unquoted URL survives;
//!   anything that is not a valid token is reported.
//! * `Bearer name=, other="…"` is an empty parameter, not a padded token68: a token68 challenge
//!   cannot carry parameters, so the following `other=` decides it.
//! * The parser never panics; anything it cannot place is skipped with a diagnostic.
//!
//! # Limits
//! The header comes from the server under inspection, which may be broken or hostile, and the
//! backend parses it on its async threads (again after every token swap on the event stream). So
//! the work is linear in the input and the input is bounded: at most [`MAX_HEADER_BYTES`] of all
//! lines together, [`MAX_CHALLENGES`] challenges, [`MAX_PARAMETERS`] parameters per challenge and
//! [`MAX_DIAGNOSTICS`] diagnostics are kept. Whatever is cut is reported with a
//! [`DiagnosticKind::Truncated`] diagnostic that says what and how much. Real challenges are a few
//! hundred bytes with a handful of parameters, far below every limit; at the limits a parse takes
//! well under a millisecond (`cargo bench -p keyhole-shared --bench www_authenticate`).

mod lint;
mod parser;

/// The most header bytes read, over all lines of one response; the rest is cut.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;
/// The most challenges kept from one response.
pub const MAX_CHALLENGES: usize = 32;
/// The most parameters kept per challenge.
pub const MAX_PARAMETERS: usize = 64;
/// The most diagnostics kept (one more says how many were left out).
pub const MAX_DIAGNOSTICS: usize = 64;

use serde::{Deserialize, Serialize};

/// One challenge: `scheme [token68 | #auth-param]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Challenge {
    pub scheme: String,
    pub token68: Option<String>,
    /// `(lower-case name, unescaped value)` in header order, duplicates included.
    pub params: Vec<(String, String)>,
}

impl Challenge {
    /// Case-insensitive comparison of the scheme name.
    pub fn is_scheme(&self, scheme: &str) -> bool {
        self.scheme.eq_ignore_ascii_case(scheme)
    }

    /// The first value of the parameter `name` (case-insensitive).
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// What kind of irregularity a [`Diagnostic`] reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DiagnosticKind {
    /// The header bytes were not valid UTF-8; they were decoded with replacement characters.
    InvalidUtf8,
    /// A header line held no challenge at all.
    EmptyHeader,
    /// A quoted (or single-quoted) value ran to the end of the line.
    UnterminatedString,
    /// Two list elements were not separated by a comma.
    MissingComma,
    /// A character that fits nowhere in the grammar was skipped.
    UnexpectedCharacter,
    /// A parameter appeared before any scheme and was dropped.
    ParameterWithoutChallenge,
    /// `name=` with no value; an empty value was recorded.
    MissingValue,
    /// A URL value was sent without quotes (accepted).
    UnquotedUrl,
    /// An unquoted value contains characters a token may not (accepted).
    InvalidTokenValue,
    /// A value was wrapped in single quotes, which HTTP does not recognise (accepted, quotes removed).
    SingleQuotedValue,
    /// A quoted value contains a control character.
    ControlCharacter,
    /// A challenge carries both a token68 and parameters.
    Token68WithParameters,
    /// A parameter name occurs more than once in one challenge; the first value is used.
    DuplicateParameter,
    /// `resource_metadata` is not an absolute URL.
    RelativeResourceMetadata,
    /// A Bearer `error` code uses the wrong letter case (accepted case-insensitively).
    WrongCaseErrorValue,
    /// `error="insufficient_scope"` without a `scope` parameter: the client cannot know what to ask.
    InsufficientScopeWithoutScope,
    /// The header exceeded a limit (bytes, challenges, parameters or diagnostics); the message says
    /// what was cut.
    Truncated,
}

/// One tolerated irregularity, with a message for people.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnostic {
    pub kind: DiagnosticKind,
    pub message: String,
}

/// Everything found in a set of `WWW-Authenticate` lines.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParsedHeader {
    pub challenges: Vec<Challenge>,
    pub diagnostics: Vec<Diagnostic>,
}

impl ParsedHeader {
    /// The first challenge whose scheme is `Bearer`.
    pub fn bearer(&self) -> Option<&Challenge> {
        self.challenges.iter().find(|c| c.is_scheme("bearer"))
    }

    /// The Bearer challenge, else the first `DPoP` one (RFC 9449 §7.1: a server that requires
    /// DPoP-bound tokens challenges with that scheme, with the same parameters).
    pub fn bearer_or_dpop(&self) -> Option<&Challenge> {
        self.bearer().or_else(|| {
            self.challenges
                .iter()
                .find(|c| c.is_scheme(crate::dpop::SCHEME))
        })
    }

    pub fn has_diagnostic(&self, kind: DiagnosticKind) -> bool {
        self.diagnostics.iter().any(|d| d.kind == kind)
    }
}

/// Parses every `WWW-Authenticate` header line of one response, within the limits above.
pub fn parse(lines: &[&[u8]]) -> ParsedHeader {
    let mut out = ParsedHeader::default();
    let mut suppressed = 0usize;
    let mut budget = MAX_HEADER_BYTES;
    for (index, bytes) in lines.iter().enumerate() {
        let label = (lines.len() > 1).then(|| format!("header line {}: ", index + 1));
        let mut sink = DiagnosticSink {
            prefix: label.unwrap_or_default(),
            out: &mut out.diagnostics,
            suppressed: &mut suppressed,
        };
        if budget == 0 || out.challenges.len() >= MAX_CHALLENGES {
            let rest: usize = lines[index..].iter().map(|l| l.len()).sum();
            let why = if budget == 0 {
                format!("the header is longer than {MAX_HEADER_BYTES} bytes")
            } else {
                format!("only the first {MAX_CHALLENGES} challenges are read")
            };
            sink.push(
                DiagnosticKind::Truncated,
                format!(
                    "{why}; {} more line(s) ({rest} bytes) were not read",
                    lines.len() - index
                ),
            );
            break;
        }
        let kept = utf8_cut(bytes, budget);
        budget -= kept.len();
        if kept.len() < bytes.len() {
            sink.push(
                DiagnosticKind::Truncated,
                format!(
                    "the header is longer than {MAX_HEADER_BYTES} bytes; the last {} bytes of this line were not read",
                    bytes.len() - kept.len()
                ),
            );
        }
        let text = String::from_utf8_lossy(kept);
        if std::str::from_utf8(kept).is_err() {
            sink.push(
                DiagnosticKind::InvalidUtf8,
                "the value is not valid UTF-8; invalid bytes were replaced with U+FFFD".into(),
            );
        }
        let room = MAX_CHALLENGES - out.challenges.len();
        let found = parser::parse_line(&text, room, &mut sink);
        if found.is_empty() {
            sink.push(
                DiagnosticKind::EmptyHeader,
                "the header line contains no challenge".into(),
            );
        }
        for challenge in &found {
            lint::check(challenge, &mut sink);
        }
        out.challenges.extend(found);
    }
    if suppressed > 0 {
        out.diagnostics.push(Diagnostic {
            kind: DiagnosticKind::Truncated,
            message: format!(
                "{suppressed} more diagnostic(s) were not recorded (only the first {MAX_DIAGNOSTICS} are kept)"
            ),
        });
    }
    out
}

/// The first `limit` bytes of `bytes`, moved back to the start of a UTF-8 sequence so the cut does
/// not itself produce an invalid character.
pub(crate) fn utf8_cut(bytes: &[u8], limit: usize) -> &[u8] {
    if bytes.len() <= limit {
        return bytes;
    }
    let mut end = limit;
    while end > 0 && limit - end < 3 && (bytes[end] & 0xC0) == 0x80 {
        end -= 1;
    }
    &bytes[..end]
}

/// Convenience for a single line that is already text.
pub fn parse_str(line: &str) -> ParsedHeader {
    parse(&[line.as_bytes()])
}

/// Collects diagnostics, prefixing them with the line they came from when there are several, and
/// counting (not keeping) those past [`MAX_DIAGNOSTICS`].
pub(crate) struct DiagnosticSink<'a> {
    prefix: String,
    out: &'a mut Vec<Diagnostic>,
    suppressed: &'a mut usize,
}

impl DiagnosticSink<'_> {
    pub(crate) fn push(&mut self, kind: DiagnosticKind, message: String) {
        if self.out.len() >= MAX_DIAGNOSTICS {
            *self.suppressed += 1;
            return;
        }
        self.out.push(Diagnostic {
            kind,
            message: format!("{}{}", self.prefix, message),
        });
    }
}
