//! The small part of Markdown that MCP servers use in the text they send (`instructions`, tool
//! descriptions): paragraphs, headings, bullet and numbered lists, fenced code blocks, code spans,
//! emphasis, strong emphasis and links.
//!
//! Written by hand because the web app renders the result as DOM nodes (never `innerHTML` of what
//! a server sent) and has a strict size budget: a full CommonMark crate would cost the wasm more
//! than the rest of this feature, and its HTML output would have to be sanitised again. HTML in the
//! input stays literal text. Links keep their target only for `http:`, `https:` and `mailto:`;
//! any other target (`javascript:`, `data:`, relative paths) shows its text without a link.

/// A block of text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    Paragraph(Vec<Inline>),
    Heading(Vec<Inline>),
    List {
        ordered: bool,
        items: Vec<Vec<Inline>>,
    },
    /// A fenced code block, verbatim.
    Code(String),
}

/// A run of text inside a block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inline {
    Text(String),
    Code(String),
    Emphasis(Vec<Inline>),
    Strong(Vec<Inline>),
    /// A link whose target passed [`safe_href`].
    Link {
        href: String,
        children: Vec<Inline>,
    },
}

/// Whether a link target may become a link: absolute `http(s)` or `mailto` only.
pub fn safe_href(href: &str) -> bool {
    let lower = href.trim().to_ascii_lowercase();
    ["http://", "https://", "mailto:"]
        .iter()
        .any(|scheme| lower.starts_with(scheme) && lower.len() > scheme.len())
}

/// Splits `text` into blocks.
pub fn parse(text: &str) -> Vec<Block> {
    let mut parser = Blocks::default();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let trimmed = line.trim_start();
        if let Some(fence) = fence_of(trimmed) {
            parser.flush();
            let mut code = Vec::new();
            for line in lines.by_ref() {
                if line.trim_start().starts_with(fence) {
                    break;
                }
                code.push(line);
            }
            parser.blocks.push(Block::Code(code.join("\n")));
        } else if trimmed.is_empty() {
            parser.flush_paragraph();
            parser.blank = true;
        } else if let Some(title) = heading_of(trimmed) {
            parser.flush();
            parser.blocks.push(Block::Heading(inlines(title)));
        } else if let Some((ordered, item)) = list_item_of(trimmed)
            // A numbered item interrupts a paragraph only when it starts at 1 ("2024. was…").
            && (parser.paragraph.is_empty() || !ordered || trimmed.starts_with("1.") || trimmed.starts_with("1)"))
        {
            parser.flush_paragraph();
            if parser.list.as_ref().is_some_and(|(o, _)| *o != ordered) {
                parser.flush_list();
            }
            let (_, items) = parser.list.get_or_insert((ordered, Vec::new()));
            items.push(item.to_owned());
        } else if let (Some((_, items)), false) = (parser.list.as_mut(), parser.blank) {
            // A continuation line of the last item.
            if let Some(last) = items.last_mut() {
                last.push(' ');
                last.push_str(trimmed);
            }
        } else {
            parser.flush_list();
            parser.paragraph.push(trimmed);
        }
        if !trimmed.is_empty() {
            parser.blank = false;
        }
    }
    parser.flush();
    parser.blocks
}

#[derive(Default)]
struct Blocks<'a> {
    blocks: Vec<Block>,
    paragraph: Vec<&'a str>,
    list: Option<(bool, Vec<String>)>,
    /// The previous line was blank (a list continues only with another item).
    blank: bool,
}

impl Blocks<'_> {
    fn flush_paragraph(&mut self) {
        if !self.paragraph.is_empty() {
            let text = self.paragraph.join(" ");
            self.paragraph.clear();
            self.blocks.push(Block::Paragraph(inlines(&text)));
        }
    }

    fn flush_list(&mut self) {
        if let Some((ordered, items)) = self.list.take() {
            let items = items.iter().map(|item| inlines(item)).collect();
            self.blocks.push(Block::List { ordered, items });
        }
    }

    fn flush(&mut self) {
        self.flush_paragraph();
        self.flush_list();
    }
}

