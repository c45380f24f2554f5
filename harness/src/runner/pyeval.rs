//! The Python of packetdrill's code blocks, evaluated without starting python3 when every
//! block is within a small subset: `assert TEST[, MESSAGE]`, `NAME = EXPR`, `NAME += EXPR`
//! (and `-=`, `*=`), `print(...)` and `pass`, over integers, strings and booleans, with
//! Python's operators and comparison chains. Starting python3 costs tens of milliseconds per
//! script, more than all the rest of a script's fixed cost.
//!
//! Only a pass is decided here. Anything outside the subset (a name never assigned, a type
//! Python would refuse, a float, a keyword, a syntax this parser does not know) gives
//! [`Outcome::Python`], and so does an assertion that does not hold: python3 then runs the
//! whole program as before, so every failure, and its message, is Python's own. A program
//! this module passes is one whose every statement it evaluated, with Python's semantics.

use std::collections::HashMap;

use super::python::{Fragment, SYMBOLS};

/// What the native evaluation found.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Every block ran and every assertion held.
    Pass,
    /// Run the program with python3 (outside the subset, or an assertion failed).
    Python,
}

/// Evaluates every fragment in order, each after its own `tcpi_*` values, as
/// [`super::python::program`] lays them out for python3.
pub fn run(fragments: &[Fragment]) -> Outcome {
    let mut env: HashMap<String, Value> = HashMap::new();
    // Parse everything first: Python compiles the whole program before running any of it.
    let mut parsed = Vec::new();
    for f in fragments {
        match statements(&f.code) {
            Some(s) => parsed.push(s),
            None => return Outcome::Python,
        }
    }
    for (f, stmts) in fragments.iter().zip(&parsed) {
        for (name, value) in SYMBOLS.iter().copied().chain(f.vars.iter().copied()) {
            env.insert(name.to_string(), Value::Int(i128::from(value)));
        }
        for s in stmts {
            if exec(s, &mut env).is_none() {
                return Outcome::Python;
            }
        }
    }
    Outcome::Pass
}

#[derive(Clone, Debug, PartialEq)]
enum Value {
    Int(i128),
    Bool(bool),
    Str(String),
    Tuple(Vec<Value>),
}

impl Value {
    fn truthy(&self) -> bool {
        match self {
            Value::Int(i) => *i != 0,
            Value::Bool(b) => *b,
            Value::Str(s) => !s.is_empty(),
            Value::Tuple(t) => !t.is_empty(),
        }
    }

