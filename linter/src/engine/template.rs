//! Message templates: text with `{expr}` placeholders, each a CEL expression over the
//! fact. `{{` and `}}` stand for literal braces. Every value read from input is made
//! printable before it is placed, so a hostile interface name cannot drive the terminal.

use crate::source::{printable, printable_path};

/// A compiled template.
pub struct Template {
    parts: Vec<Part>,
}

enum Part {
    Text(String),
    Expr(Box<cel::Program>),
}

impl std::fmt::Debug for Template {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Template({} parts)", self.parts.len())
    }
}

impl Template {
    /// Compiles a template; the error says which placeholder is wrong and why.
    pub fn compile(text: &str) -> Result<Template, String> {
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '{' if chars.peek() == Some(&'{') => {
                    chars.next();
                    literal.push('{');
                }
                '}' if chars.peek() == Some(&'}') => {
                    chars.next();
                    literal.push('}');
                }
                '{' => {
                    let mut expr = String::new();
                    let mut depth = 0;
                    loop {
                        match chars.next() {
                            None => {
                                return Err(format!(
                                    "placeholder `{{{expr}` is not closed with `}}`"
                                ));
                            }
                            Some('}') if depth == 0 => break,
                            Some(c) => {
                                depth += i32::from(c == '{') - i32::from(c == '}');
                                expr.push(c);
                            }
                        }
                    }
                    let program = compile(expr.trim())
                        .map_err(|e| format!("placeholder `{{{expr}}}`: {e}"))?;
                    parts.push(Part::Text(std::mem::take(&mut literal)));
                    parts.push(Part::Expr(Box::new(program)));
                }
                '}' => return Err("a lone `}` must be written `}}`".to_string()),
                c => literal.push(c),
            }
        }
        parts.push(Part::Text(literal));
        Ok(Template { parts })
    }

    /// The expressions of the placeholders, in order.
    pub fn programs(&self) -> impl Iterator<Item = &cel::Program> {
        self.parts.iter().filter_map(|part| match part {
            Part::Expr(program) => Some(&**program),
            Part::Text(_) => None,
        })
    }

    /// Renders the template with the fact's variables.
    pub fn render(&self, ctx: &cel::Context<'_, '_>) -> Result<String, String> {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                // A rule file's own text may hold escapes too (`\u001b` in TOML).
                Part::Text(text) => out.push_str(&printable_path(text)),
                Part::Expr(program) => {
                    let value = program.execute(ctx).map_err(|e| e.to_string())?;
                    out.push_str(&display(&value));
                }
            }
        }
        Ok(out)
    }
}

/// Longest expression a rule may hold, and its deepest nesting of brackets. The CEL parser
/// panics on errors past column 65 535 and recurses once per bracket; a rule needs neither.
const MAX_EXPR: usize = 2000;
const MAX_DEPTH: usize = 32;

/// Compiles one CEL expression of a rule, within [`MAX_EXPR`] and [`MAX_DEPTH`].
pub(super) fn compile(expr: &str) -> Result<cel::Program, String> {
    if expr.len() > MAX_EXPR {
        return Err(format!("the expression is {} bytes long, more than {MAX_EXPR}", expr.len()));
    }
    let mut depth = 0usize;
    for c in expr.chars() {
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        if depth > MAX_DEPTH {
            return Err(format!("the expression nests brackets deeper than {MAX_DEPTH}"));
        }
    }
    cel::Program::compile(expr).map_err(|e| format!("not a valid expression: {e}"))
}

/// A CEL value as a user reads it: strings bare, lists joined with commas.
pub(super) fn display(value: &cel::Value) -> String {
    match value {
        cel::Value::String(s) => printable(s),
        cel::Value::Int(n) => n.to_string(),
        cel::Value::UInt(n) => n.to_string(),
        cel::Value::Float(n) => n.to_string(),
        cel::Value::Bool(b) => b.to_string(),
        cel::Value::List(items) => items.iter().map(display).collect::<Vec<_>>().join(", "),
        cel::Value::Null => String::new(),
        other => printable(&format!("{other:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_placeholders_and_escaped_braces() {
        let template = Template::compile("veth `{a.name}` has MTU {a.mtu} {{ok}}").unwrap();
        let root = cel::Context::default();
        let mut ctx = root.new_inner_scope();
        let a = serde_json::json!({"name": "veth\u{1b}[2J", "mtu": 1450});
        ctx.add_variable_from_value("a", cel::to_value(a).unwrap());
        assert_eq!(template.render(&ctx).unwrap(), "veth `veth\\u{1b}[2J` has MTU 1450 {ok}");
    }

    #[test]
    fn unclosed_placeholder_is_an_error() {
        assert!(Template::compile("mtu {a.mtu").is_err());
    }
}
