//! The rules the differ itself judges by, beside the model's ([`tcpcheck_model::conn::rules`]):
//! what socket calls return, and segments of no connection.

use tcpcheck_model::rule::Rule;

pub const ACCEPT_FIFO: Rule =
    Rule::linux("inet_csk_accept").says("the accept queue is first in, first out");
pub const ESTABLISHED_BY_FINAL_ACK: Rule =
    Rule::rfc(9293, "3.10.7.4").says("a connection is established by the final ACK");
pub const EAGAIN_ONLY_NONBLOCKING: Rule =
    Rule::posix("accept(), connect(), recv(), send()").says("EAGAIN only with O_NONBLOCK");
pub const EINPROGRESS_ONLY_NONBLOCKING: Rule =
    Rule::posix("connect()").says("EINPROGRESS only with O_NONBLOCK");
pub const BLOCKING_SEND_WAITS: Rule =
    Rule::posix("send()").says("a blocking send waits until all its data is queued");
pub const RECEIVE_IN_ORDER: Rule =
    Rule::rfc(9293, "3.10.3").says("RECEIVE returns data received in order");
pub const SEND: Rule = Rule::rfc(9293, "3.10.2").says("SEND");
pub const FAST_OPEN_CLIENT_OFF: Rule = Rule::linux("tcp_sendmsg_fastopen")
    .says("MSG_FASTOPEN fails with EOPNOTSUPP while net.ipv4.tcp_fastopen lacks bit 0x1");
pub const FAST_OPEN_DEFER: Rule = Rule::linux("tcp_fastopen_defer_connect")
    .says("connect() with TCP_FASTOPEN_CONNECT defers the SYN exactly when it can carry data");
pub const NO_CONNECTION: Rule =
    Rule::rfc(9293, "3.10").says("no connection of the stack's sends this segment");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shown_as_before() {
        assert_eq!(
            EAGAIN_ONLY_NONBLOCKING.to_string(),
            "POSIX.1-2017 accept(), connect(), recv(), send(): EAGAIN only with O_NONBLOCK"
        );
        assert_eq!(SEND.to_string(), "RFC 9293 3.10.2: SEND");
    }
}
