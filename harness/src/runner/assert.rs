//! `%{ assert tcpi_... }%` blocks: packetdrill runs them as Python with the socket's
//! TCP_INFO bound to `tcpi_*` names. tcpcheck supports the part scripts use to check state:
//! `assert tcpi_FIELD OP VALUE[, message]` statements, one per line or `;`-separated, where
//! VALUE is a number or a `TCP_*` state name. Anything else is refused with its position,
//! rather than guessed at.

use crate::observe::TcpInfo;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Op {
    fn holds(self, a: i64, b: i64) -> bool {
        match self {
            Op::Eq => a == b,
            Op::Ne => a != b,
            Op::Lt => a < b,
            Op::Le => a <= b,
            Op::Gt => a > b,
            Op::Ge => a >= b,
        }
    }

    fn text(self) -> &'static str {
        match self {
            Op::Eq => "==",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
        }
    }
}

/// One `assert tcpi_field op value` statement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Assertion {
    pub field: String,
    pub op: Op,
    pub value: i64,
    /// As written, for reports.
    pub text: String,
}

/// Linux's TCP state numbers (include/net/tcp_states.h), as packetdrill's Python sees them.
const STATES: [(&str, i64); 12] = [
    ("TCP_ESTABLISHED", 1),
    ("TCP_SYN_SENT", 2),
    ("TCP_SYN_RECV", 3),
    ("TCP_FIN_WAIT1", 4),
    ("TCP_FIN_WAIT2", 5),
    ("TCP_TIME_WAIT", 6),
    ("TCP_CLOSE", 7),
    ("TCP_CLOSE_WAIT", 8),
    ("TCP_LAST_ACK", 9),
    ("TCP_LISTEN", 10),
    ("TCP_CLOSING", 11),
    ("TCP_NEW_SYN_RECV", 12),
];

/// Parses a code block; `Err` says which statement is not supported.
pub fn parse(code: &str) -> Result<Vec<Assertion>, String> {
    let mut out = Vec::new();
    for stmt in code
        .split(['\n', ';'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        let unsupported = || {
            format!(
                "`{stmt}`: only `assert tcpi_FIELD OP VALUE` statements are supported in code \
                 blocks (OP one of == != < <= > >=, VALUE a number or a TCP_* state)"
            )
        };
        let Some(rest) = stmt.strip_prefix("assert ") else {
            return Err(unsupported());
        };
        // A message after a comma is only shown by Python on failure; we show our own.
        let cond = rest.split(',').next().unwrap_or_default().trim();
        let ops = [
            ("==", Op::Eq),
            ("!=", Op::Ne),
            ("<=", Op::Le),
            (">=", Op::Ge),
            ("<", Op::Lt),
            (">", Op::Gt),
        ];
        let Some((at, sym, op)) = ops
            .iter()
            .find_map(|(sym, op)| cond.find(sym).map(|at| (at, *sym, *op)))
        else {
            return Err(unsupported());
        };
        let field = cond[..at].trim();
        let value = cond[at + sym.len()..].trim();
        if !field.starts_with("tcpi_") || field_value(&TcpInfo::from_bytes(&[]), field).is_none() {
            return Err(format!("`{field}`: not a TCP_INFO field tcpcheck reads"));
        }
        let value = match STATES.iter().find(|(name, _)| *name == value) {
            Some((_, n)) => *n,
            None => value.parse::<i64>().map_err(|_| unsupported())?,
        };
        out.push(Assertion {
            field: field.to_string(),
            op,
            value,
            text: cond.to_string(),
        });
    }
    Ok(out)
}

/// The value of `tcpi_<name>` as packetdrill's Python would see it (times in µs as the
/// kernel reports them).
pub fn field_value(info: &TcpInfo, name: &str) -> Option<i64> {
    let v = |x: u64| Some(x as i64);
    match name.strip_prefix("tcpi_")? {
        "state" => v(u64::from(info.state.as_u8())),
        "retransmits" => v(u64::from(info.retransmits)),
        "probes" => v(u64::from(info.probes)),
        "backoff" => v(u64::from(info.backoff)),
        "options" => v(u64::from(info.options.0)),
        "snd_wscale" => v(u64::from(info.snd_wscale)),
        "rcv_wscale" => v(u64::from(info.rcv_wscale)),
        "rto" => v(u64::from(info.rto_us)),
        "ato" => v(u64::from(info.ato_us)),
        "snd_mss" => v(u64::from(info.snd_mss)),
        "rcv_mss" => v(u64::from(info.rcv_mss)),
        "unacked" => v(u64::from(info.unacked)),
        "sacked" => v(u64::from(info.sacked)),
        "lost" => v(u64::from(info.lost)),
        "retrans" => v(u64::from(info.retrans)),
        "pmtu" => v(u64::from(info.pmtu)),
        "rcv_ssthresh" => v(u64::from(info.rcv_ssthresh)),
        "rtt" => v(u64::from(info.rtt_us)),
        "rttvar" => v(u64::from(info.rttvar_us)),
        "snd_ssthresh" => v(u64::from(info.snd_ssthresh)),
        "snd_cwnd" => v(u64::from(info.snd_cwnd)),
        "advmss" => v(u64::from(info.advmss)),
        "reordering" => v(u64::from(info.reordering)),
        "total_retrans" => v(u64::from(info.total_retrans)),
        "bytes_acked" => v(info.bytes_acked),
        "bytes_received" => v(info.bytes_received),
        "segs_out" => v(u64::from(info.segs_out)),
        "segs_in" => v(u64::from(info.segs_in)),
        "snd_wnd" => v(u64::from(info.snd_wnd)),
        "rcv_wnd" => v(u64::from(info.rcv_wnd)),
        _ => None,
    }
}

/// Checks the assertions against `info`; `Err` names the first that fails and the value seen.
pub fn check(assertions: &[Assertion], info: &TcpInfo) -> Result<(), String> {
    for a in assertions {
        let got = field_value(info, &a.field).unwrap_or_default();
        if !a.op.holds(got, a.value) {
            let shown = STATES
                .iter()
                .find(|(_, n)| a.field == "tcpi_state" && *n == got)
                .map_or(got.to_string(), |(name, _)| name.to_string());
            return Err(format!(
                "assertion failed: {} (tcpi_{} is {shown}, expected {} {})",
                a.text,
                a.field.trim_start_matches("tcpi_"),
                a.op.text(),
                a.value
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_state_and_numbers() {
        let a = parse(
            " assert tcpi_state == TCP_ESTABLISHED, tcpi_state\n assert tcpi_retransmits >= 2 ",
        )
        .unwrap();
        assert_eq!(a.len(), 2);
        assert_eq!((a[0].op, a[0].value), (Op::Eq, 1));
        assert_eq!((a[1].op, a[1].value), (Op::Ge, 2));
    }

    #[test]
    fn refuses_python() {
        assert!(parse("import os").is_err());
        assert!(parse("assert tcpi_bogus == 1").is_err());
        assert!(parse("assert tcpi_state == maybe").is_err());
    }

    #[test]
    fn reports_the_value_seen() {
        let a = parse("assert tcpi_state == TCP_CLOSE_WAIT").unwrap();
        let info = TcpInfo::from_bytes(&[1]);
        let e = check(&a, &info).unwrap_err();
        assert!(e.contains("TCP_ESTABLISHED"), "{e}");
    }
}