    /// The integer of an int or a bool (Python's bool is an int).
    fn int(&self) -> Option<i128> {
        match self {
            Value::Int(i) => Some(*i),
            Value::Bool(b) => Some(i128::from(*b)),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Expr {
    Int(i128),
    Str(String),
    Bool(bool),
    Name(String),
    Tuple(Vec<Expr>),
    Unary(char, Box<Expr>),
    Not(Box<Expr>),
    Binary(&'static str, Box<Expr>, Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    /// `a < b <= c`: operands and the operators between them.
    Compare(Vec<Expr>, Vec<&'static str>),
}

#[derive(Debug, PartialEq)]
enum Stmt {
    /// The message is parsed (Python compiles it) but evaluated only if the test fails,
    /// and a failing test goes to python3.
    Assert(Expr),
    Assign(String, Expr),
    Augment(String, &'static str, Expr),
    Print(Vec<Expr>),
    Pass,
}

// --- tokens ---

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Name(String),
    Int(i128),
    Str(String),
    Op(&'static str),
    End,
}

const OPS: [&str; 27] = [
    "**", "//", "<<", ">>", "<=", ">=", "==", "!=", "+=", "-=", "*=", "(", ")", ",", "+", "-", "*",
    "%", "&", "|", "^", "~", "<", ">", "=", ";", "/",
];

/// Python's keywords: none may be a name, and only some are known here.
const KEYWORDS: [&str; 35] = [
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue",
    "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import",
    "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while",
    "with", "yield",
];

/// The logical lines of `code` (packetdrill strips blanks and tabs from the block's ends),
/// each a list of tokens; `None` on anything this lexer does not know.
fn logical_lines(code: &str) -> Option<Vec<Vec<Tok>>> {
    let code = code.trim_matches([' ', '\t']);
    let chars: Vec<char> = code.chars().collect();
    let mut lines = Vec::new();
    let mut cur = Vec::new();
    let mut depth = 0usize;
    let mut at_line_start = true;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if at_line_start && depth == 0 {
            // Indentation at the top level is an IndentationError: Python's to report.
            if c == ' ' || c == '\t' {
                let mut j = i;
                while matches!(chars.get(j), Some(' ' | '\t')) {
                    j += 1;
                }
                // A line of blanks (or blanks and a comment) is no statement.
                if !matches!(chars.get(j), None | Some('\n' | '#')) {
                    return None;
                }
                i = j;
                continue;
            }
            at_line_start = false;
        }
        match c {
            '\n' => {
                if depth == 0 {
                    if !cur.is_empty() {
                        lines.push(std::mem::take(&mut cur));
                    }
                    at_line_start = true;
                }
                i += 1;
            }
            ' ' | '\t' => i += 1,
            '#' => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            '\\' => {
                // An explicit continuation: a backslash right before the end of the line.
                if chars.get(i + 1) != Some(&'\n') {
                    return None;
                }
                i += 2;
            }
            '\'' | '"' => {
                let mut s = String::new();
                i += 1;
                loop {
                    let q = *chars.get(i)?;
                    i += 1;
                    if q == c {
                        break;
                    }
                    if q == '\\' || q == '\n' {
                        return None;
                    }
                    s.push(q);
                }
                // Adjacent literals, prefixes (f'', b''), triple quotes: left to Python.
                if matches!(cur.last(), Some(Tok::Str(_)))
                    || s.is_empty() && chars.get(i) == Some(&c)
                {
                    return None;
                }
                cur.push(Tok::Str(s));
            }
            '0'..='9' => {
                let start = i;
                while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
                let text: String = chars[start..i].iter().collect();
                if chars.get(i) == Some(&'.') {
                    return None;
                }
                cur.push(Tok::Int(int_literal(&text)?));
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                let start = i;
                while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
                let name: String = chars[start..i].iter().collect();
                // A string prefix (r'', f'', b''): left to Python.
                if matches!(chars.get(i), Some('\'' | '"')) {
                    return None;
                }
                cur.push(Tok::Name(name));
            }
            _ => {
                let rest: String = chars[i..chars.len().min(i + 2)].iter().collect();
                let op = OPS.iter().find(|op| rest.starts_with(**op))?;
                match *op {
                    "(" => depth += 1,
                    ")" => depth = depth.checked_sub(1)?,
                    _ => {}
                }
                i += op.len();
                if *op == ";" && depth == 0 {
                    if cur.is_empty() {
                        return None;
                    }
                    lines.push(std::mem::take(&mut cur));
                    continue;
                }
                cur.push(Tok::Op(op));
            }
        }
    }
    if depth != 0 {
        return None;
    }
    if !cur.is_empty() {
        lines.push(cur);
    }
    Some(lines)
}

/// Python 3's integer literals: decimal without leading zeros, 0x, 0o, 0b; underscores
/// between digits.
fn int_literal(text: &str) -> Option<i128> {
    let (digits, radix) = match text.get(..2) {
        Some("0x" | "0X") => (&text[2..], 16),
        Some("0o" | "0O") => (&text[2..], 8),
        Some("0b" | "0B") => (&text[2..], 2),
        _ => {
            if text.len() > 1 && text.starts_with('0') && text.chars().any(|c| c != '0') {
                return None;
            }
            (text, 10)
        }
    };
    if digits.is_empty()
        || digits.starts_with('_')
        || digits.ends_with('_')
        || digits.contains("__")
    {
        return None;
    }
    i128::from_str_radix(&digits.replace('_', ""), radix).ok()
}

// --- parser ---

fn statements(code: &str) -> Option<Vec<Stmt>> {
    let mut out = Vec::new();
    for mut toks in logical_lines(code)? {
        toks.push(Tok::End);
        let mut p = Parser { t: &toks, i: 0 };
        out.push(p.statement()?);
        if p.peek() != &Tok::End {
            return None;
        }
    }
    Some(out)
}

struct Parser<'a> {
    t: &'a [Tok],
    i: usize,
}

impl Parser<'_> {
    fn peek(&self) -> &Tok {
        &self.t[self.i.min(self.t.len() - 1)]
    }

    fn next(&mut self) -> Tok {
        let t = self.peek().clone();
        self.i += 1;
        t
    }

    fn eat(&mut self, op: &str) -> bool {
        if matches!(self.peek(), Tok::Op(o) if *o == op) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn statement(&mut self) -> Option<Stmt> {
        match self.peek().clone() {
            Tok::Name(n) if n == "assert" => {
                self.i += 1;
                // `assert a, b, c` is a syntax error: the test and the message are one
                // expression each, never a bare tuple.
                let test = self.test()?;
                if self.eat(",") {
                    self.test()?;
                }
                Some(Stmt::Assert(test))
            }
            Tok::Name(n) if n == "pass" => {
                self.i += 1;
                Some(Stmt::Pass)
            }
            Tok::Name(n) if n == "print" => {
                self.i += 1;
                if !self.eat("(") {
                    return None;
                }
                let mut args = Vec::new();
                if !self.eat(")") {
                    loop {
                        args.push(self.test()?);
                        if self.eat(")") {
                            break;
                        }
                        if !self.eat(",") {
                            return None;
                        }
                        if self.eat(")") {
                            break;
                        }
                    }
                }
                Some(Stmt::Print(args))
            }
            Tok::Name(n) if !KEYWORDS.contains(&n.as_str()) => {
                self.i += 1;
                let stmt = match self.next() {
                    Tok::Op("=") => Stmt::Assign(n, self.expr()?),
                    Tok::Op("+=") => Stmt::Augment(n, "+", self.expr()?),
                    Tok::Op("-=") => Stmt::Augment(n, "-", self.expr()?),
                    Tok::Op("*=") => Stmt::Augment(n, "*", self.expr()?),
                    _ => return None,
                };
                Some(stmt)
            }
            _ => None,
        }
    }

    /// A test, or a tuple of tests (`a, b`).
    fn expr(&mut self) -> Option<Expr> {
        let first = self.test()?;
        if !matches!(self.peek(), Tok::Op(",")) {
            return Some(first);
        }
        let mut items = vec![first];
        while self.eat(",") {
            if matches!(self.peek(), Tok::End | Tok::Op(")")) {
                break;
            }
            items.push(self.test()?);
        }
        Some(Expr::Tuple(items))
    }

    fn test(&mut self) -> Option<Expr> {
        let mut left = self.and_test()?;
        while matches!(self.peek(), Tok::Name(n) if n == "or") {
            self.i += 1;
            left = Expr::Or(Box::new(left), Box::new(self.and_test()?));
        }
        Some(left)
    }

    fn and_test(&mut self) -> Option<Expr> {
        let mut left = self.not_test()?;
        while matches!(self.peek(), Tok::Name(n) if n == "and") {
            self.i += 1;
            left = Expr::And(Box::new(left), Box::new(self.not_test()?));
        }
        Some(left)
    }

    fn not_test(&mut self) -> Option<Expr> {
        if matches!(self.peek(), Tok::Name(n) if n == "not") {
            self.i += 1;
            return Some(Expr::Not(Box::new(self.not_test()?)));
        }
        self.comparison()
    }

    fn comparison(&mut self) -> Option<Expr> {
        let first = self.binary(0)?;
        let mut operands = vec![first];
        let mut ops = Vec::new();
        while let Tok::Op(op @ ("<" | ">" | "<=" | ">=" | "==" | "!=")) = self.peek() {
            ops.push(*op);
            self.i += 1;
            operands.push(self.binary(0)?);
        }
        Some(if ops.is_empty() {
            operands.pop().expect("one operand")
        } else {
            Expr::Compare(operands, ops)
        })
    }

    /// Binary operators by Python's precedence, loosest first.
    fn binary(&mut self, level: usize) -> Option<Expr> {
        const LEVELS: [&[&str]; 6] = [
            &["|"],
            &["^"],
            &["&"],
            &["<<", ">>"],
            &["+", "-"],
            &["*", "//", "%", "/"],
        ];
        if level == LEVELS.len() {
            return self.unary();
        }
        let mut left = self.binary(level + 1)?;
        while let Tok::Op(op) = self.peek() {
            let Some(op) = LEVELS[level].iter().find(|o| **o == *op) else {
                break;
            };
            self.i += 1;
            let right = self.binary(level + 1)?;
            left = Expr::Binary(op, Box::new(left), Box::new(right));
        }
        Some(left)
    }

    fn unary(&mut self) -> Option<Expr> {
        match self.peek() {
            Tok::Op(op @ ("-" | "+" | "~")) => {
                let c = op.chars().next().expect("an operator");
                self.i += 1;
                Some(Expr::Unary(c, Box::new(self.unary()?)))
            }
            _ => self.atom(),
        }
    }

    fn atom(&mut self) -> Option<Expr> {
        let e = match self.next() {
            Tok::Int(i) => Expr::Int(i),
            Tok::Str(s) => Expr::Str(s),
            Tok::Name(n) if n == "True" => Expr::Bool(true),
            Tok::Name(n) if n == "False" => Expr::Bool(false),
            Tok::Name(n) if !KEYWORDS.contains(&n.as_str()) => Expr::Name(n),
            Tok::Op("(") => {
                if self.eat(")") {
                    return Some(Expr::Tuple(Vec::new()));
                }
                let e = self.expr()?;
                if !self.eat(")") {
                    return None;
                }
                e
            }
            _ => return None,
        };
        // A call, a subscript or an attribute: left to Python.
        if matches!(self.peek(), Tok::Op("(")) {
            return None;
        }
        Some(e)
    }
}

// --- evaluation (None: left to Python) ---

fn exec(s: &Stmt, env: &mut HashMap<String, Value>) -> Option<()> {
    match s {
        Stmt::Assert(test) => eval(test, env)?.truthy().then_some(()),
        Stmt::Assign(name, e) => {
            let v = eval(e, env)?;
            env.insert(name.clone(), v);
            Some(())
        }
        Stmt::Augment(name, op, e) => {
            let left = env.get(name)?.clone();
            let right = eval(e, env)?;
            let v = arith(op, &left, &right)?;
            env.insert(name.clone(), v);
            Some(())
        }
        Stmt::Print(args) => {
            // Evaluated for their errors; the output goes nowhere, as packetdrill's
            // stdout is not part of its verdict.
            for a in args {
                let v = eval(a, env)?;
                if let Value::Tuple(_) = v {
                    return None;
                }
            }
            Some(())
        }
        Stmt::Pass => Some(()),
    }
}

fn eval(e: &Expr, env: &HashMap<String, Value>) -> Option<Value> {
    Some(match e {
        Expr::Int(i) => Value::Int(*i),
        Expr::Str(s) => Value::Str(s.clone()),
        Expr::Bool(b) => Value::Bool(*b),
        Expr::Name(n) => env.get(n)?.clone(),
        Expr::Tuple(items) => {
            Value::Tuple(items.iter().map(|i| eval(i, env)).collect::<Option<_>>()?)
        }
        Expr::Unary(op, e) => {
            let v = eval(e, env)?.int()?;
            Value::Int(match op {
                '-' => v.checked_neg()?,
                '+' => v,
                _ => !v,
            })
        }
        Expr::Not(e) => Value::Bool(!eval(e, env)?.truthy()),
        Expr::And(a, b) => {
            let a = eval(a, env)?;
            if a.truthy() {
                eval(b, env)?
            } else {
                a
            }
        }
        Expr::Or(a, b) => {
            let a = eval(a, env)?;
            if a.truthy() {
                a
            } else {
                eval(b, env)?
            }
        }
        Expr::Binary(op, a, b) => arith(op, &eval(a, env)?, &eval(b, env)?)?,
        Expr::Compare(operands, ops) => {
            let mut left = eval(&operands[0], env)?;
            for (op, right) in ops.iter().zip(&operands[1..]) {
                let right = eval(right, env)?;
                if !compare(op, &left, &right)? {
                    return Some(Value::Bool(false));
                }
                left = right;
            }
            Value::Bool(true)
        }
    })
}

fn compare(op: &str, a: &Value, b: &Value) -> Option<bool> {
    if let (Some(x), Some(y)) = (a.int(), b.int()) {
        return Some(match op {
            "<" => x < y,
            ">" => x > y,
            "<=" => x <= y,
            ">=" => x >= y,
            "==" => x == y,
            _ => x != y,
        });
    }
    match (a, b, op) {
        (Value::Str(x), Value::Str(y), "==") => Some(x == y),
        (Value::Str(x), Value::Str(y), "!=") => Some(x != y),
        // Other kinds and mixes (ordering strings, comparing tuples): left to Python.
        _ => None,
    }
}

fn arith(op: &str, a: &Value, b: &Value) -> Option<Value> {
    let (x, y) = (a.int()?, b.int()?);
    Some(Value::Int(match op {
        "+" => x.checked_add(y)?,
        "-" => x.checked_sub(y)?,
        "*" => x.checked_mul(y)?,
        // Python floors; `/` is a float division: left to Python.
        "//" => floor_div(x, y)?,
        "%" => {
            let r = x.checked_rem(y)?;
            if r != 0 && (r < 0) != (y < 0) {
                r + y
            } else {
                r
            }
        }
        "&" => x & y,
        "|" => x | y,
        "^" => x ^ y,
        "<<" => {
            if !(0..64).contains(&y) || x.unsigned_abs().leading_zeros() < 65 {
                return None;
            }
            x << y
        }
        ">>" => {
            if y < 0 {
                return None;
            }
            x >> y.min(127)
        }
        _ => return None,
    }))
}

/// Python's `x // y`: the quotient rounded toward negative infinity.
fn floor_div(x: i128, y: i128) -> Option<i128> {
    let q = x.checked_div(y)?;
    Some(if x % y != 0 && ((x < 0) != (y < 0)) {
        q - 1
    } else {
        q
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frag(line: u32, code: &str, vars: &[(&'static str, u64)]) -> Fragment {
        Fragment {
            line,
            code: code.into(),
            vars: vars.to_vec(),
        }
    }

    #[test]
    fn the_corpus_forms_pass_natively() {
        let f = [
            frag(
                1,
                " assert (tcpi_options & TCPI_OPT_SYN_DATA) == 0, tcpi_options ",
                &[("tcpi_options", 7)],
            ),
            frag(2, "\nTCP_INFINITE_SSTHRESH = 0x7fffffff\ncwnd = 10\n", &[]),
            frag(
                3,
                " print(tcpi_snd_cwnd); cwnd += 10; assert tcpi_snd_cwnd == cwnd, tcpi_snd_cwnd ",
                &[("tcpi_snd_cwnd", 20)],
            ),
            frag(
                4,
                "\nassert tcpi_ca_state == TCP_CA_Recovery, tcpi_ca_state  # a comment\n\
                 assert 5000 <= tcpi_rtt <= 20000, 'srtt=%d us' % tcpi_rtt\n\
                 assert tcpi_snd_ssthresh == TCP_INFINITE_SSTHRESH or \\\n  tcpi_lost == 0, \\\n  (tcpi_lost,)\n",
                &[("tcpi_ca_state", 3), ("tcpi_rtt", 10_000), ("tcpi_snd_ssthresh", 0x7fff_ffff), ("tcpi_lost", 1)],
            ),
        ];
        assert_eq!(run(&f), Outcome::Pass);
    }

    #[test]
    fn a_failing_assertion_goes_to_python() {
        let f = [frag(
            9,
            "assert tcpi_snd_cwnd == 10, tcpi_snd_cwnd",
            &[("tcpi_snd_cwnd", 9)],
        )];
        assert_eq!(run(&f), Outcome::Python);
        // An earlier block's failure stops the run even if later ones hold.
        let f = [frag(1, "assert 1 == 2", &[]), frag(2, "assert 1 == 1", &[])];
        assert_eq!(run(&f), Outcome::Python);
    }

    #[test]
    fn what_python_would_refuse_goes_to_python() {
        for code in [
            "assert undefined_name == 1",
            "x += 1",
            "  assert 1 == 1\n  assert 2 == 2",
            "assert 1 == 1,",
            "assert 3 / 2 == 1",
            "assert 'a' < 'b'",
            "assert 'a' + 1",
            "import os",
            "assert len('x') == 1",
            "assert 1 if 1 else 0",
            "assert 010 == 8",
            "assert 1.5 > 1",
            "if = 3",
            "assert (1 == 1",
            "print(1, file=x)",
            "assert b'x'",
            "x = 1; ; y = 2",
            "assert 1 == 1 \\ 2",
            "assert 1, 2, 3",
        ] {
            assert_eq!(run(&[frag(1, code, &[])]), Outcome::Python, "{code}");
        }
        // A syntax error in a later block fails the program before the first runs.
        let f = [frag(1, "assert 1 == 1", &[]), frag(2, "assert (", &[])];
        assert_eq!(run(&f), Outcome::Python);
    }

    #[test]
    fn python_semantics_of_operators() {
        for (code, pass) in [
            ("assert -7 // 2 == -4", true),
            ("assert 7 // -2 == -4", true),
            ("assert -7 % 3 == 2", true),
            ("assert 7 % -3 == -2", true),
            ("assert 1 << 4 | 1 == 17", true),
            ("assert 2 + 3 * 4 == 14", true),
            ("assert (0 or 5) == 5 and (3 and 0) == 0", true),
            ("assert not 0 and True == 1", true),
            ("assert 1 < 2 < 3 and not 1 < 3 < 2", true),
            ("assert ~5 == -6 and -(-5) == 5", true),
            ("assert 0x10 + 0o10 + 0b10 + 1_000 == 1026", true),
            ("assert 'a' == 'a' and 'a' != 'b'", true),
            ("assert 1 == 1 == 2", false),
            ("assert ()", false),
            ("assert 0, 1", false),
            ("assert (0, 1)", true),
        ] {
            let want = if pass { Outcome::Pass } else { Outcome::Python };
            assert_eq!(run(&[frag(1, code, &[])]), want, "{code}");
        }
    }

    /// Against python3 itself: whatever passes here passes there.
    #[test]
    fn a_native_pass_is_a_python_pass() {
        let cases = [
            "assert -7 // 2 == -4 and 7 % -3 == -2",
            "assert 1 << 4 | 1 == 17",
            "assert (0 or 5) == 5 and (3 and 0) == 0",
            "assert 1 < 2 < 3 and not 1 < 3 < 2",
            "assert 0x10 + 0o10 + 0b10 + 1_000 == 1026",
            "x = 3; x *= 2; x -= 1\nassert x == 5, 'x=%d' % x",
            "print(tcpi_snd_cwnd); assert tcpi_snd_cwnd == 10, tcpi_snd_cwnd",
            "assert (tcpi_options & TCPI_OPT_SACK) != 0, tcpi_options",
            "assert tcpi_ca_state == TCP_CA_Open and \\\n    tcpi_state == TCP_ESTABLISHED",
            "assert (tcpi_snd_cwnd ==\n  10)",
            "assert True + True == 2",
            "assert 'a' == 'a'",
            "assert 10 == 10, (1, 'two')",
            "pass",
        ];
        let vars = [
            ("tcpi_snd_cwnd", 10),
            ("tcpi_options", 7),
            ("tcpi_ca_state", 0),
            ("tcpi_state", 1),
        ];
        for code in cases {
            let f = [frag(1, code, &vars)];
            assert_eq!(run(&f), Outcome::Pass, "{code}");
            let program = crate::runner::python::program("t.pkt", &f);
            let out = std::process::Command::new("python3")
                .arg("-c")
                .arg(&program)
                .output()
                .expect("python3 is needed for this test");
            assert!(
                out.status.success(),
                "{code}: python3 says {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}