fn fence_of(line: &str) -> Option<&'static str> {
    ["```", "~~~"]
        .into_iter()
        .find(|fence| line.starts_with(fence))
}

fn heading_of(line: &str) -> Option<&str> {
    let level = line.bytes().take_while(|b| *b == b'#').count();
    if !(1..=6).contains(&level) {
        return None;
    }
    let rest = &line[level..];
    if rest.is_empty() {
        return Some("");
    }
    rest.starts_with([' ', '\t'])
        .then(|| rest.trim().trim_end_matches('#').trim_end())
}

/// `- item`, `* item`, `+ item`, `1. item`, `1) item`.
fn list_item_of(line: &str) -> Option<(bool, &str)> {
    let digits = line.bytes().take_while(u8::is_ascii_digit).count();
    let (ordered, marker_len) = match line.as_bytes().first()? {
        b'-' | b'*' | b'+' => (false, 1),
        _ if (1..=9).contains(&digits)
            && matches!(line.as_bytes().get(digits), Some(b'.' | b')')) =>
        {
            (true, digits + 1)
        }
        _ => return None,
    };
    let rest = &line[marker_len..];
    if rest.is_empty() {
        return Some((ordered, ""));
    }
    rest.starts_with([' ', '\t'])
        .then(|| (ordered, rest.trim()))
}

/// Parses the inline syntax of one block's text.
pub fn inlines(text: &str) -> Vec<Inline> {
    let mut out = Vec::new();
    let mut plain = String::new();
    let bytes = text.as_bytes();
    let mut at = 0;
    while at < text.len() {
        let parsed = match bytes[at] {
            b'\\' if bytes.get(at + 1).is_some_and(u8::is_ascii_punctuation) => {
                plain.push(char::from(bytes[at + 1]));
                at += 2;
                continue;
            }
            b'`' => code_span(text, at),
            b'*' | b'_' => emphasis(text, at),
            b'[' => link(text, at),
            b'<' => autolink(text, at),
            _ => None,
        };
        match parsed {
            Some((Inline::Text(words), end)) => {
                plain.push_str(&words);
                at = end;
            }
            Some((inline, end)) => {
                if !plain.is_empty() {
                    out.push(Inline::Text(std::mem::take(&mut plain)));
                }
                out.push(inline);
                at = end;
            }
            None => {
                // Copy a whole run of backticks or delimiters, so a longer run is not re-read
                // from its middle; else one character.
                let c = text[at..].chars().next().unwrap_or(' ');
                let len = if matches!(c, '`' | '*' | '_') {
                    text[at..].bytes().take_while(|b| *b == bytes[at]).count()
                } else {
                    c.len_utf8()
                };
                plain.push_str(&text[at..at + len]);
                at += len;
            }
        }
    }
    if !plain.is_empty() {
        out.push(Inline::Text(plain));
    }
    out
}

/// `` `code` ``: a run of n backticks up to the next run of exactly n.
fn code_span(text: &str, at: usize) -> Option<(Inline, usize)> {
    let run = text[at..].bytes().take_while(|b| *b == b'`').count();
    let body_start = at + run;
    let mut search = body_start;
    while let Some(found) = text[search..].find('`') {
        let start = search + found;
        let len = text[start..].bytes().take_while(|b| *b == b'`').count();
        if len == run {
            let inner = text[body_start..start].replace('\n', " ");
            let inner = match inner.strip_prefix(' ').and_then(|i| i.strip_suffix(' ')) {
                Some(stripped) if !stripped.trim().is_empty() => stripped.to_owned(),
                _ => inner,
            };
            return Some((Inline::Code(inner), start + len));
        }
        search = start + len;
    }
    None
}

fn is_word_byte(byte: Option<&u8>) -> bool {
    byte.is_some_and(u8::is_ascii_alphanumeric)
}

