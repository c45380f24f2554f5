//! System calls and their expressions: `setsockopt(3, SOL_SOCKET, SO_LINGER, {l_onoff=1,
//! l_linger=0}, 8) = 0`, with where each part was written (see [`CallSpans`]).

use super::super::ast::*;
use super::super::lexer::Tok;
use super::{PResult, Parser, MAX_DEPTH};

impl Parser<'_, '_> {
    pub(super) fn syscall(&mut self) -> PResult<Syscall> {
        let end = if self.peek().tok == Tok::Ellipsis {
            self.bump();
            Some(self.time()?)
        } else {
            None
        };
        let t = *self.peek();
        let name = match t.tok {
            Tok::Word(w) => {
                self.bump();
                w.to_string()
            }
            _ => return Err(self.unexpected("a system call name")),
        };
        let mut spans = CallSpans {
            name: self.span(t.start, t.end),
            ..CallSpans::default()
        };
        self.expect_punct('(', &format!("`(` after `{name}`"))?;
        self.expr_spans.clear();
        let args = self.expr_list(')', 0)?;
        self.expect_punct('=', "`=` and the expected result")?;
        let result = self.expr(0, false)?;
        spans.exprs = std::mem::take(&mut self.expr_spans);
        let mut errno = None;
        let t = *self.peek();
        if let Tok::Word(w) = t.tok {
            spans.errno = Some(self.span(t.start, t.end));
            self.bump();
            if !self.is_punct('(') {
                return Err(self.unexpected(&format!(
                    "the description of `{w}` in parentheses, e.g. `(Connection refused)`"
                )));
            }
            errno = Some(Errno {
                name: w.to_string(),
                description: self.note()?,
            });
        }
        let note = if self.is_punct('(') {
            Some(self.note()?)
        } else {
            None
        };
        if !self.starts_event() {
            return Err(self.unexpected("an errno, a `(note)` or the next event"));
        }
        self.call_spans = Some(spans);
        Ok(Syscall {
            end,
            name,
            args,
            result,
            errno,
            note,
        })
    }

    /// `(words ...)`: only plain words, as in packetdrill, so the text round-trips.
    fn note(&mut self) -> PResult<String> {
        self.expect_punct('(', "`(`")?;
        let mut words = Vec::new();
        while let Tok::Word(w) = self.peek().tok {
            self.bump();
            words.push(w);
        }
        if words.is_empty() {
            return Err(self.unexpected("words in the parenthesised description"));
        }
        self.expect_punct(')', "`)` or a word in the parenthesised description")?;
        Ok(words.join(" "))
    }

    /// Items up to `close`, which is consumed; the opening delimiter already was.
    fn expr_list(&mut self, close: char, depth: usize) -> PResult<Vec<Expr>> {
        let mut items = Vec::new();
        if self.eat_punct(close) {
            return Ok(items);
        }
        loop {
            items.push(self.expr(depth, true)?);
            if self.eat_punct(close) {
                return Ok(items);
            }
            self.expect_punct(',', &format!("`,` or `{close}`"))?;
        }
    }

    /// `calls` is false only for a system call's result outside any brackets: there a word
    /// followed by `(` is the result and a note, as in packetdrill (`= X (note)`).
    fn expr(&mut self, depth: usize, calls: bool) -> PResult<Expr> {
        let start = self.peek().start;
        let first = self.primary(depth, calls)?;
        if self.is_punct('|') {
            let mut items = vec![first];
            while self.eat_punct('|') {
                items.push(self.primary(depth, calls)?);
            }
            return Ok(self.spanned(start, Expr::Or(items)));
        }
        if matches!(first, Expr::Word(_) | Expr::Call(..)) && self.is_punct('=') {
            self.check_depth(depth + 1)?;
            self.bump();
            let rhs = self.expr(depth + 1, calls)?;
            return Ok(self.spanned(start, Expr::Assign(Box::new(first), Box::new(rhs))));
        }
        Ok(first)
    }

    /// Records where `e`, just parsed from `start`, was written (after its parts).
    fn spanned(&mut self, start: usize, e: Expr) -> Expr {
        let span = self.span(start, self.last_end());
        self.expr_spans.push(span);
        e
    }

    fn check_depth(&self, depth: usize) -> PResult<()> {
        if depth > MAX_DEPTH {
            let t = self.peek();
            return Err(self.err_at(
                t,
                format!("expression nested deeper than {MAX_DEPTH} levels"),
            ));
        }
        Ok(())
    }

    fn primary(&mut self, depth: usize, calls: bool) -> PResult<Expr> {
        let t = *self.peek();
        let e = match t.tok {
            Tok::Ellipsis => {
                self.bump();
                Expr::Ellipsis
            }
            Tok::Int(s) => {
                self.bump();
                Expr::Int(
                    s.parse()
                        .map_err(|_| self.err_at(&t, "integer out of range for 64 bits"))?,
                )
            }
            Tok::Hex(s) => {
                self.bump();
                Expr::Hex(
                    u64::from_str_radix(&s[2..], 16)
                        .map_err(|_| self.err_at(&t, "integer out of range for 64 bits"))?,
                )
            }
            Tok::Word(w) => {
                self.bump();
                if calls && self.is_punct('(') {
                    self.check_depth(depth + 1)?;
                    self.bump();
                    Expr::Call(w.to_string(), self.expr_list(')', depth + 1)?)
                } else {
                    Expr::Word(w.to_string())
                }
            }
            Tok::Str(s) => {
                self.bump();
                let mut parts = vec![s.to_string()];
                while let Tok::Str(more) = self.peek().tok {
                    self.bump();
                    parts.push(more.to_string());
                }
                if parts.len() > 1 {
                    Expr::Concat(parts)
                } else if self.peek().tok == Tok::Ellipsis {
                    self.bump();
                    Expr::StrPrefix(parts.remove(0))
                } else {
                    Expr::Str(parts.remove(0))
                }
            }
            Tok::Punct(open @ ('[' | '{')) => {
                self.check_depth(depth + 1)?;
                self.bump();
                if open == '[' {
                    Expr::List(self.expr_list(']', depth + 1)?)
                } else {
                    Expr::Struct(self.expr_list('}', depth + 1)?)
                }
            }
            Tok::Punct('&') => {
                self.check_depth(depth + 1)?;
                self.bump();
                Expr::AddrOf(Box::new(self.primary(depth + 1, calls)?))
            }
            _ => return Err(self.unexpected("an expression")),
        };
        Ok(self.spanned(t.start, e))
    }
}
