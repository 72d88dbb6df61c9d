//! Assigning into a constant map (`const M = #{a: 1}; M.a = 2;`), refused when the code
//! compiles. Rhai's optimizer folds `M.a` and `M["a"]` into the value they read when `M` is a
//! constant, and the assignment's target then is a plain value, on which rhai 1.27's evaluator
//! hits an `unreachable!` and aborts adminsh. Whatever the shape (`=`, `+=`, in a function, a
//! constant of the console's scope), such a target exists only after that fold, so finding one
//! in the compiled code is exact. Other writes to constants (`M.a.b = 1`, `A[0] = 1`) are not
//! folded and rhai refuses them itself when they run, with the same message.

use rhai::{AST, ASTNode, EvalAltResult, Expr, ParseErrorType, Position, Stmt};

/// Refuses code that assigns into a constant; `text` is its source, to name the constant.
/// Scripts, `-e`, console input and imported modules (`modules.rs`) all pass through here
/// after they compile and before they run.
pub(crate) fn check(ast: &AST, text: &str) -> Result<(), Box<EvalAltResult>> {
    let mut found = None;
    ast.walk(&mut |path: &[ASTNode]| {
        if let Some(ASTNode::Stmt(Stmt::Assignment(assignment))) = path.last() {
            let target = &assignment.1.lhs;
            let assignable = matches!(
                target,
                Expr::Variable(..) | Expr::ThisPtr(..) | Expr::Index(..) | Expr::Dot(..)
            );
            if !assignable {
                found = Some(target.position());
                return false;
            }
        }
        true
    });
    let Some(pos) = found else {
        return Ok(());
    };
    Err(match name_at(text, pos) {
        Some(name) => EvalAltResult::ErrorAssignmentToConstant(name, pos),
        None => {
            EvalAltResult::ErrorParsing(ParseErrorType::AssignmentToConstant(String::new()), pos)
        }
    }
    .into())
}

/// The identifier that starts at `pos` in `text`.
fn name_at(text: &str, pos: Position) -> Option<String> {
    let line = text.lines().nth(pos.line()?.checked_sub(1)?)?;
    let name: String = line
        .chars()
        .skip(pos.position()?.checked_sub(1)?)
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    rhai::is_valid_identifier(&name).then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(code: &str) -> Option<String> {
        let mut engine = rhai::Engine::new();
        engine.set_strict_variables(true);
        let ast = engine.compile(code).unwrap();
        check(&ast, code).err().map(|e| {
            let pos = e.position();
            format!("{e}|{}", pos.position().unwrap_or(0))
        })
    }

    #[test]
    fn assignments_into_constant_maps_are_refused() {
        for (code, column) in [
            ("const M = #{a: 1}; M.a = 2;", 20),
            ("const M = #{a: 1}; M.b = 2;", 20),
            ("const M = #{a: 1}; M.a += 2;", 20),
            ("const M = #{a: 1}; M[\"a\"] = 2;", 20),
            ("fn f() { const M = #{a: 1}; M.a = 2; } f()", 29),
            ("let f = || { const M = #{a: 1}; M.a = 2; }; f.call()", 33),
            ("const M = #{a: 1};\nif true { M.a = 2 }", 11),
        ] {
            let refused = refusal(code).unwrap_or_else(|| panic!("{code:?} was not refused"));
            assert!(
                refused.starts_with("Cannot modify constant M"),
                "{code:?}: {refused}"
            );
            assert!(
                refused.ends_with(&format!("|{column}")),
                "{code:?}: {refused}"
            );
        }
    }

    #[test]
    fn other_assignments_compile() {
        for code in [
            "let m = #{a: 1}; m.a = 2;",
            "let a = [1]; a[0] = 2;",
            "const M = #{a: #{b: 1}}; let n = M; n.a.b = 2;",
            "let m = #{}; m.x += 1;",
            "const A = [1]; let b = A; b[0] = 2;",
        ] {
            assert_eq!(refusal(code), None, "{code:?}");
        }
    }

    #[test]
    fn a_constant_of_the_scope_is_named_too() {
        let engine = rhai::Engine::new();
        let mut scope = rhai::Scope::new();
        scope.push_constant("C", rhai::Map::from([("x".into(), 1.into())]));
        let code = "C.x = 2";
        let ast = engine.compile_with_scope(&scope, code).unwrap();
        let error = check(&ast, code).unwrap_err();
        assert_eq!(
            error.to_string(),
            "Cannot modify constant C (line 1, position 1)"
        );
        assert!(
            check(&ast, "").is_err(),
            "without the text it is still refused"
        );
    }
}
