//! Linux's connection states as RFC 9293's (§3.3.2, Figure 5), so the stack's own view of a
//! connection can be diffed with the model's.
//!
//! Linux keeps a connection in one of three kinds of socket, and names its states after the
//! RFC's in most places but not all:
//!
//! | Linux (`include/net/tcp_states.h`) | where it is read | RFC 9293 |
//! |---|---|---|
//! | `TCP_LISTEN` | `TCP_INFO` of the listener | LISTEN |
//! | `TCP_SYN_SENT` | `TCP_INFO` | SYN-SENT |
//! | `TCP_NEW_SYN_RECV` (a request socket: no descriptor, reported by inet_diag as `SYN_RECV`) | inet_diag | SYN-RECEIVED (passive open) |
//! | `TCP_SYN_RECV` (a full socket: simultaneous open, or a child before accept()) | `TCP_INFO`, inet_diag | SYN-RECEIVED |
//! | `TCP_ESTABLISHED` | `TCP_INFO`, inet_diag (a child in the accept queue) | ESTABLISHED |
//! | `TCP_FIN_WAIT1` | `TCP_INFO`, inet_diag (an orphan after close()) | FIN-WAIT-1 |
//! | `TCP_FIN_WAIT2`, full socket | `TCP_INFO` | FIN-WAIT-2 |
//! | `TCP_FIN_WAIT2` as a timewait socket's `tw_substate` (an orphan, `tcp_fin_timeout` ≤ 60 s: `tcp_time_wait(sk, TCP_FIN_WAIT2, …)`) | inet_diag (timer 3) | FIN-WAIT-2 |
//! | `TCP_CLOSE_WAIT` | `TCP_INFO` | CLOSE-WAIT |
//! | `TCP_CLOSING` | `TCP_INFO`, inet_diag | CLOSING |
//! | `TCP_LAST_ACK` | `TCP_INFO`, inet_diag | LAST-ACK |
//! | `TCP_TIME_WAIT` (a timewait socket's `tw_substate`) | inet_diag (timer 3) | TIME-WAIT |
//! | `TCP_CLOSE` on a descriptor, and a timewait socket on its endpoints | `TCP_INFO`, then inet_diag | TIME-WAIT (or FIN-WAIT-2) |
//! | `TCP_CLOSE` on a descriptor, nothing on its endpoints | `TCP_INFO`, then inet_diag | CLOSED |
//! | nothing on the endpoints, or only the listener that would take a segment | inet_diag | CLOSED (no TCB) |
//! | nothing on the endpoints of a SYN answered with a SYN cookie (RFC 4987: the state is in the cookie) | inet_diag | SYN-RECEIVED, until the final ACK |
//!
//! Two of those need the descriptor and the endpoints together. When a connection with a
//! descriptor enters TIME-WAIT (or an orphan FIN-WAIT-2), Linux hands it to a timewait
//! mini-socket and closes the full socket (`tcp_time_wait()` → `tcp_done()`): `TCP_INFO` on
//! the descriptor then says `TCP_CLOSE` while the connection lives on in the mini-socket,
//! which only inet_diag sees. So `TCP_CLOSE` on a descriptor is looked up again by endpoints.
//! And a request socket is never behind a descriptor: a passive connection before accept()
//! is read by its endpoints alone (inet_diag's lookup, the kernel's own hash probe for an
//! arriving segment, `inet_diag_find_one_icsk()`).

use tcpcheck_model::conn::State;

use super::tcp_info::TcpState;

/// The RFC 9293 state of a Linux socket state, as the table above says; `None` for a value
/// this code does not know (`TCP_BOUND_INACTIVE`, a future kernel's), which is not compared.
///
/// `TCP_CLOSE` maps to CLOSED; a caller that read it on a descriptor looks the endpoints up
/// first, since the connection may live on in a timewait socket.
pub fn rfc_state(linux: TcpState) -> Option<State> {
    Some(match linux {
        TcpState::Listen => State::Listen,
        TcpState::SynSent => State::SynSent,
        TcpState::SynRecv | TcpState::NewSynRecv => State::SynReceived,
        TcpState::Established => State::Established,
        TcpState::FinWait1 => State::FinWait1,
        TcpState::FinWait2 => State::FinWait2,
        TcpState::CloseWait => State::CloseWait,
        TcpState::Closing => State::Closing,
        TcpState::LastAck => State::LastAck,
        TcpState::TimeWait => State::TimeWait,
        TcpState::Close => State::Closed,
        TcpState::Unknown(_) => return None,
    })
}

/// What a lookup by endpoints found, as an RFC state: a socket on exactly these endpoints,
/// or CLOSED when there is none (a listener answering for them is not the connection).
pub fn rfc_state_at(found: Option<TcpState>) -> Option<State> {
    match found {
        None | Some(TcpState::Listen) => Some(State::Closed),
        Some(s) => rfc_state(s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_named_linux_state_maps_and_names_differ_where_documented() {
        for s in TcpState::ALL {
            assert!(rfc_state(s).is_some(), "{s}");
        }
        assert_eq!(rfc_state(TcpState::NewSynRecv), Some(State::SynReceived));
        assert_eq!(rfc_state(TcpState::Close), Some(State::Closed));
        assert_eq!(rfc_state(TcpState::Unknown(13)), None);
        assert_eq!(rfc_state_at(None), Some(State::Closed));
        assert_eq!(rfc_state_at(Some(TcpState::Listen)), Some(State::Closed));
        assert_eq!(
            rfc_state_at(Some(TcpState::FinWait2)),
            Some(State::FinWait2)
        );
    }
}
