//! A socket address as packetdrill's grammar spells one (parser.y `sockaddr`):
//! `{sa_family=AF_INET, sin_port=htons(8080), sin_addr=inet_addr("192.0.2.255")}`, with
//! `AF_INET6` and an IPv6 address in the same `inet_addr("...")` for IPv6. packetdrill's own
//! connect() takes only `...`; tcpcheck's takes this too, for an OPEN to an address other
//! than the peer's (RFC 9293 3.9.1.1: MUST-46, a broadcast or multicast one).

use std::net::{IpAddr, SocketAddr};

use crate::scenario::Expr;

/// The address `e` names, or why it names none.
pub fn sockaddr(e: &Expr) -> Result<SocketAddr, String> {
    const SHAPE: &str = "a socket address is `{sa_family=AF_INET, sin_port=htons(PORT), \
                         sin_addr=inet_addr(\"ADDRESS\")}` (AF_INET6 for an IPv6 address)";
    let Expr::Struct(fields) = e else {
        return Err(format!("{SHAPE}; found `{e}`"));
    };
    let field = |name: &str| {
        fields.iter().find_map(|f| match f {
            Expr::Assign(l, r) if matches!(&**l, Expr::Word(w) if w == name) => Some(&**r),
            _ => None,
        })
    };
    let (Some(family), Some(port), Some(addr), 3) = (
        field("sa_family"),
        field("sin_port"),
        field("sin_addr"),
        fields.len(),
    ) else {
        return Err(SHAPE.into());
    };
    let port = match port {
        Expr::Call(f, args) if f == "htons" => match args.as_slice() {
            [Expr::Int(p)] => u16::try_from(*p).map_err(|_| format!("port {p} out of range"))?,
            _ => return Err(SHAPE.into()),
        },
        _ => return Err(SHAPE.into()),
    };
    let ip: IpAddr = match addr {
        Expr::Call(f, args) if f == "inet_addr" => match args.as_slice() {
            [Expr::Str(s)] => s
                .parse()
                .map_err(|_| format!("`{s}` is not an IPv4 or IPv6 address"))?,
            _ => return Err(SHAPE.into()),
        },
        _ => return Err(SHAPE.into()),
    };
    match (family, ip) {
        (Expr::Word(f), IpAddr::V4(_)) if f == "AF_INET" => {}
        (Expr::Word(f), IpAddr::V6(_)) if f == "AF_INET6" => {}
        (Expr::Word(f), _) if f == "AF_INET" || f == "AF_INET6" => {
            return Err(format!("{f} does not hold the address {ip}"))
        }
        _ => {
            return Err(format!(
                "sa_family is AF_INET or AF_INET6 (found `{family}`)"
            ))
        }
    }
    Ok(SocketAddr::new(ip, port))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{parse, Action};

    fn arg(text: &str) -> Expr {
        let s = parse("t.pkt", &format!("0 connect(3, {text}, 16) = 0\n")).unwrap();
        let Action::Syscall(sc) = &s.events[0].action else {
            panic!()
        };
        sc.args[1].clone()
    }

    #[test]
    fn both_families() {
        let a =
            arg(r#"{sa_family=AF_INET, sin_port=htons(8080), sin_addr=inet_addr("224.0.0.1")}"#);
        assert_eq!(sockaddr(&a).unwrap(), "224.0.0.1:8080".parse().unwrap());
        let a = arg(r#"{sa_family=AF_INET6, sin_port=htons(80), sin_addr=inet_addr("ff02::1")}"#);
        assert_eq!(sockaddr(&a).unwrap(), "[ff02::1]:80".parse().unwrap());
    }

    #[test]
    fn connect_and_bind_decode_it_and_blame_the_argument() {
        let call = |text: &str| {
            let s = parse("t.pkt", &format!("0 {text}\n")).unwrap();
            let Action::Syscall(sc) = &s.events[0].action else {
                panic!()
            };
            sc.clone()
        };
        let sc = call(
            r#"bind(3, {sa_family=AF_INET, sin_port=htons(8080), sin_addr=inet_addr("0.0.0.0")}, 16) = 0"#,
        );
        let Ok((super::super::Decoded::Bind { fd: 3, to: Some(a) }, _)) = super::super::decode(&sc)
        else {
            panic!("decoded: {sc}")
        };
        assert_eq!(a, "0.0.0.0:8080".parse().unwrap());
        let sc = call(
            r#"bind(3, {sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr("0.0.0.0")}, 16) = 0"#,
        );
        let Err(bad) = super::super::decode(&sc) else {
            panic!("port 80 accepted")
        };
        assert!(
            bad.message.contains("the script's port, 8080"),
            "{}",
            bad.message
        );
        assert!(bad.at.is_some(), "blames the argument");
        let sc = call(
            r#"connect(3, {sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr("224.0.0.1")}, 16) = -1 ENETUNREACH (Network is unreachable)"#,
        );
        assert!(matches!(
            super::super::decode(&sc),
            Ok((super::super::Decoded::Connect { fd: 3, to: Some(_) }, _))
        ));
        let sc = call("connect(3, ..., ...) = 0");
        assert!(matches!(
            super::super::decode(&sc),
            Ok((super::super::Decoded::Connect { fd: 3, to: None }, _))
        ));
    }

    #[test]
    fn refused_shapes() {
        for bad in [
            r#"{sa_family=AF_INET6, sin_port=htons(80), sin_addr=inet_addr("224.0.0.1")}"#,
            r#"{sa_family=AF_UNIX, sin_port=htons(80), sin_addr=inet_addr("224.0.0.1")}"#,
            r#"{sa_family=AF_INET, sin_port=htons(70000), sin_addr=inet_addr("224.0.0.1")}"#,
            r#"{sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr("224.0.0")}"#,
            r#"{sa_family=AF_INET, sin_port=80, sin_addr=inet_addr("224.0.0.1")}"#,
            r#"{sa_family=AF_INET}"#,
            "[1]",
        ] {
            assert!(sockaddr(&arg(bad)).is_err(), "{bad}");
        }
    }
}