/// `*em*`, `_em_`, `**strong**`, `__strong__`. Underscores do not open or close inside a word, so
/// `snake_case_names` stay as they are.
fn emphasis(text: &str, at: usize) -> Option<(Inline, usize)> {
    let bytes = text.as_bytes();
    let delimiter = bytes[at];
    let strong = bytes.get(at + 1) == Some(&delimiter);
    let width = if strong { 2 } else { 1 };
    let marker = &text[at..at + width];
    let body_start = at + width;
    if delimiter == b'_' && at > 0 && is_word_byte(bytes.get(at - 1)) {
        return None;
    }
    if bytes.get(body_start).is_none_or(u8::is_ascii_whitespace) {
        return None;
    }
    let mut search = body_start;
    while let Some(found) = text[search..].find(marker) {
        let close = search + found;
        let end = close + width;
        let closes = close > body_start
            && !bytes[close - 1].is_ascii_whitespace()
            // A single delimiter must not be half of a double one.
            && (strong || bytes.get(end) != Some(&delimiter))
            && (delimiter != b'_' || !is_word_byte(bytes.get(end)));
        if closes {
            let children = inlines(&text[body_start..close]);
            let inline = if strong {
                Inline::Strong(children)
            } else {
                Inline::Emphasis(children)
            };
            return Some((inline, end));
        }
        search = close + width;
    }
    None
}

/// `[text](target)`; an unsafe target leaves the text without a link.
fn link(text: &str, at: usize) -> Option<(Inline, usize)> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut close = None;
    for (offset, byte) in bytes[at..].iter().enumerate() {
        match byte {
            b'[' => depth += 1,
            b']' => {
                depth -= 1;
                if depth == 0 {
                    close = Some(at + offset);
                    break;
                }
            }
            _ => {}
        }
    }
    let close = close?;
    if bytes.get(close + 1) != Some(&b'(') {
        return None;
    }
    // The target ends at the `)` that balances the opening one (`(a(b))` is one target).
    let mut depth = 1usize;
    let target_end = close
        + 2
        + bytes[close + 2..].iter().position(|byte| {
            match byte {
                b'(' => depth += 1,
                b')' => depth -= 1,
                _ => {}
            }
            depth == 0
        })?;
    let target = text[close + 2..target_end].trim();
    // A title (`[a](url "title")`) is dropped; `<url>` loses its brackets.
    let href = target.split_whitespace().next().unwrap_or("");
    let href = href
        .strip_prefix('<')
        .and_then(|h| h.strip_suffix('>'))
        .unwrap_or(href);
    let children = inlines(&text[at + 1..close]);
    let inline = if safe_href(href) {
        Inline::Link {
            href: href.to_owned(),
            children,
        }
    } else {
        Inline::Text(plain_text(&children))
    };
    Some((inline, target_end + 1))
}

/// The words of some inlines, without their formatting.
fn plain_text(inlines: &[Inline]) -> String {
    let mut out = String::new();
    for inline in inlines {
        match inline {
            Inline::Text(text) | Inline::Code(text) => out.push_str(text),
            Inline::Emphasis(children)
            | Inline::Strong(children)
            | Inline::Link { children, .. } => out.push_str(&plain_text(children)),
        }
    }
    out
}

