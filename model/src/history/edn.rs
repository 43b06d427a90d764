//! Just enough EDN to read Jepsen histories: maps, vectors, lists, sets, keywords, strings,
//! integers, nil and booleans; tagged literals are read as their value.
//!
//! ```
//! use replsim_model::history::edn::{parse_forms, Edn};
//! let forms = parse_forms("{:process 0, :type :invoke, :f :read, :value nil}").unwrap();
//! assert_eq!(forms[0].value.get_keyword("type"), Some(&Edn::Keyword("invoke".into())));
//! ```

use std::fmt;

#[derive(Clone, Debug, PartialEq)]
pub enum Edn {
    Nil,
    Bool(bool),
    Integer(i64),
    /// Kept as written: histories use floats only for fields the checker ignores.
    Float(String),
    String(String),
    /// Without the leading colon.
    Keyword(String),
    Symbol(String),
    Vector(Vec<Edn>),
    List(Vec<Edn>),
    Set(Vec<Edn>),
    Map(Vec<(Edn, Edn)>),
}

impl Edn {
    /// The value of `:name` in a map.
    pub fn get_keyword(&self, name: &str) -> Option<&Edn> {
        match self {
            Edn::Map(entries) => entries
                .iter()
                .find(|(key, _)| matches!(key, Edn::Keyword(keyword) if keyword == name))
                .map(|(_, value)| value),
            _ => None,
        }
    }
}

impl fmt::Display for Edn {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let join = |formatter: &mut fmt::Formatter<'_>, open: &str, items: &[Edn], close: &str| {
            write!(formatter, "{open}")?;
            for (index, item) in items.iter().enumerate() {
                write!(formatter, "{}{item}", if index == 0 { "" } else { " " })?;
            }
            write!(formatter, "{close}")
        };
        match self {
            Edn::Nil => write!(formatter, "nil"),
            Edn::Bool(value) => write!(formatter, "{value}"),
            Edn::Integer(value) => write!(formatter, "{value}"),
            Edn::Float(text) | Edn::Symbol(text) => write!(formatter, "{text}"),
            Edn::String(text) => write!(formatter, "{text:?}"),
            Edn::Keyword(name) => write!(formatter, ":{name}"),
            Edn::Vector(items) => join(formatter, "[", items, "]"),
            Edn::List(items) => join(formatter, "(", items, ")"),
            Edn::Set(items) => join(formatter, "#{", items, "}"),
            Edn::Map(entries) => {
                write!(formatter, "{{")?;
                for (index, (key, value)) in entries.iter().enumerate() {
                    write!(formatter, "{}{key} {value}", if index == 0 { "" } else { ", " })?;
                }
                write!(formatter, "}}")
            }
        }
    }
}

/// A top-level form and the line it starts on. For a top-level vector, `element_lines` holds
/// the line each element starts on (a history written as one vector of op maps).
#[derive(Clone, Debug, PartialEq)]
pub struct Form {
    pub line: usize,
    pub value: Edn,
    pub element_lines: Vec<usize>,
}

/// Where and why the text is not EDN.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EdnError {
    pub line: usize,
    pub problem: String,
}

/// Nesting deeper than this is refused rather than followed.
const DEPTH_MAX: usize = 256;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Container {
    Vector,
    List,
    Set,
    Map,
}

impl Container {
    fn closer(self) -> char {
        match self {
            Container::Vector => ']',
            Container::List => ')',
            Container::Set | Container::Map => '}',
        }
    }

    fn name(self) -> &'static str {
        match self {
            Container::Vector => "vector",
            Container::List => "list",
            Container::Set => "set",
            Container::Map => "map",
        }
    }
}

struct Open {
    container: Container,
    line: usize,
    items: Vec<Edn>,
}

/// Parses every top-level form of `text`.
pub fn parse_forms(text: &str) -> Result<Vec<Form>, EdnError> {
    let mut parser = Parser { chars: text.chars().collect(), index: 0, line: 1 };
    let mut forms: Vec<Form> = Vec::new();
    let mut stack: Vec<Open> = Vec::new();
    let mut top_element_lines: Vec<usize> = Vec::new();
    // Each iteration consumes at least one character, so the loop is bounded by the text length.
    loop {
        parser.skip_blank();
        let Some(next) = parser.peek() else { break };
        let start_line = parser.line;
        let completed: Option<(Edn, usize)> = match next {
            '[' | '(' | '{' => {
                parser.index += 1;
                let container = match next {
                    '[' => Container::Vector,
                    '(' => Container::List,
                    _ => Container::Map,
                };
                push_open(&mut stack, container, start_line)?;
                None
            }
            '#' if parser.peek_at(1) == Some('{') => {
                parser.index += 2;
                push_open(&mut stack, Container::Set, start_line)?;
                None
            }
            '#' => {
                // A tagged literal (`#inst "..."`, `#jepsen.history.Op{...}`): keep the value.
                parser.index += 1;
                parser.take_token();
                None
            }
            ']' | ')' | '}' => {
                parser.index += 1;
                let Some(open) = stack.pop() else {
                    return Err(EdnError { line: start_line, problem: format!("unexpected '{next}'") });
                };
                if open.container.closer() != next {
                    return Err(EdnError {
                        line: start_line,
                        problem: format!("'{next}' closes the {} opened at line {}", open.container.name(), open.line),
                    });
                }
                let open_line = open.line;
                Some((close(open, start_line)?, open_line))
            }
            '"' => Some((Edn::String(parser.string()?), start_line)),
            _ => Some((atom(&parser.take_token(), start_line)?, start_line)),
        };
        let Some((value, value_line)) = completed else { continue };
        let depth = stack.len();
        match stack.last_mut() {
            Some(open) => {
                if depth == 1 {
                    top_element_lines.push(value_line);
                }
                open.items.push(value);
            }
            None => {
                let element_lines = std::mem::take(&mut top_element_lines);
                forms.push(Form { line: value_line, value, element_lines });
            }
        }
    }
    if let Some(open) = stack.last() {
        return Err(EdnError {
            line: parser.line,
            problem: format!("truncated: the {} opened at line {} is never closed", open.container.name(), open.line),
        });
    }
    Ok(forms)
}

