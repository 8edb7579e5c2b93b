//! Load-time checks of a rule's expressions against the fact kind it reads.
//!
//! CEL finds an unknown name only when it evaluates it, which for a rule that never meets a
//! matching fact is never: a typo such as `hots.addr` would pass every clean dump in
//! silence. So each expression is walked once when the rule loads, and every field path it
//! reads (`host.port`, `target.workload`) is looked up in the fact kind's sample, which
//! holds every field. Names bound by a macro (`subnets.exists(s, …)`) are the macro's own.

use cel::common::ast::{EntryExpr, Expr, IdedExpr};
use serde_json::Value;

/// The field paths an expression reads that the fact does not have, as written
/// (`hots.addr`), in the order they appear.
pub fn unknown_fields(expr: &IdedExpr, sample: &Value) -> Vec<String> {
    let mut unknown = Vec::new();
    walk(&expr.expr, sample, &mut Vec::new(), &mut unknown);
    unknown
}

fn walk(expr: &Expr, sample: &Value, bound: &mut Vec<String>, unknown: &mut Vec<String>) {
    if let Some(path) = field_path(expr) {
        check_path(&path, sample, bound, unknown);
        return;
    }
    match expr {
        Expr::Select(select) => walk(&select.operand.expr, sample, bound, unknown),
        Expr::Call(call) => {
            for arg in call.target.iter().map(|t| &**t).chain(&call.args) {
                walk(&arg.expr, sample, bound, unknown);
            }
        }
        Expr::Comprehension(comp) => {
            walk(&comp.iter_range.expr, sample, bound, unknown);
            let n_bound = bound.len();
            bound.push(comp.iter_var.clone());
            bound.extend(comp.iter_var2.clone());
            bound.push(comp.accu_var.clone());
            for part in [&comp.accu_init, &comp.loop_cond, &comp.loop_step, &comp.result] {
                walk(&part.expr, sample, bound, unknown);
            }
            bound.truncate(n_bound);
        }
        Expr::List(list) => {
            for element in &list.elements {
                walk(&element.expr, sample, bound, unknown);
            }
        }
        Expr::Map(map) => {
            for entry in &map.entries {
                walk_entry(&entry.expr, sample, bound, unknown);
            }
        }
        Expr::Struct(structure) => {
            for entry in &structure.entries {
                walk_entry(&entry.expr, sample, bound, unknown);
            }
        }
        Expr::Ident(_) | Expr::Literal(_) | Expr::Unspecified => {}
    }
}

fn walk_entry(
    entry: &EntryExpr,
    sample: &Value,
    bound: &mut Vec<String>,
    unknown: &mut Vec<String>,
) {
    match entry {
        EntryExpr::StructField(field) => walk(&field.value.expr, sample, bound, unknown),
        EntryExpr::MapEntry(entry) => {
            walk(&entry.key.expr, sample, bound, unknown);
            walk(&entry.value.expr, sample, bound, unknown);
        }
    }
}

/// `a.b.c` as `["a", "b", "c"]`: an identifier and the field selections on it. A presence
/// test (`has(a.b)`) is not a read of its last field.
fn field_path(expr: &Expr) -> Option<Vec<&str>> {
    let mut path = Vec::new();
    let mut expr = expr;
    loop {
        match expr {
            Expr::Ident(name) => {
                path.push(name.as_str());
                path.reverse();
                return Some(path);
            }
            Expr::Select(select) if !select.test => {
                path.push(select.field.as_str());
                expr = &select.operand.expr;
            }
            _ => return None,
        }
    }
}

fn check_path(path: &[&str], sample: &Value, bound: &[String], unknown: &mut Vec<String>) {
    let Some((root, _)) = path.split_first() else { return };
    if bound.iter().any(|b| b == root) {
        return;
    }
    let mut value = sample;
    for (depth, field) in path.iter().enumerate() {
        // Only objects have fields: selecting one of a string, a number or a list fails on
        // every fact (a list's items are reached with a macro, `hops.exists(h, …)`).
        let Value::Object(fields) = value else {
            unknown.push(path[..=depth].join("."));
            return;
        };
        let Some(next) = fields.get(*field) else {
            unknown.push(path[..=depth].join("."));
            return;
        };
        value = next;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unknown(expr: &str) -> Vec<String> {
        let sample = serde_json::json!({
            "host": {"addr": "", "port": 0},
            "subnets": [],
            "state": "",
        });
        let program = cel::Program::compile(expr).unwrap();
        unknown_fields(program.expression(), &sample)
    }

    #[test]
    fn known_paths_pass() {
        assert!(unknown("host.port == 80 && state == 'open'").is_empty());
        assert!(unknown("subnets.exists(s, s == '10.0.0.0/8')").is_empty());
        assert!(unknown("has(host.nothing) ? 1 : 2").is_empty());
        assert!(unknown("subnets.join(', ')").is_empty());
    }

    #[test]
    fn typos_are_named_as_written() {
        assert_eq!(unknown("hots.addr == '*'"), ["hots"]);
        assert_eq!(unknown("string(host.prot)"), ["host.prot"]);
        assert_eq!(unknown("true || host.x > 1"), ["host.x"], "short-circuit does not hide it");
        assert_eq!(unknown("subnets.all(s, s != stat)"), ["stat"]);
        assert_eq!(unknown("host.addr.x == 'x'"), ["host.addr.x"], "a string has no fields");
    }
}