/// `<https://example.com>`.
fn autolink(text: &str, at: usize) -> Option<(Inline, usize)> {
    let end = at + text[at..].find('>')?;
    let target = &text[at + 1..end];
    (safe_href(target) && !target.contains(char::is_whitespace)).then(|| {
        (
            Inline::Link {
                href: target.to_owned(),
                children: vec![Inline::Text(target.to_owned())],
            },
            end + 1,
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Inline {
        Inline::Text(s.into())
    }

    fn code(s: &str) -> Inline {
        Inline::Code(s.into())
    }

    #[test]
    fn code_spans_lose_their_backticks() {
        assert_eq!(
            inlines("`echo` and `add` need `mcp`"),
            vec![
                code("echo"),
                text(" and "),
                code("add"),
                text(" need "),
                code("mcp")
            ]
        );
        assert_eq!(inlines("``a ` b``"), vec![code("a ` b")]);
        assert_eq!(inlines("`` `x` ``"), vec![code("`x`")]);
        assert_eq!(
            inlines("an `unclosed span"),
            vec![text("an `unclosed span")]
        );
    }

    #[test]
    fn emphasis_and_strong_nest_and_leave_snake_case_alone() {
        assert_eq!(
            inlines("*a* **b** _c_ __d__"),
            vec![
                Inline::Emphasis(vec![text("a")]),
                text(" "),
                Inline::Strong(vec![text("b")]),
                text(" "),
                Inline::Emphasis(vec![text("c")]),
                text(" "),
                Inline::Strong(vec![text("d")]),
            ]
        );
        assert_eq!(
            inlines("**run `echo` first**"),
            vec![Inline::Strong(vec![
                text("run "),
                code("echo"),
                text(" first")
            ])]
        );
        assert_eq!(
            inlines("call get_weather_now or snake_case"),
            vec![text("call get_weather_now or snake_case")]
        );
        assert_eq!(inlines("2 * 3 * 4"), vec![text("2 * 3 * 4")]);
        assert_eq!(inlines("**not closed"), vec![text("**not closed")]);
    }

    #[test]
    fn links_keep_only_safe_targets() {
        assert_eq!(
            inlines("see [the docs](https://example.com/x \"title\")."),
            vec![
                text("see "),
                Inline::Link {
                    href: "https://example.com/x".into(),
                    children: vec![text("the docs")]
                },
                text("."),
            ]
        );
        assert_eq!(inlines("[click](javascript:alert(1))"), vec![text("click")]);
        assert_eq!(inlines("[rel](/relative)"), vec![text("rel")]);
        assert_eq!(
            inlines("[wiki](https://en.example/A_(b)) after"),
            vec![
                Inline::Link {
                    href: "https://en.example/A_(b)".into(),
                    children: vec![text("wiki")]
                },
                text(" after")
            ]
        );
        assert_eq!(
            inlines("<https://a.example>"),
            vec![Inline::Link {
                href: "https://a.example".into(),
                children: vec![text("https://a.example")]
            }]
        );
        assert_eq!(inlines("[no target]"), vec![text("[no target]")]);
        assert!(!safe_href("JAVASCRIPT:alert(1)"));
        assert!(!safe_href("https://"));
        assert!(safe_href("MAILTO:a@example.com"));
    }

    #[test]
    fn html_stays_text_and_escapes_work() {
        assert_eq!(
            inlines("<script>alert(1)</script>"),
            vec![text("<script>alert(1)</script>")]
        );
        assert_eq!(inlines(r"\*not em\* \`x\`"), vec![text("*not em* `x`")]);
    }

    #[test]
    fn blocks_paragraphs_lists_headings_and_code() {
        let blocks = parse(
            "# Title\n\nFirst line\nsame paragraph.\n\n- one\n- two\n  continued\n\n1. a\n2) b\n\n```sh\nls -la\n  indented\n```\nafter",
        );
        assert_eq!(
            blocks,
            vec![
                Block::Heading(vec![text("Title")]),
                Block::Paragraph(vec![text("First line same paragraph.")]),
                Block::List {
                    ordered: false,
                    items: vec![vec![text("one")], vec![text("two continued")]]
                },
                Block::List {
                    ordered: true,
                    items: vec![vec![text("a")], vec![text("b")]]
                },
                Block::Code("ls -la\n  indented".into()),
                Block::Paragraph(vec![text("after")]),
            ]
        );
    }

    #[test]
    fn a_list_survives_blank_lines_between_items_but_not_before_a_paragraph() {
        let blocks = parse("* a\n\n* b\n\nprose");
        assert_eq!(
            blocks,
            vec![
                Block::List {
                    ordered: false,
                    items: vec![vec![text("a")], vec![text("b")]]
                },
                Block::Paragraph(vec![text("prose")]),
            ]
        );
    }

    #[test]
    fn not_lists_or_headings() {
        assert_eq!(
            parse("-not an item\n#hashtag\n2024. was a year"),
            vec![Block::Paragraph(vec![text(
                "-not an item #hashtag 2024. was a year"
            )])]
        );
        assert_eq!(parse(""), Vec::<Block>::new());
    }

    proptest::proptest! {
        #[test]
        fn any_text_parses_without_panicking(input in "\\PC{0,200}") {
            let _ = parse(&input);
        }

        #[test]
        fn delimiter_soup_parses_without_panicking(input in "[`*_\\[\\]()<>\\\\a é\n#-1.]{0,80}") {
            let _ = parse(&input);
        }
    }
}