fn push_open(stack: &mut Vec<Open>, container: Container, line: usize) -> Result<(), EdnError> {
    if stack.len() >= DEPTH_MAX {
        return Err(EdnError { line, problem: format!("nested deeper than {DEPTH_MAX} levels") });
    }
    stack.push(Open { container, line, items: Vec::new() });
    Ok(())
}

fn close(open: Open, line: usize) -> Result<Edn, EdnError> {
    Ok(match open.container {
        Container::Vector => Edn::Vector(open.items),
        Container::List => Edn::List(open.items),
        Container::Set => Edn::Set(open.items),
        Container::Map => {
            if !open.items.len().is_multiple_of(2) {
                return Err(EdnError {
                    line,
                    problem: format!("the map opened at line {} has a key without a value", open.line),
                });
            }
            let mut items = open.items.into_iter();
            let mut entries = Vec::new();
            while let (Some(key), Some(value)) = (items.next(), items.next()) {
                entries.push((key, value));
            }
            Edn::Map(entries)
        }
    })
}

fn atom(token: &str, line: usize) -> Result<Edn, EdnError> {
    let problem = |what: &str| EdnError { line, problem: format!("{what} '{token}'") };
    Ok(match token {
        "" => return Err(problem("unexpected character")),
        "nil" => Edn::Nil,
        "true" => Edn::Bool(true),
        "false" => Edn::Bool(false),
        _ if token.starts_with(':') => {
            if token.len() == 1 {
                return Err(problem("empty keyword"));
            }
            Edn::Keyword(token[1..].to_string())
        }
        _ if starts_number(token) => match token.trim_end_matches('N').parse::<i64>() {
            Ok(integer) => Edn::Integer(integer),
            Err(_) if token.parse::<f64>().is_ok() || token.ends_with('M') => Edn::Float(token.to_string()),
            Err(_) => return Err(problem("bad number")),
        },
        _ => Edn::Symbol(token.to_string()),
    })
}

fn starts_number(token: &str) -> bool {
    let mut chars = token.chars();
    match chars.next() {
        Some(first) if first.is_ascii_digit() => true,
        Some('-' | '+') => chars.next().is_some_and(|second| second.is_ascii_digit()),
        _ => false,
    }
}

struct Parser {
    chars: Vec<char>,
    index: usize,
    line: usize,
}

impl Parser {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.index).copied()
    }

    fn peek_at(&self, ahead: usize) -> Option<char> {
        self.chars.get(self.index + ahead).copied()
    }

    fn skip_blank(&mut self) {
        while let Some(next) = self.peek() {
            match next {
                '\n' => self.line += 1,
                ';' => {
                    while self.peek().is_some_and(|next| next != '\n') {
                        self.index += 1;
                    }
                    continue;
                }
                _ if next.is_whitespace() || next == ',' => {}
                _ => return,
            }
            self.index += 1;
        }
    }

    /// A run of characters up to the next delimiter.
    fn take_token(&mut self) -> String {
        let start = self.index;
        while let Some(next) = self.peek() {
            if next.is_whitespace() || matches!(next, ',' | '(' | ')' | '[' | ']' | '{' | '}' | '"' | ';') {
                break;
            }
            self.index += 1;
        }
        self.chars[start..self.index].iter().collect()
    }

    fn string(&mut self) -> Result<String, EdnError> {
        let start_line = self.line;
        self.index += 1;
        let mut text = String::new();
        loop {
            let Some(next) = self.peek() else {
                return Err(EdnError { line: start_line, problem: "truncated: unterminated string".to_string() });
            };
            self.index += 1;
            match next {
                '"' => return Ok(text),
                '\\' => {
                    let escaped = self.peek().ok_or_else(|| EdnError {
                        line: self.line,
                        problem: "truncated: unterminated string".to_string(),
                    })?;
                    self.index += 1;
                    text.push(match escaped {
                        'n' => '\n',
                        't' => '\t',
                        'r' => '\r',
                        other => other,
                    });
                }
                '\n' => {
                    self.line += 1;
                    text.push('\n');
                }
                other => text.push(other),
            }
        }
    }
}
